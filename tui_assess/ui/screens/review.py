"""The review screen: one row per session of a folder (``tui-assess review DIR`` in a terminal).

Rows come from ``tui_assess.report.review.collect`` (the same data as ``--csv`` and
``--json``). Enter opens the highlighted session in replay; ``s`` shows the highlighted
session side by side with the submission it is most similar to. Every candidate-controlled
string is shown as plain text (``rich.text.Text``), never parsed as markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from tui_assess.errors import UserError
from tui_assess.report.review import Review, ReviewRow, describe_similar

INTEGRITY_STYLE = {"intact": "green", "tampered": "bold red", "truncated": "bold red",
                   "unreadable": "bold red"}


def score_cell(row: ReviewRow) -> Text:
    if not isinstance(row.score, (int, float)) or not isinstance(row.max_score, (int, float)):
        return Text("-", style="dim")
    text = Text(f"{row.score:g}/{row.max_score:g}")
    if row.score_source == "recorded":
        text.append("*", style="dim")
    if row.regrade_matches is False:
        text.stylize("bold red")
        text.append("!", style="bold red")
    return text


def time_cell(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 60}:{s % 60:02d}"


def similar_cell(row: ReviewRow) -> Text:
    if not row.similar:
        return Text("-", style="dim")
    return Text("; ".join(describe_similar(s) for s in row.similar), style="bold yellow")


def replay_screen(path: Path, challenge_dirs: list[Path]) -> Screen[Any] | None:
    """The replay screen (``tui-assess replay``) for a session, with its challenge when it can
    be found (so replay can re-run tests); None where this installation has no replay."""
    try:
        from tui_assess.ui.screens import replay  # type: ignore[attr-defined]
    except ImportError:
        return None
    cls = getattr(replay, "ReplayScreen", None)
    if cls is None:
        return None
    from tui_assess.report.grade import find_challenge
    from tui_assess.session.timeline import Timeline

    timeline = Timeline.open(path)
    challenge_id = str((timeline.session_start or {}).get("challenge_id") or "")
    challenge = find_challenge(challenge_id, challenge_dirs) if challenge_id else None
    screen: Screen[Any] = cls(timeline, challenge=challenge)
    return screen


class ReviewScreen(Screen[None]):
    """The cohort table."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Enter on a row does the same (the table's own row selection).
        Binding("r", "open", "Replay", id="review.open",
                tooltip="Open the highlighted session in replay (Enter does too)."),
        Binding("s", "similar", "Side by side", id="review.similar",
                tooltip="Compare the highlighted submission with the one most similar to it."),
        Binding("q", "app.quit", "Quit", id="review.quit", tooltip="Leave the review."),
    ]

    def __init__(self, review: Review, challenge_dirs: list[Path] | None = None) -> None:
        super().__init__()
        self.review = review
        self.challenge_dirs = list(challenge_dirs or [])

    def compose(self) -> ComposeResult:
        pairs = sum(len(p) for p in self.review.pairs.values())
        bad = sum(1 for r in self.review.rows if r.integrity != "intact")
        yield Label(f"tui-assess · review · {len(self.review.rows)} sessions, {bad} failing "
                    f"verification, {pairs} similar pairs", id="review-title")
        table: DataTable[Any] = DataTable(id="review-table", cursor_type="row", zebra_stripes=True)
        receipt = [("receipt", "receipt")] if self.review.has_exams else []
        for label, key in (("score", "score"), ("time", "time"), ("runs", "runs"),
                           ("integrity", "integrity"), ("signals", "signals"), *receipt,
                           ("candidate", "candidate"), ("challenge", "challenge"),
                           ("similar to", "similar")):
            table.add_column(label, key=key)
        yield table
        yield Static("", id="review-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#review-table", DataTable)
        for i, r in enumerate(self.review.rows):
            receipt = [Text(r.receipt_cell, style="red" if r.receipt_cell in ("MISMATCH", "no exam")
                            else "")] if self.review.has_exams else []
            table.add_row(
                score_cell(r), time_cell(r.time_used_s), str(r.runs),
                Text(r.integrity, style=INTEGRITY_STYLE.get(r.integrity, "")),
                str(r.signal_count) if r.signal_count else "-", *receipt,
                Text(r.candidate or Path(r.path).name),
                Text(r.challenge or "-"), similar_cell(r), key=str(i),
            )
        self._show_detail()
        table.focus()

    def highlighted(self) -> ReviewRow | None:
        table = self.query_one("#review-table", DataTable)
        if not self.review.rows or table.cursor_row < 0:
            return None
        return self.review.rows[min(table.cursor_row, len(self.review.rows) - 1)]

    def _show_detail(self) -> None:
        r = self.highlighted()
        detail = self.query_one("#review-detail", Static)
        if r is None:
            detail.update(Text("No session files in this folder."))
            return
        text = Text(f"{Path(r.path).name}\n")
        text.append(f"integrity: {r.integrity_detail}\n",
                    style="red" if r.integrity != "intact" else "")
        signals = ", ".join(f"{k} {n}" for k, n in sorted(r.signals.items())) or "none"
        text.append(f"signals: {signals}; submitted: {'yes' if r.submitted else 'no'}; "
                    f"score from: {r.score_source or 'no hidden run'}")
        if r.receipt is not None:
            text.append(f"\n{r.receipt['summary']}: {r.receipt['reason']}",
                        style="red" if r.receipt["status"] != "matches" else "")
        detail.update(text)

    @on(DataTable.RowHighlighted, "#review-table")
    def _row_highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#review-table")
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        r = self.highlighted()
        if r is None:
            return
        if r.integrity == "unreadable":
            self.notify(f"{Path(r.path).name} cannot be replayed: {r.integrity_detail}",
                        severity="error", markup=False)
            return
        try:
            screen = replay_screen(Path(r.path), self.challenge_dirs)
        except UserError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if screen is None:
            self.notify("Replay is not available in this installation: "
                        f"tui-assess replay {r.path}", severity="warning", markup=False)
            return
        self.app.push_screen(screen)

    def action_similar(self) -> None:
        r = self.highlighted()
        if r is None or not r.similar:
            self.notify("This submission is not flagged as similar to another.", timeout=3)
            return
        other = next((x for x in self.review.rows if x.path == r.similar[0]["other"]), None)
        pair = next((p for ps in self.review.pairs.values() for p in ps
                     if {p.a, p.b} == {r.path, r.similar[0]["other"]}), None)
        if other is None or pair is None:
            return
        self.app.push_screen(SideBySideScreen(r, other, pair))


