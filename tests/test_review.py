"""`tui-assess review DIR`: one row per session file, whatever state it is in; the regraded
score when one is stored; similar submissions flagged; the TUI table (Pilot)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fixtures.ui_support import async_test
from test_report_support import record_session
from test_similarity_support import disguise, submission

from tui_assess.challenge.model import load_challenge
from tui_assess.report.review import collect, to_csv

FIXTURES = Path(__file__).parent / "fixtures" / "challenges"
TINY = FIXTURES / "tiny-sum"
SOLUTION = "def total(amounts):\n    return sum(amounts)\n"
NO_REFUNDS = "def total(amounts):\n    return sum(a for a in amounts if a > 0)\n"
#: A long, unusual solution that two candidates hand in (one disguised, pasted).
SHARED = "def total(amounts):\n    return sum(amounts)\n\n\n" + submission(21)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cohort folder: good sessions, a copied pair, and a tampered, a truncated, a corrupt
    and a not-a-session file."""
    root = tmp_path_factory.mktemp("review")
    ch = load_challenge(TINY)
    record_session(root / "ada.tasession", ch, {"orders.py": SOLUTION}, candidate="ada")
    record_session(root / "bob.tasession", ch, {"orders.py": NO_REFUNDS}, candidate="bob")
    record_session(root / "cy.tasession", ch, {"orders.py": SHARED}, candidate="cy")
    record_session(root / "dan.tasession", ch, {"orders.py": disguise(SHARED, 4)},
                   candidate="=cmd [red]dan[/red]", paste={"orders.py"})
    record_session(root / "eve.tasession", ch, {"orders.py": SOLUTION}, candidate="eve")
    record_session(root / "fay.tasession", ch, {"orders.py": SOLUTION}, candidate="fay")
    # eve's note changed after the fact: the chain breaks
    conn = sqlite3.connect(root / "eve.tasession")
    conn.execute("UPDATE events SET payload = replace(payload, 'orders', 'ORDERS') "
                 "WHERE kind = 'file_open'")
    conn.commit()
    conn.close()
    # fay's last events cut off: the sidecar remembers more
    conn = sqlite3.connect(root / "fay.tasession")
    conn.execute("DELETE FROM events WHERE seq > (SELECT max(seq) - 3 FROM events)")
    conn.commit()
    conn.close()
    # a copy of ada's file cut in half, and a file that is not a database at all
    data = (root / "ada.tasession").read_bytes()
    (root / "gus.tasession").write_bytes(data[: len(data) // 2])
    (root / "hal.tasession").write_text("this is not a session\n")
    return root


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui_assess", *args, "--challenges",
                           str(FIXTURES)], capture_output=True, text=True, timeout=300)


def test_every_file_is_a_row_that_says_what_it_is(folder: Path) -> None:
    review = collect(folder, challenge_dirs=[FIXTURES])
    rows = {Path(r.path).stem: r for r in review.rows}
    assert set(rows) == {"ada", "bob", "cy", "dan", "eve", "fay", "gus", "hal"}
    assert {n: rows[n].integrity for n in rows} == {
        "ada": "intact", "bob": "intact", "cy": "intact", "dan": "intact",
        "eve": "tampered", "fay": "truncated", "gus": "unreadable", "hal": "unreadable"}
    assert "event" in rows["eve"].integrity_detail
    assert "truncated" in rows["fay"].integrity_detail
    assert "not a tui-assess session file" in rows["hal"].integrity_detail
    assert rows["ada"].score == 100.0 and rows["ada"].score_source == "recorded"
    assert rows["bob"].score == 85.0 and rows["ada"].runs == 1
    assert rows["dan"].signals == {"large_paste": 1}
    scores = [r.score for r in review.rows if r.score is not None]
    assert scores == sorted(scores, reverse=True) and review.rows[-1].score is None


def test_the_copied_pair_is_flagged_with_how_each_arose(folder: Path) -> None:
    review = collect(folder, challenge_dirs=[FIXTURES])
    pairs = review.pairs["tiny-sum"]
    assert [(Path(p.a).stem, Path(p.b).stem) for p in pairs] == [("cy", "dan")]
    rows = {Path(r.path).stem: r for r in review.rows}
    (dan,) = rows["dan"].similar
    assert Path(dan["other"]).stem == "cy" and dan["how"] == "pasted"
    assert rows["cy"].similar[0]["how"] == "burst"  # typed line by line within seconds
    assert not rows["ada"].similar and not rows["bob"].similar  # the short fix is not flagged


