"""The HTML report in a real headless browser (Debian's chromium): a session whose code, note,
candidate name, file names and test output hold ``</script><script>`` payloads runs no script.

A positive control first proves the harness sees script execution at all: the same payload
pasted raw into a page does run (it changes the title). Then the report is loaded twice:
as written, and with its Content-Security-Policy removed, so the proof rests on the escaping
alone, not on the policy.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from test_report_support import XSS, record_exam, record_session
from test_similarity_support import submission

from tui_assess.challenge.model import load_challenge
from tui_assess.report.formats import render
from tui_assess.report.html import render_review_html
from tui_assess.report.review import collect

TINY = Path(__file__).parent / "fixtures" / "challenges" / "tiny-sum"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)")


def dump_dom(page: Path) -> str:
    """The DOM after load, as chromium serialises it (scripts have run by then)."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=2000",
             "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def title_of(dom: str) -> str:
    start = dom.index("<title>") + len("<title>")
    return dom[start:dom.index("</title>", start)]


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("xss")
    hostile = (
        "def total(amounts):\n"
        f"    # {XSS}\n"
        "    if len(amounts) == 10:\n"
        f"        return {XSS!r}\n"
        "    return sum(amounts)\n"
    )
    hostile += "\n\n" + submission(5)  # long enough to be flagged when copied
    cohort = folder / "cohort"
    session = record_session(
        cohort / "eve.tasession", load_challenge(TINY),
        {"orders.py": hostile, f"x{XSS}.txt": XSS + "\n"},
        candidate=XSS, note=f"what I did: {XSS}",
    )
    record_session(cohort / "mal.tasession", load_challenge(TINY), {"orders.py": hostile},
                   candidate=f"mal {XSS}", paste={"orders.py"})
    page = folder / "report.html"
    page.write_text(render(session, "html"))
    review = collect(cohort, challenge_dirs=[TINY.parent])
    assert len(review.pairs["tiny-sum"]) == 1  # the hostile code is shown side by side too
    (folder / "review.html").write_text(render_review_html(review, XSS))
    # an exam session: the candidate's name as entered, and the code, are candidate text
    exam, receipt = record_exam(folder / "exam" / "eve.tasession", candidate=XSS,
                                extra_code=f"# {XSS}\n")
    (folder / "exam.html").write_text(render(exam, "html", receipt=receipt))
    return page


def test_the_harness_sees_a_script_run(tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><head><title>report</title></head>"
                       f"<body><p>note: {XSS}</p></body></html>")
    assert title_of(dump_dom(control)) == "pwned"


def test_no_script_runs_in_the_report(hostile_report: Path) -> None:
    source = hostile_report.read_text()
    assert source.count(XSS.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")) >= 4
    without_policy = hostile_report.with_name("no-csp.html")
    lines = [line for line in source.splitlines() if "Content-Security-Policy" not in line]
    without_policy.write_text("\n".join(lines))
    pages = [hostile_report, without_policy]
    for name in ("review.html", "exam.html"):
        page = hostile_report.with_name(name)
        stripped = page.with_name(f"{page.stem}-no-csp.html")
        stripped.write_text("\n".join(line for line in page.read_text().splitlines()
                                      if "Content-Security-Policy" not in line))
        pages += [page, stripped]
    assert "Receipt checked: matches" in pages[-2].read_text()
    for page in pages:
        dom = dump_dom(page)
        assert title_of(dom) != "pwned", f"a script ran in {page.name}"
        assert title_of(dom).endswith(("tui-assess report", "tui-assess review"))
        assert "<script" not in dom.lower(), f"{page.name} has a script element"
        # the payload is on the page as text, where the reviewer can read it
        assert dom.count("&lt;/script&gt;&lt;script&gt;") >= 4
