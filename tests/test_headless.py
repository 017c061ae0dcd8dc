"""The headless layers never import Textual; every CLI command has help text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEADLESS = [
    "tui_assess.challenge.model",
    "tui_assess.challenge.catalog",
    "tui_assess.challenge.check",
    "tui_assess.challenge.validate",
    "tui_assess.challenge.workspace",
    "tui_assess.challenge.scaffold",
    "tui_assess.judge.run",
    "tui_assess.sandbox.run",
    "tui_assess.snapshot",
    "tui_assess.cli",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_does_not_import_textual(module: str) -> None:
    code = (
        f"import json, sys, importlib; importlib.import_module({module!r}); "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout) == []


def _commands(group, prefix=()):
    import click

    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


def test_every_command_has_help_and_is_in_the_readme() -> None:
    from tui_assess.cli import main

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for path, cmd in _commands(main):
        assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"
        assert f"tui-assess {' '.join(path)}" in readme, f"{' '.join(path)} missing from README"


@pytest.mark.parametrize(
    ("args", "tui"),
    [
        ([], True),
        (["practice"], True),
        (["practice", "fix-sum"], True),
        (["practice", "--help"], False),
        (["practice", "a", "b"], False),
        (["list"], False),
        (["--version"], False),
    ],
)
def test_the_entry_point_opens_the_tui_only_for_practice(args: list[str], tui: bool) -> None:
    from tui_assess.entry import opens_the_tui

    assert opens_the_tui(args) is tui


def test_practice_starts_without_click_and_says_a_bad_challenge_in_one_line(
    tmp_path: Path,
) -> None:
    """`tui-assess practice X` skips click (issue 14: start-up) and still answers a bad
    challenge the way every command does: one sentence on stderr, exit code 2."""
    code = (
        "import sys\n"
        "from tui_assess.entry import main\n"
        "sys.argv = ['tui-assess', 'practice', 'no-such-challenge']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    print('click' in sys.modules, exc.code)\n"
    )
    env = {**os.environ, "TUI_ASSESS_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)
    assert proc.stdout.split() == ["False", "2"]
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("tui-assess: unknown challenge 'no-such-challenge'")
