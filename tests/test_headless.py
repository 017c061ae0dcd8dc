"""The headless layers never import Textual; every CLI command has help text."""

from __future__ import annotations

import json
import subprocess
import sys

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
    from pathlib import Path

    from tui_assess.cli import main

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for path, cmd in _commands(main):
        assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"
        assert f"tui-assess {' '.join(path)}" in readme, f"{' '.join(path)} missing from README"
