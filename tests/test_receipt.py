"""Receipt codes: `session verify FILE --receipt CODE` accepts exactly the file submitted.

Each forgery below is done as a forger with the file would do it: change the events, then
recompute the whole public chain and rewrite the sidecar, so that plain `session verify`
calls the file intact. The receipt, written down at submission, still tells.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_session_support import CHALLENGE_HASH, START_FILES, connect, rows

from tui_assess.exam import codes
from tui_assess.exam.receipt import check_receipt, receipt_code
from tui_assess.session import SessionRecorder, store
from tui_assess.session.verify import verify

PACK_ID = "0123456789abcdef"


def exam_session(path: Path, *, pack_id: str = PACK_ID, note: str = "I added an index.") -> str:
    """A small exam session, closed after submission; returns its receipt."""
    rec = SessionRecorder.create(
        path, challenge_id="slow-query", challenge_hash=CHALLENGE_HASH, mode="exam",
        deadline=None, candidate="ada", files=dict(START_FILES), terminal_size=(100, 30),
        start_extra={"exam": {"pack_id": pack_id, "policy": {"feedback": "counts"}}},
    )
    rec.file_open("report.py")
    rec.edit("report.py", 27, 1, "42")
    rec.paste("report.py", "y" * 300)
    rec.edit("report.py", 0, 0, "y" * 300)
    rec.save("report.py", "y" * 300 + "def report():\n    return 42\n")
    rec.note(note)
    rec.submit({"report.py": "y" * 300 + "def report():\n    return 42\n",
                "notes.md": "# notes\n"}, feedback="counts", passed=2, total=3)
    return receipt_code(pack_id, rec.close("submitted"))


def rewrite(path: Path, events: list[tuple[str, dict[str, Any] | str, float, float]]) -> None:
    """Replace every event with ``events`` (kind, payload, t, wall), chained anew from the
    genesis, and rewrite the sidecar: the forger's full recomputation."""
    c = connect(path)
    c.execute("BEGIN")
    c.execute("DELETE FROM events")
    prev = store.GENESIS_LINK
    for seq, (kind, payload, t, wall) in enumerate(events, start=1):
        text = payload if isinstance(payload, str) else store.canonical_json(payload)
        prev = store.next_link(prev, store.canonical_event_bytes(seq, t, wall, kind, text))
        c.execute("INSERT INTO events VALUES (?,?,?,?,?,?)", (seq, t, wall, kind, text, prev))
    c.execute("COMMIT")
    c.close()
    store.write_sidecar(path, len(events), prev)


def events_of(path: Path) -> list[tuple[str, str, float, float]]:
    return [(kind, payload, t, wall) for _seq, t, wall, kind, payload, _link in rows(path)]


def cli_verify(path: Path, code: str, *extra: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "tui-assess"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "tui_assess"]
    return subprocess.run([*cmd, "session", "verify", str(path), "--receipt", code, *extra],
                          capture_output=True, text=True, timeout=60, env=dict(os.environ))


