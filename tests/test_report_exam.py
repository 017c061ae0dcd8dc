"""Reports of exam sessions (issue 15): every format with a summary prints the exam's terms,
and says whether the receipt the candidate read out matches the file.

The sessions are recorded by the real exam runtime: a sealed pack opened with its start code
(after wrong codes), quit and resumed, handed in through a real sandboxed hidden run. The
forged file is made as a forger would: an edit, then the whole public chain recomputed and the
sidecar rewritten, so that plain `session verify` calls it intact.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from fixtures.ui_support import async_test
from test_exam_support import FIXTURES
from test_receipt import events_of, rewrite
from test_report_support import record_exam, record_session

from tui_assess.challenge.model import load_challenge
from tui_assess.exam.policy import ExamPolicy
from tui_assess.session.store import sidecar_path
from tui_assess.session.timeline import Timeline, iso
from tui_assess.session.verify import verify

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = "def total(amounts):\n    return sum(amounts)\n"


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """ada: 2 wrong codes, a resume, AI not allowed; cy: another exam, AI allowed, program
    names recorded; forged: ada's file with another candidate, fully rechained; tampered:
    ada's file edited without rechaining; practice: a practice session."""
    folder = tmp_path_factory.mktemp("exam-reports")
    ada, ada_receipt = record_exam(folder / "ada.tasession", refused=2, resume=True,
                                   feedback="counts")
    cy, cy_receipt = record_exam(folder / "cy.tasession", candidate="Cy Young",
                                 ai_assistants=True, record_processes=True, feedback="names",
                                 submissions=2, time_minutes=45)
    forged = folder / "forged.tasession"
    shutil.copy(ada, forged)
    events = [(k, p.replace("Ada Lovelace", "Bob Builder") if k == "session_start" else p, t, w)
              for k, p, t, w in events_of(forged)]
    rewrite(forged, events)
    tampered = folder / "tampered.tasession"
    shutil.copy(ada, tampered)
    shutil.copy(sidecar_path(ada), sidecar_path(tampered))
    conn = sqlite3.connect(tampered)
    conn.execute("UPDATE events SET payload = replace(payload, 'Ada Lovelace', 'Bob') "
                 "WHERE kind = 'session_start'")
    conn.commit()
    conn.close()
    practice = record_session(folder / "practice.tasession",
                              load_challenge(FIXTURES / "tiny-sum"), {"orders.py": SOLUTION})
    return {"folder": folder, "ada": ada, "ada_receipt": ada_receipt, "cy": cy,
            "cy_receipt": cy_receipt, "forged": forged, "tampered": tampered,
            "practice": practice}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "tui-assess"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "tui_assess"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300)


def report(path: Path, fmt: str, *extra: str) -> str:
    proc = cli("report", str(path), "--format", fmt, *extra)
    assert proc.returncode == 0, proc.stderr
    assert not proc.stderr
    return proc.stdout


