"""`tui-assess report`: every format, from sessions recorded by the real recorder with a real
sandboxed hidden run; JSON against docs/report-schema.json, JUnit parsed back, the platform
formats field by field against their published specs, asciicast v3 against the v2 export."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from test_report_support import XSS, record_session

from tui_assess.challenge.model import load_challenge
from tui_assess.report.document import build
from tui_assess.report.formats import asciicast_v3, render

ROOT = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "fixtures" / "challenges" / "tiny-sum"
SOLUTION = "def total(amounts):\n    return sum(amounts)\n"
#: Returns the payload for one hidden test's input, so the recorded failure message holds it.
HOSTILE = (
    "# Sums order amounts in cents; refunds are negative amounts, and an empty list is 0.\n"
    "def total(amounts):\n"
    "    if len(amounts) == 10:\n"
    f"        return {XSS!r}\n"
    "    return sum(amounts)\n"
)
HOSTILE_FILE = "notes</script><script>window.__pwned=2</script>.txt"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cohort")
    ch = load_challenge(TINY)
    return {
        "ada": record_session(folder / "ada.tasession", ch, {"orders.py": SOLUTION},
                              candidate="ada", note="Used sum(); refunds are negative."),
        "eve": record_session(
            folder / "eve.tasession", ch,
            {"orders.py": HOSTILE, HOSTILE_FILE: f"hello {XSS}\n"},
            candidate=f"eve {XSS}", note=f"my note {XSS}", paste={"orders.py"},
        ),
    }


def schema() -> dict[str, Any]:
    return json.loads((ROOT / "docs" / "report-schema.json").read_text())


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui_assess", *args], capture_output=True,
                          text=True, timeout=120)


def test_json_report_validates_against_the_documented_schema(cohort: dict[str, Path]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(schema())
    validator.check_schema(schema())
    for name, path in cohort.items():
        proc = cli("report", str(path), "--format", "json")
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        errors = sorted(validator.iter_errors(doc), key=str)
        assert not errors, f"{name}: {errors[0]}"
    ada = json.loads(cli("report", str(cohort["ada"]), "--format", "json").stdout)
    assert (ada["score"], ada["max_score"], ada["score_source"]) == (100.0, 100.0, "recorded")
    assert [g["name"] for g in ada["groups"]] == ["correctness", "edge-cases"]
    assert {t["status"] for t in ada["tests"]} == {"pass"} and len(ada["tests"]) == 4
    assert ada["notes"][0]["text"] == "Used sum(); refunds are negative."
    assert ada["integrity"]["ok"] and ada["submission"]["snapshot_matches"]
    assert ada["files"][0]["path"] == "orders.py" and ada["files"][0]["text"] == SOLUTION
    assert "-    result = 0" in ada["files"][0]["diff"]
    eve = json.loads(cli("report", str(cohort["eve"]), "--format", "json").stdout)
    assert eve["score"] == 65.0  # test_many_orders (35 points) fails
    failing = [t for t in eve["tests"] if t["status"] == "fail"]
    assert [t["name"] for t in failing] == ["test_many_orders"] and XSS in failing[0]["message"]
    assert [s["kind"] for s in eve["signals"]] == ["large_paste"]
    # each line's origin comes from the session: eve pasted orders.py, ada typed it
    eve_orders = next(f for f in eve["files"] if f["path"] == "orders.py")
    assert [o["origin"] for o in eve_orders["origins"]] == ["paste"] * eve_orders["lines"]
    assert "pasted" in eve_orders["origins"][0]["detail"]
    assert [o["origin"] for o in ada["files"][0]["origins"]] == ["typed", "typed"]
    assert ada["origins_summary"] == {"typed": 2}


def test_a_stored_regrade_is_the_score_and_a_mismatch_is_marked(
        cohort: dict[str, Path], tmp_path: Path) -> None:
    from tui_assess.report.results import ResultsStore

    doc = build(cohort["ada"])
    sub = doc["submission"]["snapshot"]
    chash = doc["session"]["challenge_hash"]
    results = tmp_path / "grades.sqlite"
    tests = [{"name": t["name"], "group": t["group"], "status": t["recorded_status"],
              "weight": t["weight"], "message": "", "duration_s": 0.01} for t in doc["tests"]]
    tests[0]["status"] = "fail"
    with ResultsStore(results) as store:
        store.put("tiny-sum", {"status": "fail", "score": 65.0, "max_score": 100.0,
                               "tests": tests, "sandbox": "namespaces",
                               "groups": {"correctness": {"score": 35.0, "max_score": 70.0},
                                          "edge-cases": {"score": 30.0, "max_score": 30.0}}},
                  snapshot=sub, challenge_hash=chash)
    doc = build(cohort["ada"], results=results)
    assert (doc["score"], doc["score_source"]) == (65.0, "regrade")
    assert doc["regrade"]["matches_recorded"] is False
    assert doc["regrade"]["differences"] == [
        {"name": "test_many_orders", "recorded": "pass", "regraded": "fail"}]
    assert [g["mismatch"] for g in doc["groups"]] == [True, False]
    page = render(cohort["ada"], "html", results=results)
    assert 'id="regrade-mismatch"' in page and '<tr class="mismatch"><td>test_many_orders' in page


def test_html_is_one_self_contained_page_with_every_candidate_string_escaped(
        cohort: dict[str, Path]) -> None:
    page = render(cohort["eve"], "html")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "external asset"
    assert "&lt;/script&gt;&lt;script&gt;" in page
    assert "Content-Security-Policy" in page
    for section in ("Score by group", "Tests", "Timeline", "Resources", "Submitted code",
                    "Test history", "Integrity signals", "The candidate's note"):
        assert section in page
    assert page.count("<svg") >= 3  # timeline bar and the run's CPU and memory charts
    assert '<td class="origin paste" title="pasted (' in page  # the origin gutter


def test_markdown_holds_no_live_markup(cohort: dict[str, Path]) -> None:
    md = render(cohort["eve"], "md")
    # fenced code is literal text in Markdown; everything outside the fences must be inert
    prose = re.sub(r"(?ms)^(`{3,})[^\n]*\n.*?^\1\n", "", md)
    assert "<script" not in prose and "</script" not in prose
    assert "&lt;/script&gt;&lt;script&gt;" in md
    # the code is fenced, verbatim (a fence cannot be closed early by the code itself)
    assert "```python\n" + HOSTILE + "```" in md
    assert "| **65 / 100** (recorded, not regraded) |" in md.replace("score | ", "")


def test_junit_parses_back_to_the_final_hidden_run(cohort: dict[str, Path]) -> None:
    root = ET.fromstring(render(cohort["eve"], "junit").encode())
    suite = root.find("testsuite")
    assert suite is not None and root.tag == "testsuites"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["test_many_orders", "test_single_order",
                                              "test_empty", "test_refunds"]
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["test_many_orders"]
    assert XSS in (failed[0].find("failure").text or "")  # type: ignore[union-attr]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "0")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["score"] == "65.0" and props["integrity"] == "intact"


def test_junit_survives_control_characters() -> None:
    from tui_assess.report.formats import render_junit

    doc = {"session": {"challenge": "c", "started": None, "candidate": "x\x00y", "file": "f",
                       "final_link": "0"},
           "tests": [{"name": "t\x1b[31m", "group": "g", "status": "fail", "duration_s": 0.1,
                      "message": "bad \x00 \udc80 byte"}],
           "score": 0, "max_score": 1, "score_source": "recorded", "integrity": {"ok": True}}
    root = ET.fromstring(render_junit(doc).encode())
    assert root.find("testsuite/testcase/failure") is not None


#: Gradescope's autograder spec (gradescope-autograders.readthedocs.io/en/latest/specs/).
GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format",
                  "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
                  "leaderboard"}
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output",
                   "output_format", "tags", "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def test_gradescope_results_json_field_by_field(cohort: dict[str, Path]) -> None:
    doc = json.loads(render(cohort["eve"], "gradescope"))
    assert set(doc) <= GRADESCOPE_TOP
    assert isinstance(doc["score"], float) and doc["score"] == 65.0
    assert isinstance(doc["execution_time"], (int, float)) and doc["execution_time"] > 0
    assert doc["visibility"] in VISIBILITY and doc["stdout_visibility"] in VISIBILITY
    assert {doc["output_format"], doc["test_output_format"], doc["test_name_format"]} == {"text"}
    assert isinstance(doc["output"], str) and isinstance(doc["extra_data"], dict)
    assert len(doc["tests"]) == 4
    for t in doc["tests"]:
        assert set(t) <= GRADESCOPE_TEST
        assert isinstance(t["name"], str) and isinstance(t["number"], str)
        assert isinstance(t["score"], float) and isinstance(t["max_score"], float)
        assert t["status"] in ("passed", "failed") and t["visibility"] in VISIBILITY
        assert t["output_format"] in FORMATS and t["name_format"] in FORMATS
        assert (t["status"] == "passed") == (t["score"] == t["max_score"] > 0)
        assert all(isinstance(tag, str) for tag in t["tags"])
    assert sum(t["score"] for t in doc["tests"]) == pytest.approx(doc["score"])
    assert sum(t["max_score"] for t in doc["tests"]) == pytest.approx(100.0)


def test_exercism_v3_results_json_field_by_field(cohort: dict[str, Path]) -> None:
    # exercism.org/docs/building/tooling/test-runners/interface
    for name, expected in (("ada", "pass"), ("eve", "fail")):
        doc = json.loads(render(cohort[name], "exercism"))
        assert set(doc) <= {"version", "status", "message", "tests"}
        assert doc["version"] == 3 and doc["status"] == expected
        assert doc["message"] is None  # only for status error
        assert [t["name"] for t in doc["tests"]] == ["test_many_orders", "test_single_order",
                                                     "test_empty", "test_refunds"]
        for t in doc["tests"]:
            assert set(t) <= {"name", "status", "message", "output", "test_code", "task_id"}
            assert t["status"] in ("pass", "fail", "error")
            assert t["message"] is None or isinstance(t["message"], str)
            assert len(t.get("output") or "") <= 500


def test_exercism_error_status_has_a_message() -> None:
    from tui_assess.report.formats import render_exercism

    doc = render_exercism({"tests": [], "regrade": None,
                           "recorded": {"reason": "SyntaxError in orders.py"}})
    assert doc == {"version": 3, "status": "error", "message": "SyntaxError in orders.py",
                   "tests": []}


def test_asciicast_v3_is_the_v2_recording_with_intervals(cohort: dict[str, Path]) -> None:
    v2 = cli("session", "export", str(cohort["ada"]), "--format", "asciicast")
    v3 = cli("report", str(cohort["ada"]), "--format", "asciicast")
    assert v2.returncode == 0 and v3.returncode == 0, v3.stderr
    v2_lines = [json.loads(line) for line in v2.stdout.splitlines()]
    v3_lines = [json.loads(line) for line in v3.stdout.splitlines()]
    h2, h3 = v2_lines[0], v3_lines[0]
    assert h3["version"] == 3
    assert h3["term"] == {"cols": h2["width"], "rows": h2["height"], "type": "xterm-256color"}
    assert h3["timestamp"] == h2["timestamp"] and "width" not in h3
    assert len(v3_lines) == len(v2_lines)
    clock = 0.0
    for (t2, c2, d2), (dt, c3, d3) in zip(v2_lines[1:], v3_lines[1:], strict=True):
        assert dt >= 0 and (c2, d2) == (c3, d3)
        clock += dt
        assert clock == pytest.approx(t2, abs=1e-5)
    assert any(code == "m" for _, code, _ in v3_lines[1:])


def test_asciicast_v3_conversion_keeps_order_and_markers() -> None:
    v2 = ('{"version": 2, "width": 80, "height": 24, "env": {"TERM": "xterm", "SHELL": "sh"}}\n'
          '[0.5, "o", "a"]\n[1.25, "m", "run 1"]\n[1.25, "o", "b"]\n')
    lines = [json.loads(x) for x in asciicast_v3(v2).splitlines()]
    assert lines[0] == {"version": 3, "term": {"cols": 80, "rows": 24, "type": "xterm"},
                        "env": {"SHELL": "sh"}}
    assert lines[1:] == [[0.5, "o", "a"], [0.75, "m", "run 1"], [0.0, "o", "b"]]


def test_report_of_a_tampered_session_says_so_first(cohort: dict[str, Path],
                                                    tmp_path: Path) -> None:
    import shutil
    import sqlite3

    copy = tmp_path / "ada.tasession"
    shutil.copy(cohort["ada"], copy)
    conn = sqlite3.connect(copy)
    conn.execute("UPDATE events SET payload = replace(payload, 'Used sum', 'I used sum') "
                 "WHERE kind = 'note'")
    conn.commit()
    conn.close()
    doc = build(copy)
    assert doc["integrity"]["ok"] is False and doc["integrity"]["first_bad_seq"] is not None
    page = render(copy, "html")
    assert page.index('id="integrity-failed"') < page.index("Score by group")
    assert "**This session file fails verification:**" in render(copy, "md")


def test_bad_input_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tasession"
    junk.write_text("not a database")
    proc = cli("report", str(junk), "--format", "html")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not a tui-assess session file" in proc.stderr
    assert "Traceback" not in proc.stderr
    missing = cli("report", str(tmp_path / "nope.tasession"), "--format", "md")
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_report_writes_to_a_file(cohort: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    proc = cli("report", str(cohort["ada"]), "--format", "html", "-o", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("module", ["tui_assess.report.formats", "tui_assess.report.grade",
                                   "tui_assess.report.html", "tui_assess.report.review",
                                   "tui_assess.report.similarity"])
def test_report_modules_are_headless(module: str) -> None:
    code = (f"import json, sys, importlib; importlib.import_module({module!r}); "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert json.loads(proc.stdout) == []


def test_charts_keep_peaks_and_stay_small() -> None:
    from tui_assess.report.html import MAX_POINTS, svg_series

    samples = [[i * 1.0, 5.0, 80.0] for i in range(7200)]
    samples[4321][1] = 97.5  # one spike in two hours of samples
    svg = str(svg_series(samples, 1, label="CPU", unit="%"))
    points = re.search(r'points="([^"]*)"', svg)
    assert points is not None and len(points.group(1).split()) == MAX_POINTS
    assert "peak 97.5 %" in svg
    ys = [float(p.split(",")[1]) for p in points.group(1).split()]
    assert len(set(ys)) == 2  # the spike survived the thinning
    assert "No memory samples" in str(svg_series([[0, "x"]], 2, label="Memory", unit="MB"))


def test_a_session_that_never_ran_or_submitted_still_reports(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    path = record_session(tmp_path / "new.tasession", load_challenge(TINY),
                          {"orders.py": SOLUTION}, run_hidden=False, submit=False)
    doc = json.loads(render(path, "json"))
    jsonschema.Draft202012Validator(schema()).validate(doc)
    assert (doc["score"], doc["score_source"], doc["status"]) == (None, None, None)
    assert doc["submission"]["submitted"] is False and doc["tests"] == []
    assert json.loads(render(path, "exercism"))["status"] == "error"
    assert "Never submitted" in render(path, "html")
    root = ET.fromstring(render(path, "junit").encode())
    assert root.get("tests") == "0"
