"""Session files are hostile input too: what sits next to them, and what they hold, must not
hang, flood or hijack a reviewer's terminal, nor make the tool write through a planted link."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from test_session_support import new_recorder, sample_session

from tui_assess.session import store
from tui_assess.session.verify import verify

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tui_assess", *args],
                          capture_output=True, text=True, env=env, timeout=60)


def _without_sidecar(tmp_path: Path) -> Path:
    path = tmp_path / "s.tasession"
    sample_session(path)
    store.sidecar_path(path).unlink()
    return path


def test_a_fifo_sidecar_is_unreadable_not_waited_on(tmp_path: Path) -> None:
    path = _without_sidecar(tmp_path)
    os.mkfifo(store.sidecar_path(path))
    started = time.monotonic()
    rep = verify(path)
    assert time.monotonic() - started < 5
    assert rep.ok and rep.sidecar == "unreadable"


def test_a_sidecar_linked_to_an_endless_device_is_not_read(tmp_path: Path) -> None:
    path = _without_sidecar(tmp_path)
    store.sidecar_path(path).symlink_to("/dev/zero")
    started = time.monotonic()
    rep = verify(path)
    assert time.monotonic() - started < 5
    assert rep.sidecar == "unreadable"


def test_an_oversized_sidecar_is_unreadable(tmp_path: Path) -> None:
    path = _without_sidecar(tmp_path)
    store.sidecar_path(path).write_text("1 " + "a" * 10_000)
    assert verify(path).sidecar == "unreadable"


def test_writing_the_sidecar_never_follows_a_planted_temp_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    path = tmp_path / "s.tasession"
    planted = store.sidecar_path(path).with_name(store.sidecar_path(path).name + ".tmp")
    planted.symlink_to(victim)
    final = sample_session(path)
    assert victim.read_text() == "keep me\n"
    side = store.sidecar_path(path)
    assert not side.is_symlink() and final in side.read_text()
    assert verify(path).sidecar == "match"


def test_session_info_never_prints_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "evil.tasession"
    title = "\x1b]0;pwned\x07"
    rec = new_recorder(path)
    rec.file_open(f"report{title}.py")
    rec.edit(f"report{title}.py", 0, 0, "x")
    rec.note(f"done{title}\nwith a second line")
    rec.close()
    for args in (("session", "info", str(path)), ("session", "verify", str(path))):
        r = run(*args)
        assert r.returncode == 0, r.stderr
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout, args
    r = run("session", "info", str(path))
    assert "report\\x1b]0;pwned\\x07.py" in r.stdout


def test_a_session_the_user_may_not_reach_is_one_sentence(
    tmp_path: Path, ordinary_user: str
) -> None:
    """As an ordinary user, a session inside a folder they cannot enter: exit 2, no traceback."""
    tmp_path.chmod(0o755)
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o700)
    path = folder / "s.tasession"
    sample_session(path)
    proc = subprocess.run(
        ["runuser", "-u", ordinary_user, "--", sys.executable, "-m", "tui_assess",
         "session", "verify", str(path)],
        capture_output=True, text=True, timeout=60, cwd="/",
        env={**os.environ, "PYTHONPATH": str(ROOT), "HOME": "/tmp"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("tui-assess: ") and len(proc.stderr.strip().splitlines()) == 1