def report_json(path: Path, *extra: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(report(path, "json", *extra))
    return doc


def test_the_json_report_holds_the_exam_terms_and_validates(sessions: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(
        json.loads((ROOT / "docs" / "report-schema.json").read_text()))
    with Timeline.open(sessions["ada"]) as tl:
        start = tl.session_start or {}
    recorded = start["exam"]
    for name in ("ada", "cy", "forged", "tampered", "practice"):
        doc = report_json(sessions[name])
        errors = sorted(validator.iter_errors(doc), key=str)
        assert not errors, f"{name}: {errors[0]}"
    doc = report_json(sessions["ada"])
    exam = doc["exam"]
    assert exam["pack_id"] == recorded["pack_id"] and exam["candidate"] == "Ada Lovelace"
    assert exam["time_allowed_s"] == 30 * 60
    assert exam["deadline"] == iso(start["deadline"]) == doc["session"]["deadline"]
    assert exam["ai_assistants"] == "not allowed" and exam["policy_complete"]
    # the policy's own plain words, not a restatement
    policy = ExamPolicy.from_json(recorded["policy"])
    assert [(r["rule"], r["text"]) for r in exam["rules"]] == policy.rules()
    assert exam["events"] == {"start_codes_refused": 2, "clock_jumps": 0, "resumes": 1,
                              "submissions": 1, "time_up": False}
    assert exam["receipt"]["status"] == "not-checked"
    kinds = [s["kind"] for s in doc["signals"]]
    assert "start_code_refused" in kinds and "resume_gap" in kinds
    refused = next(s for s in doc["signals"] if s["kind"] == "start_code_refused")
    assert refused["detail"].startswith("2 wrong start code")
    cy = report_json(sessions["cy"])["exam"]
    assert cy["ai_assistants"] == "allowed" and cy["time_allowed_s"] == 45 * 60
    rules = {r["rule"]: r["text"] for r in cy["rules"]}
    assert rules["AI assistants"] == "Allowed." and "Up to 2 submissions" in rules["Submissions"]
    assert rules["Programs"] != dict(ExamPolicy(30).rules())["Programs"]
    assert report_json(sessions["practice"])["exam"] is None


def test_the_receipt_matches_the_submitted_file_in_every_format(
    sessions: dict[str, Any],
) -> None:
    ada, code = sessions["ada"], sessions["ada_receipt"]
    typed = code.lower().replace("-", " ")  # typing is forgiving, as in session verify
    receipt = report_json(ada, "--receipt", typed)["exam"]["receipt"]
    assert receipt["status"] == "matches" and receipt["given"] == code
    assert receipt["summary"] == "receipt checked: matches"
    md = report(ada, "md", "--receipt", code)
    assert "receipt checked: matches" in md and "Ada Lovelace" in md
    assert "AI assistants" in md and "not allowed" in md and "## Exam" in md
    html = report(ada, "html", "--receipt", code)
    assert 'class="banner ok" id="receipt"' in html and "Receipt checked: matches" in html
    assert "Not allowed. Nothing detects them" in html
    props = {p.get("name"): p.get("value")
             for p in ET.fromstring(report(ada, "junit", "--receipt", code)).iter("property")}
    assert props["exam.receipt"] == "matches" and props["exam.candidate"] == "Ada Lovelace"
    assert props["exam.ai_assistants"] == "not allowed"
    assert props["exam.rule.ai_assistants"].startswith("Not allowed.")
    gs = json.loads(report(ada, "gradescope", "--receipt", code))
    assert gs["extra_data"]["exam"]["receipt"]["status"] == "matches"
    assert "receipt checked: matches" in gs["output"]
    # Exercism's results.json has no place for it: the document is the spec's, unchanged,
    # and the receipt's line goes to stderr instead of being dropped.
    proc = cli("report", str(ada), "--format", "exercism", "--receipt", code)
    assert proc.returncode == 0 and proc.stderr == "receipt checked: matches\n"
    assert set(json.loads(proc.stdout)) == {"version", "status", "message", "tests"}
    # asciicast: a marker at 0 s, which players list, and the same line on stderr
    proc = cli("report", str(ada), "--format", "asciicast", "--receipt", code)
    assert proc.returncode == 0 and proc.stderr == "receipt checked: matches\n"
    lines = proc.stdout.splitlines()
    assert json.loads(lines[0])["version"] == 3
    assert json.loads(lines[1]) == [0.0, "m", "receipt checked: matches"]
    plain = report(ada, "asciicast").splitlines()
    assert lines[2:] == plain[1:]  # the recording itself is unchanged
    proc = cli("report", str(ada), "--format", "asciicast", "--receipt", sessions["cy_receipt"])
    assert proc.returncode == 0 and proc.stderr == "receipt does NOT match this file\n"


def test_a_receipt_of_another_file_does_not_match(sessions: dict[str, Any]) -> None:
    doc = report_json(sessions["ada"], "--receipt", sessions["cy_receipt"])
    assert doc["exam"]["receipt"]["status"] == "does-not-match"
    assert doc["integrity"]["ok"]
    md = report(sessions["ada"], "md", "--receipt", sessions["cy_receipt"])
    assert "receipt does NOT match this file" in md
    html = report(sessions["ada"], "html", "--receipt", sessions["cy_receipt"])
    assert 'class="banner bad" id="receipt"' in html and "does NOT match this file" in html


def test_a_forged_file_passes_verify_but_not_its_receipt(sessions: dict[str, Any]) -> None:
    forged, code = sessions["forged"], sessions["ada_receipt"]
    assert verify(forged).ok  # the forger recomputed the whole public chain
    plain = report_json(forged)
    assert plain["integrity"]["ok"] and plain["exam"]["candidate"] == "Bob Builder"
    assert plain["exam"]["receipt"]["status"] == "not-checked"
    checked = report_json(forged, "--receipt", code)["exam"]["receipt"]
    assert checked["status"] == "does-not-match"
    assert "changed after submission" in checked["reason"]


def test_a_tampered_file_is_not_checked(sessions: dict[str, Any]) -> None:
    doc = report_json(sessions["tampered"], "--receipt", sessions["ada_receipt"])
    assert not doc["integrity"]["ok"]
    assert doc["exam"]["receipt"]["status"] == "file-not-intact"
    md = report(sessions["tampered"], "md", "--receipt", sessions["ada_receipt"])
    assert "receipt not checked: the file fails verification" in md


def test_practice_reports_say_nothing_about_receipts(sessions: dict[str, Any]) -> None:
    practice = sessions["practice"]
    for fmt in ("md", "html"):
        text = report(practice, fmt)
        assert "receipt" not in text.lower() and "AI assistants" not in text
    proc = cli("report", str(practice), "--format", "md", "--receipt", sessions["ada_receipt"])
    assert proc.returncode == 2 and "not from an exam" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("fmt", ["json", "asciicast"])
def test_a_malformed_receipt_is_one_sentence_and_exit_2(sessions: dict[str, Any],
                                                        fmt: str) -> None:
    proc = cli("report", str(sessions["ada"]), "--format", fmt, "--receipt", "ABCD-EFGH")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "not a receipt code" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def cohort(sessions: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder as a hiring team collects it, and their receipts file."""
    folder = tmp_path_factory.mktemp("collected")
    for name in ("ada", "cy", "forged", "practice"):
        shutil.copy(sessions[name], folder / sessions[name].name)
        if sidecar_path(sessions[name]).exists():
            shutil.copy(sidecar_path(sessions[name]), sidecar_path(folder / sessions[name].name))
    (folder / "receipts.csv").write_text(
        "file,receipt\n"
        f"ada.tasession,{sessions['ada_receipt']}\n"
        f"forged.tasession,{sessions['ada_receipt']}\n"   # the forger's file, ada's receipt
        f"practice.tasession,{sessions['cy_receipt']}\n"  # a receipt for no exam
        f"zed.tasession,{sessions['cy_receipt']}\n")      # a file that was not collected
    return folder


def test_review_has_a_receipt_column(cohort: Path) -> None:
    receipts = str(cohort / "receipts.csv")
    proc = cli("review", str(cohort), "--json", "--receipts", receipts)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    status = {Path(r["session"]).name: (r["receipt"] or {}).get("status")
              for r in doc["sessions"]}
    assert status == {"ada.tasession": "matches", "forged.tasession": "does-not-match",
                      "cy.tasession": "not-checked", "practice.tasession": "not-an-exam"}
    assert doc["receipts_unmatched"] == ["zed.tasession"]
    out = cohort / "review.csv"
    proc = cli("review", str(cohort), "--csv", str(out), "--receipts", receipts)
    assert proc.returncode == 0 and "zed.tasession" in proc.stderr
    rows = {r["session"].rsplit("/", 1)[-1]: r
            for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert rows["forged.tasession"]["receipt"] == "receipt does NOT match this file"
    assert rows["cy.tasession"]["receipt"] == "no receipt checked"
    text = cli("review", str(cohort), "--receipts", receipts).stdout
    header = text.splitlines()[0].split()
    assert header[header.index("signals") + 1] == "receipt"
    line = next(ln for ln in text.splitlines() if "Bob Builder" in ln)
    assert "MISMATCH" in line
    # without receipts or exams the table is as before: no receipt column
    plain = cli("review", str(cohort), "--json").stdout
    assert {(r["receipt"] or {}).get("status") for r in json.loads(plain)["sessions"]} == {
        "not-checked", None}


def test_grade_does_not_grade_a_file_its_receipt_does_not_match(cohort: Path,
                                                                tmp_path: Path) -> None:
    proc = cli("grade", str(cohort / "ada.tasession"), str(cohort / "forged.tasession"),
               "--json", "--receipts", str(cohort / "receipts.csv"),
               "--results", str(tmp_path / "grades.sqlite"), "--challenges", str(FIXTURES))
    assert proc.returncode == 1, proc.stderr
    rows = {Path(r["session"]).name: r for r in json.loads(proc.stdout)["sessions"]}
    assert rows["ada.tasession"]["status"] == "no-record"  # feedback counts: nothing per test
    assert rows["ada.tasession"]["regraded"]["score"] == 100
    assert rows["ada.tasession"]["receipt"]["status"] == "matches"
    assert rows["forged.tasession"]["status"] == "receipt-mismatch"
    assert rows["forged.tasession"]["regraded"] is None


@pytest.mark.parametrize("content, why", [
    ("ada.tasession,ABCD\n", "not a receipt code"),
    ("ada.tasession\n", "two columns"),
    ('{"ada.tasession": 5}', "receipt code"),
])
def test_a_bad_receipts_file_is_one_sentence_and_exit_2(cohort: Path, tmp_path: Path,
                                                        content: str, why: str) -> None:
    bad = tmp_path / "receipts.csv"
    bad.write_text(content)
    for cmd in (["review", str(cohort), "--json"], ["grade", str(cohort / "ada.tasession")]):
        proc = cli(*cmd, "--receipts", str(bad))
        assert proc.returncode == 2, proc.stderr
        assert why in proc.stderr and proc.stderr.count("\n") == 1
        assert "Traceback" not in proc.stderr


def test_clock_jumps_are_signals_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A jump while the app runs is seen by both the exam's watch and the timeline's drift
    check: one signal. A jump while the app was closed shows only at the resume: the exam's
    clock_jump event is the signal."""
    import time

    from test_session_support import CHALLENGE_HASH, START_FILES

    from tui_assess.report.document import build
    from tui_assess.session import SessionRecorder

    path = tmp_path / "jumps.tasession"
    policy = ExamPolicy(30).to_json()
    rec = SessionRecorder.create(
        path, challenge_id="slow-query", challenge_hash=CHALLENGE_HASH, mode="exam",
        deadline=time.time() + 1800, candidate="ada", files=dict(START_FILES),
        terminal_size=(100, 30),
        start_extra={"exam": {"pack_id": "0123456789abcdef", "policy": policy,
                              "ai_assistants": "not allowed"}})
    rec.file_open("report.py")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 600)  # the wall clock moves on
    rec.record("clock_jump", jump_s=600.0, wall_now=round(time.time(), 3))
    rec.record("clock_jump", jump_s=-7200.0, wall_now=round(time.time(), 3),
               across_resume=True)
    rec.close("submitted")
    doc = build(path)
    jumps = [s for s in doc["signals"] if s["kind"] == "clock_jump"]
    assert len(jumps) == 2, jumps
    assert "+600 s against the monotonic clock" in jumps[0]["detail"]  # the timeline's
    assert "-7200 s while the app was closed" in jumps[1]["detail"]  # the exam's
    assert doc["exam"]["events"]["clock_jumps"] == 2


@async_test
async def test_review_screen_shows_the_receipt_column(cohort: Path) -> None:
    from textual.widgets import DataTable

    from tui_assess.report.review import collect
    from tui_assess.ui.screens.review import ReviewApp, ReviewScreen

    review = collect(cohort, receipts=cohort / "receipts.csv", similarity=False)
    async with ReviewApp(review).run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        assert isinstance(pilot.app.screen, ReviewScreen)
        table = pilot.app.screen.query_one("#review-table", DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        assert labels[5] == "receipt"
        cells = {str(table.get_cell_at((i, 6))): str(table.get_cell_at((i, 5)))
                 for i in range(table.row_count)}
        assert cells["Bob Builder"] == "MISMATCH" and cells["Ada Lovelace"] == "matches"
        assert cells["Cy Young"] == "none"


def test_receipts_files_csv_with_or_without_header_and_json(tmp_path: Path) -> None:
    from tui_assess.report.exam import Receipts, load_receipts

    code = "k7qm 4xpa r2wd 9hft"  # as written down: case and spaces do not matter
    for name, text in [("a.csv", f"session,receipt code\nx/ada.tasession,{code}\n"),
                       ("b.csv", f"x/ada.tasession,{code}\n\n"),
                       ("c.json", json.dumps({"x/ada.tasession": code}))]:
        (tmp_path / name).write_text(text)
        assert load_receipts(tmp_path / name) == {"x/ada.tasession": "K7QM-4XPA-R2WD-9HFT"}
    # a bare name finds the file unless two sessions share it; then only its path does
    sessions = [tmp_path / "x" / "ada.tasession", tmp_path / "y" / "ada.tasession"]
    by_name = Receipts({"ada.tasession": "K7QM-4XPA-R2WD-9HFT"}, sessions, [tmp_path])
    assert by_name.code_for(sessions[0]) is None and by_name.unused() == ["ada.tasession"]
    by_path = Receipts(load_receipts(tmp_path / "a.csv"), sessions, [tmp_path])
    assert by_path.code_for(sessions[0]) == "K7QM-4XPA-R2WD-9HFT"
    assert by_path.code_for(sessions[1]) is None and by_path.unused() == []
