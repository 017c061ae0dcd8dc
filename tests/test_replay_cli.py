"""`tui-assess replay`: bad input is one sentence and exit code 2; a forged session cannot make
a re-run write outside its folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.replay_support import replay_app
from fixtures.ui_support import async_test, wait_until
from test_session_support import new_recorder

from tui_assess.errors import UserError
from tui_assess.session.timeline import write_files

ROOT = Path(__file__).resolve().parents[1]
FIX_SUM = ROOT / "tests" / "fixtures" / "challenges" / "fix-sum"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui_assess", *args], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)


@pytest.mark.parametrize("make", ["missing", "text", "sqlite"])
def test_bad_session_files_are_one_sentence_and_exit_2(tmp_path: Path, make: str) -> None:
    path = tmp_path / "x.tasession"
    if make == "text":
        path.write_text("not a database\n")
    elif make == "sqlite":
        import sqlite3

        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    r = cli("replay", str(path))
    assert r.returncode == 2
    assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith("tui-assess: ") and "Traceback" not in r.stderr


def test_an_unknown_challenge_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    new_recorder(path).close()
    r = cli("replay", str(path), "--challenge", "no-such-challenge")
    assert r.returncode == 2 and "unknown challenge 'no-such-challenge'" in r.stderr


def test_write_files_refuses_paths_outside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    for bad in ("../escape.py", "/etc/passwd-copy", "a/../../escape.py", ""):
        with pytest.raises(UserError, match="outside its workspace"):
            write_files({"ok.py": "x", bad: "owned"}, folder)
    assert list(folder.iterdir()) == [] and not (tmp_path / "escape.py").exists()
    write_files({"pkg/mod.py": "print(1)\n", "data.bin": b"\x80\x81".decode("utf-8",
                                                                            "surrogateescape")},
                folder)
    assert (folder / "pkg" / "mod.py").read_text() == "print(1)\n"
    assert (folder / "data.bin").read_bytes() == b"\x80\x81"  # bytes come back as recorded


@async_test
async def test_a_forged_path_in_a_session_is_not_written_by_a_rerun(tmp_path: Path) -> None:
    path = tmp_path / "forged.tasession"
    rec = new_recorder(path)
    name = f"../replay-escape-{os.getpid()}.py"
    rec.edit(name, 0, 0, "owned = True\n")
    rec.close()
    target = Path("/tmp") / name[3:]
    app = replay_app(path, FIX_SUM, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("r")
        await wait_until(pilot, lambda: screen._rerun_cancel is None, timeout=60)  # type: ignore[attr-defined]
        shown = str(screen.query_one("#rerun").render())  # type: ignore[attr-defined]
    assert "could not run" in shown and "outside its workspace" in shown
    assert not target.exists()