@pytest.fixture
def submitted(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "ada-slow-query.tasession"
    return path, exam_session(path)


def test_receipt_shape() -> None:
    code = receipt_code(PACK_ID, "ab" * 32)
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert set(code.replace("-", "")) <= set(codes.ALPHABET)
    assert len(codes.ALPHABET) ** 16 >= 2**80
    assert receipt_code("fedcba9876543210", "ab" * 32) != code  # tied to the exam
    assert receipt_code(PACK_ID, "ab" * 31 + "ac") != code  # and to the final link


def test_the_submitted_file_is_accepted(submitted: tuple[Path, str]) -> None:
    path, code = submitted
    proc = cli_verify(path, code)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "receipt OK" in proc.stdout
    doc = json.loads(cli_verify(path, code.lower().replace("-", " "), "--json").stdout)
    assert doc["ok"] is True and doc["receipt"]["ok"] is True and doc["receipt"]["pack"] == PACK_ID


def assert_forgery_caught(path: Path, code: str) -> None:
    report = verify(path)
    assert report.ok, f"the forgery should pass the public chain check: {report.reason}"
    assert report.sidecar == "match"
    assert not check_receipt(path, code).ok
    proc = cli_verify(path, code)
    assert proc.returncode == 1
    assert "RECEIPT MISMATCH" in proc.stdout and "Traceback" not in proc.stderr


def test_edit_and_full_rechain_fails(submitted: tuple[Path, str]) -> None:
    path, code = submitted
    forged = []
    for kind, payload, t, wall in events_of(path):
        if kind == "note":
            payload = store.canonical_json({"text": "I wrote it all myself, slowly."})
        forged.append((kind, payload, t, wall))
    rewrite(path, forged)
    assert_forgery_caught(path, code)


def test_deleting_a_paste_and_rechaining_fails(submitted: tuple[Path, str]) -> None:
    path, code = submitted
    rewrite(path, [e for e in events_of(path) if e[0] != "paste"])
    assert_forgery_caught(path, code)


def test_truncate_and_rechain_fails(submitted: tuple[Path, str]) -> None:
    path, code = submitted
    events = events_of(path)
    # Drop the submission and everything after it: "I never submitted that".
    cut = next(i for i, e in enumerate(events) if e[0] == "submit")
    rewrite(path, events[:cut])
    assert_forgery_caught(path, code)


def test_appending_after_submission_fails(submitted: tuple[Path, str]) -> None:
    path, code = submitted
    events = events_of(path)
    last = events[-1]
    rewrite(path, [*events, ("note", {"text": "one more thing"}, last[2] + 1, last[3] + 1)])
    assert_forgery_caught(path, code)


def test_splice_of_two_sessions_fails(submitted: tuple[Path, str], tmp_path: Path) -> None:
    path, code = submitted
    other = tmp_path / "bob-slow-query.tasession"
    exam_session(other, note="Bob's careful note.")
    mine, theirs = events_of(path), events_of(other)
    # The start of mine, the work of theirs: a better history under my name.
    first_edit = next(i for i, e in enumerate(mine) if e[0] == "edit")
    rewrite(path, mine[:first_edit] + [e for e in theirs if e[0] not in ("session_start",)])
    assert_forgery_caught(path, code)


def test_a_receipt_of_another_file_or_exam_fails(submitted: tuple[Path, str],
                                                 tmp_path: Path) -> None:
    path, code = submitted
    other = tmp_path / "other.tasession"
    other_code = exam_session(other, pack_id="aaaaaaaaaaaaaaaa")
    assert not check_receipt(path, other_code).ok
    assert not check_receipt(other, code).ok


def test_typos_are_named_and_still_fail(submitted: tuple[Path, str]) -> None:
    path, code = submitted
    raw = codes.normalise(code) or ""
    typo = raw[:5] + ("A" if raw[5] != "A" else "B") + raw[6:]
    check = check_receipt(path, typo)
    assert not check.ok
    assert any("only at character 6" in n for n in check.notes)
    proc = cli_verify(path, "not a code")
    assert proc.returncode == 1 and "16 letters and digits" in proc.stdout


def test_a_tampered_file_fails_before_the_receipt(submitted: tuple[Path, str]) -> None:
    path, code = submitted
    c = connect(path)
    c.execute("UPDATE events SET payload = ? WHERE kind = 'note'",
              (store.canonical_json({"text": "edited without rechaining"}),))
    c.close()
    proc = cli_verify(path, code, "--json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["ok"] is False and doc["receipt"]["ok"] is False
    assert "not intact" in doc["receipt"]["reason"]


def test_a_practice_session_has_no_receipt(tmp_path: Path) -> None:
    from test_session_support import sample_session

    path = tmp_path / "practice.tasession"
    link = sample_session(path)
    check = check_receipt(path, receipt_code(PACK_ID, link))
    assert not check.ok and "not from an exam" in check.reason