class SideBySideScreen(Screen[None]):
    """Two submissions side by side, the lines they share highlighted, and how the shared code
    arose in each session."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="review.back",
                tooltip="Back to the review table."),
    ]

    def __init__(self, left: ReviewRow, right: ReviewRow, pair: Any) -> None:
        super().__init__()
        self.left, self.right, self.pair = left, right, pair

    def _side(self, row: ReviewRow) -> tuple[dict[str, list[int]], dict[str, Any]]:
        if row.path == self.pair.a:
            return self.pair.lines_a, self.pair.evidence.get("a", {})
        return self.pair.lines_b, self.pair.evidence.get("b", {})

    def compose(self) -> ComposeResult:
        yield Label(f"{self.pair.score:.0%} of the smaller submission's fingerprints shared "
                    f"({self.pair.shared})", id="side-title")
        with Horizontal(id="side-by-side"):
            for row in (self.left, self.right):
                lines, evidence = self._side(row)
                with VerticalScroll(classes="side"):
                    head = Text(f"{row.candidate or Path(row.path).name}\n", style="bold")
                    head.append(f"{evidence.get('how', '?')}: {evidence.get('detail', '')}")
                    yield Static(head, classes="side-head")
                    for path, text in sorted(row.files.items()):
                        if path not in lines:
                            continue
                        yield Static(Text(path, style="underline"))
                        yield Static(Syntax(text, "python" if path.endswith(".py") else "text",
                                            line_numbers=True, word_wrap=False,
                                            highlight_lines=set(lines[path])))
        yield Footer()


class ReviewApp(App[None]):
    """``tui-assess review DIR`` in a terminal."""

    # The app's stylesheet too: replay, opened from a row, is styled there.
    CSS_PATH = ["../styles/app.tcss", "../styles/review.tcss"]
    TITLE = "tui-assess review"

    def __init__(self, review: Review, challenge_dirs: list[Path] | None = None) -> None:
        super().__init__()
        self.review = review
        self.challenge_dirs = list(challenge_dirs or [])

    def on_mount(self) -> None:
        self.push_screen(ReviewScreen(self.review, self.challenge_dirs))