def test_a_stored_regrade_replaces_the_recorded_score(folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cohort"
    shutil.copytree(folder, copy)
    proc = cli("grade", str(copy / "ada.tasession"), str(copy / "bob.tasession"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {Path(r.path).stem: r for r in collect(copy, similarity=False).rows}
    assert rows["ada"].score_source == "regrade" and rows["ada"].regrade_matches is True
    assert rows["cy"].score_source == "recorded"


def test_cli_json_csv_and_text(folder: Path, tmp_path: Path) -> None:
    proc = cli("review", str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert len(doc["sessions"]) == 8 and len(doc["similar_pairs"]["tiny-sum"]) == 1
    out = tmp_path / "cohort.csv"
    proc = cli("review", str(folder), "--csv", str(out))
    assert proc.returncode == 0 and "8 sessions written" in proc.stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 8 and rows[0]["score"] == "100.0"
    dan = next(r for r in rows if r["session"].endswith("dan.tasession"))
    assert dan["candidate"].startswith("'")  # no live formula cells
    assert dan["similar"] == "cy.tasession (98%; here pasted, there burst)"
    page = tmp_path / "cohort.html"
    proc = cli("review", str(folder), "--html", str(page))
    assert proc.returncode == 0 and "8 sessions written" in proc.stdout
    html = page.read_text()
    assert html.count('<section class="pair" id="pair-1">') == 1 and 'href="#pair-1"' in html
    assert html.count('<tr class="shared">') > 20  # the shared lines, highlighted
    assert "&lt;red&gt;" not in html and "=cmd [red]dan[/red]" in html
    text = cli("review", str(folder))
    assert text.returncode == 0
    assert "tampered" in text.stdout and "truncated" in text.stdout
    assert "unreadable" in text.stdout and "Traceback" not in text.stderr
    assert cli("review", str(tmp_path / "missing")).returncode == 2


def test_csv_quotes_formula_cells() -> None:
    from tui_assess.report.review import Review, ReviewRow

    row = ReviewRow("x.tasession", "intact", candidate="=HYPERLINK(\"http://x\")")
    parsed = list(csv.reader(io.StringIO(to_csv(Review([row], {})))))
    assert parsed[1][0] == "'=HYPERLINK(\"http://x\")"


@async_test
async def test_review_screen_rows_markup_and_side_by_side(folder: Path) -> None:
    from textual.widgets import DataTable

    from tui_assess.ui.screens.review import ReviewApp, ReviewScreen, SideBySideScreen

    review = collect(folder, challenge_dirs=[FIXTURES])
    app = ReviewApp(review)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        table = screen.query_one("#review-table", DataTable)
        assert table.row_count == 8
        names = [str(table.get_cell_at((i, 5))) for i in range(8)]
        assert "=cmd [red]dan[/red]" in names  # shown literally, not as markup
        dan = names.index("=cmd [red]dan[/red]")
        table.move_cursor(row=dan)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SideBySideScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        hal = next(i for i in range(8) if names[i] == "hal.tasession")
        table.move_cursor(row=hal)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)  # an unreadable file does not open


def fixed_review() -> Any:
    """A review built by hand (no clocks, paths or hashes that change between runs)."""
    from tui_assess.report.review import Review, ReviewRow
    from tui_assess.report.similarity import Pair

    rows = [
        ReviewRow("c/ada.tasession", "intact", "intact: 40 events.", candidate="ada",
                  challenge="tiny-sum", score=100.0, max_score=100.0, score_source="regrade",
                  regrade_matches=True, time_used_s=754.0, runs=6, submitted=True),
        ReviewRow("c/cy.tasession", "intact", "intact: 52 events.", candidate="cy",
                  challenge="tiny-sum", score=85.0, max_score=100.0, score_source="recorded",
                  time_used_s=1210.0, runs=3, submitted=True,
                  similar=[{"other": "c/dan.tasession", "score": 0.96, "shared": 248,
                            "how": "burst", "how_other": "pasted"}]),
        ReviewRow("c/dan.tasession", "intact", "intact: 31 events.", candidate="[b]dan[/b]",
                  challenge="tiny-sum", score=85.0, max_score=100.0, score_source="regrade",
                  regrade_matches=False, time_used_s=300.0, runs=1, submitted=True,
                  signals={"large_paste": 1},
                  similar=[{"other": "c/cy.tasession", "score": 0.96, "shared": 248,
                            "how": "pasted", "how_other": "burst"}]),
        ReviewRow("c/eve.tasession", "tampered",
                  "event 12 (edit) does not match its hash.", candidate="eve",
                  challenge="tiny-sum", runs=2),
        ReviewRow("c/hal.tasession", "unreadable",
                  "c/hal.tasession is not a tui-assess session file (it is not an SQLite "
                  "database)."),
    ]
    pair = Pair("c/cy.tasession", "c/dan.tasession", 248, 0.96)
    return Review(rows, {"tiny-sum": [pair]})


def test_snapshot_review_screen(snap_compare: Any) -> None:
    from tui_assess.ui.screens.review import ReviewApp

    async def settle(pilot: Any) -> None:
        await pilot.pause(0.2)

    assert snap_compare(ReviewApp(fixed_review()), terminal_size=(110, 16), run_before=settle)
