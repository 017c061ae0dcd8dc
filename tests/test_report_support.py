"""Helpers shared by the report, grade, review and similarity tests (no tests here).

Sessions are recorded the way the TUI records them: RecorderHooks on a real workspace folder,
the real recorder and SQLite file, and a real sandboxed ``run_check`` of the hidden suite
whose result is recorded and then submitted.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tui_assess.challenge.check import CheckResult, run_check
from tui_assess.challenge.model import Challenge
from tui_assess.challenge.workspace import init_workspace
from tui_assess.session.hooks import RecorderHooks

XSS = "</script><script>document.title='pwned';window.__pwned=1</script>"


def record_session(
    dest: Path,
    challenge: Challenge,
    files: dict[str, str],
    *,
    candidate: str = "ada",
    note: str | None = None,
    paste: dict[str, str] | None = None,
    run_hidden: bool = True,
    submit: bool = True,
    result: CheckResult | None = None,
) -> Path:
    """Record a session that edits the starter into ``files`` and submits; returns its path.

    ``paste`` marks files whose new text arrives as one paste (the rest is typed in one
    edit per line). ``result`` reuses a hidden-suite result instead of running it again.
    """
    work = dest.parent / f".ws-{dest.stem}"
    if work.exists():
        shutil.rmtree(work)
    init_workspace(challenge, work)
    folder = dest.parent / f".rec-{dest.stem}"
    hooks = RecorderHooks(candidate=candidate, sessions_dir=folder, sample_interval=None,
                          terminal_size=(100, 30))
    hooks.session_started(challenge, work, "practice", 1800.0)
    for path, text in files.items():
        target = work / path
        old = target.read_text() if target.exists() else ""
        hooks.file_opened(path, old)
        hooks.edited(path, 0, len(old), "")
        if paste and path in paste:
            hooks.pasted(path, text)
            hooks.edited(path, 0, 0, text)
        else:
            offset = 0
            for line in text.splitlines(keepends=True):
                hooks.edited(path, offset, 0, line)
                offset += len(line)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        hooks.saved(path, text)
    if run_hidden:
        hooks.run_started("hidden")
        if result is None:
            result = run_check(challenge, work, "hidden")
        hooks.run_finished("hidden", result)
    if note is not None:
        hooks.note(note)
    if submit:
        hooks.submitted(result if result is not None else _Unscored())
    hooks.session_ended()
    assert hooks.path is not None
    dest.parent.mkdir(parents=True, exist_ok=True)
    hooks.path.replace(dest)
    side = hooks.path.with_name(hooks.path.name + ".link")
    if side.exists():
        side.replace(dest.with_name(dest.name + ".link"))
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    return dest


class _Unscored:
    """A submit without a hidden run (the recorder then stores no score)."""


def payload_of(path: Path, seq: int) -> dict[str, Any]:
    import json
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return json.loads(conn.execute("SELECT payload FROM events WHERE seq = ?",
                                       (seq,)).fetchone()[0])
    finally:
        conn.close()


def record_exam(dest: Path, *, candidate: str = "Ada Lovelace", extra_code: str = "",
                refused: int = 0, resume: bool = False, **policy: Any) -> tuple[Path, str]:
    """A session recorded by the real exam runtime (a sealed fix-sum pack, opened with its
    start code, the fix made, handed in through a real sandboxed hidden run), copied with its
    sidecar to ``dest``; returns (path, receipt). ``refused`` wrong start codes are typed
    first; ``resume`` quits once and reopens (a ``resumed`` event)."""
    from test_exam_support import fix_workspace, opened_exam, sealed_pack

    from tui_assess.exam.pack import WrongCode
    from tui_assess.exam.runtime import Exam
    from tui_assess.session.store import sidecar_path

    work = dest.parent / f".exam-{dest.stem}"
    work.mkdir(parents=True)
    pack, code = sealed_pack(work, **policy)
    home = work / "home"
    for _ in range(refused):
        try:
            Exam.load(pack, home=home).unlock("0000-0000-0000-0000")
        except WrongCode:
            pass
    exam = opened_exam(pack, code, candidate=candidate, home=home)
    if resume:
        exam.close()
        exam = opened_exam(pack, code, candidate=candidate, home=home)
    part = exam.parts[0]
    fix_workspace(part.workspace)
    if extra_code:
        with (part.workspace / "calc.py").open("a") as f:
            f.write(extra_code)
    exam.hand_in(part)
    assert part.receipt is not None
    shutil.copy(part.session, dest)
    shutil.copy(sidecar_path(part.session), sidecar_path(dest))
    shutil.rmtree(work)
    return dest, part.receipt
