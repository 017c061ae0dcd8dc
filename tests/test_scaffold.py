"""`tui-assess challenge new`: the scaffold loads, validates as it is, and refuses bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tui_assess.challenge.model import FIELDS, LIMIT_FIELDS, SEED_FIELDS, load_challenge
from tui_assess.challenge.scaffold import default_parent, new_challenge, scaffold_files
from tui_assess.errors import UserError

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, importing this checkout whatever the working folder."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "tui_assess", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


def test_manifest_has_every_field_with_todo_markers() -> None:
    text = scaffold_files("demo")["challenge.toml"]
    data = tomllib.loads(text)
    # Every field but [seed], which the example does not need: it is there, commented out.
    assert set(data) == set(FIELDS) - {"seed"}
    assert "# [seed]" in text
    seed = tomllib.loads("\n".join(
        line.removeprefix("# ") for line in text.splitlines() if line.startswith("# [seed]")
        or line.startswith(("# command =", "# creates =", "# database ="))
    ))
    assert set(seed["seed"]) == set(SEED_FIELDS)
    assert set(data["limits"]) == set(LIMIT_FIELDS)
    assert data["id"] == "demo"
    assert data["title"].startswith("TODO") and data["summary"].startswith("TODO")
    assert data["hints"] and all(h.startswith("TODO") for h in data["hints"])


def test_new_challenge_loads_and_is_consistent(tmp_path: Path) -> None:
    dest = new_challenge("orders-pages", tmp_path)
    assert dest == tmp_path / "orders-pages"
    ch = load_challenge(dest)
    assert ch.id == "orders-pages"
    assert ch.category == "api" and ch.difficulty == "easy"
    assert ch.files == ("pagination.py",)
    assert sorted(ch.mutants) == ["last-page-dropped", "no-validation"]
    assert all(p.suffix == ".patch" for p in ch.mutants.values())
    assert "TODO" in ch.brief()
    for part in ("Context", "task", "Interface", "Acceptance criteria"):
        assert part in ch.brief()
    hidden = sorted(p.name for p in ch.tests_dir("hidden").glob("test_*.py"))
    assert hidden == ["test_correctness_pagination.py", "test_edge_pagination.py"]
    # Each hidden file is in its own [[scoring]] group, none falls into "other".
    assert [ch.group_of(f) for f in hidden] == ["correctness", "edge-cases"]
    assert (ch.tests_dir("visible") / "test_pagination.py").is_file()
    assert "TODO" in (ch.starter_dir / "pagination.py").read_text()


def test_cli_new_then_validate_passes(tmp_path: Path) -> None:
    proc = cli("challenge", "new", "orders-pages", "--dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    dest = tmp_path / "orders-pages"
    assert f"tui-assess challenge validate {dest}" in proc.stdout

    proc = cli("challenge", "validate", str(dest), "--repeat", "2", "--strict", "--json")
    doc = json.loads(proc.stdout)
    failed = [r for r in doc["checks"] if not r["ok"]]
    assert proc.returncode == 0 and doc["ok"] and not failed, failed
    checks = {r["check"] for r in doc["checks"]}
    assert {
        "starter fails hidden",
        "solution passes visible",
        "solution passes hidden",
        "starter fails visible",
        "mutant last-page-dropped caught",
        "mutant no-validation caught",
        "hidden failures speak plainly",
        "solution hidden x2 (flakiness)",
    } <= checks


def test_default_parent_is_challenges_when_it_exists(tmp_path: Path) -> None:
    (tmp_path / "challenges").mkdir()
    proc = cli("challenge", "new", "in-challenges", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "challenges" / "in-challenges" / "challenge.toml").is_file()


def test_default_parent_is_the_current_folder_otherwise(tmp_path: Path) -> None:
    assert default_parent(tmp_path) == tmp_path
    (tmp_path / "challenges").write_text("a file, not a folder")
    assert default_parent(tmp_path) == tmp_path
    proc = cli("challenge", "new", "here", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "here" / "challenge.toml").is_file()


def _one_line_exit_2(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize(
    "slug", ["Orders", "orders_pages", "-orders", "orders pages", "a/b", "..", "", "x" * 65]
)
def test_bad_slug_is_one_line_exit_2(tmp_path: Path, slug: str) -> None:
    # "--" so that "-orders" reaches the slug check instead of click's option parser.
    line = _one_line_exit_2(cli("challenge", "new", "--dir", str(tmp_path), "--", slug))
    assert "not a valid challenge slug" in line
    assert list(tmp_path.iterdir()) == []


def test_longest_valid_slug_is_accepted(tmp_path: Path) -> None:
    slug = "a" * 64
    assert load_challenge(new_challenge(slug, tmp_path)).id == slug


def test_existing_folder_is_one_line_exit_2_and_untouched(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    line = _one_line_exit_2(cli("challenge", "new", "taken", "--dir", str(tmp_path)))
    assert "already exists" in line
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]


def test_existing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file")
    line = _one_line_exit_2(cli("challenge", "new", "taken", "--dir", str(tmp_path)))
    assert "already exists" in line
    assert (tmp_path / "taken").read_text() == "a file"


def test_missing_parent_is_one_line_exit_2(tmp_path: Path) -> None:
    line = _one_line_exit_2(cli("challenge", "new", "demo", "--dir", str(tmp_path / "nope")))
    assert "no such folder" in line
    assert not (tmp_path / "nope").exists()


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[Path] = []
    real_write = Path.write_text

    def failing_write(self: Path, *args: object, **kwargs: object) -> int:
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real_write(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", failing_write)
    with pytest.raises(UserError, match="No space left on device"):
        new_challenge("demo", tmp_path)
    assert not (tmp_path / "demo").exists()


def test_new_has_help_and_is_in_the_readme() -> None:
    proc = cli("challenge", "new", "--help")
    assert proc.returncode == 0
    assert "--dir" in proc.stdout and "SLUG" in proc.stdout
    assert "tui-assess challenge new" in (ROOT / "README.md").read_text()


def test_authoring_guide_exists_and_starts_from_challenge_new() -> None:
    guide = (ROOT / "docs" / "authoring.md").read_text()
    assert "tui-assess challenge new" in guide
    assert "challenge-format.md" in guide
