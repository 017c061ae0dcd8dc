"""The replay's side panels: integrity, test runs, resources, and the candidate's note and help.

Each panel is given plain data (from the session layer) and posts :class:`JumpTo` when the
reviewer picks a moment in it; none of them reads the session file itself.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Label, Markdown, OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from tui_assess.session.origins import clock


@dataclass
class JumpTo(Message):
    """Replay from event ``seq`` (a signal, a run, a note picked in a panel)."""

    seq: int


def _resample(values: Sequence[float], width: int) -> list[float]:
    """At most ``width`` values, each the max of its slice (peaks survive)."""
    if len(values) <= width or width <= 0:
        return list(values)
    step = len(values) / width
    return [max(values[int(i * step): max(int((i + 1) * step), int(i * step) + 1)])
            for i in range(width)]


class IntegrityPanel(VerticalScroll):
    """Verify's verdict first (red when the file fails), then each signal with a jump."""

    DEFAULT_CSS = """
    IntegrityPanel { padding: 0 1; }
    IntegrityPanel #verdict { margin-bottom: 1; }
    IntegrityPanel #verdict.-bad { color: $text-error; background: $error-muted; text-style: bold; }
    IntegrityPanel #verdict.-ok { color: $text-success; }
    IntegrityPanel #notes { color: $text-muted; margin-bottom: 1; }
    IntegrityPanel #signals { height: auto; max-height: 16; border: none; padding: 0; }
    IntegrityPanel #signals.-empty { display: none; }
    IntegrityPanel #link { color: $text-muted; margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Checking the file's hash chain…", id="verdict")
        yield Static("", id="notes")
        yield Label("Signals (facts to look at, not verdicts): checking…", id="signals-title")
        yield OptionList(id="signals", classes="-empty")
        yield Static("", id="link")

    def show_verdict(self, ok: bool, reason: str, notes: Sequence[str], final_link: str | None
                     ) -> None:
        verdict = self.query_one("#verdict", Static)
        verdict.update(f"✔ {reason[:1].upper()}{reason[1:]}" if ok else
                       f"✘ This file FAILS verification: {reason}")
        verdict.set_class(not ok, "-bad")
        verdict.set_class(ok, "-ok")
        self.query_one("#notes", Static).update("\n".join(notes))
        self.query_one("#link", Static).update(
            f"Final link: {final_link}\nCompare it with the link the candidate was shown "
            "(or the exam receipt)." if final_link else "")

    def show_signals(self, signals: Sequence[Any]) -> None:
        """``signals``: session Signal objects (kind, seq, t, detail)."""
        options = self.query_one("#signals", OptionList)
        options.clear_options()
        options.add_options([Option(f"{clock(s.t):>7} #{s.seq:<6} {s.detail}", id=str(s.seq))
                             for s in signals])
        options.set_class(not signals, "-empty")
        self.query_one("#signals-title", Label).update(
            f"Signals (facts to look at, not verdicts): {len(signals)}"
            + (" · Enter or ctrl+→ goes to one" if signals else ""))

    @on(OptionList.OptionSelected, "#signals")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.post_message(JumpTo(int(event.option.id)))


class RunsPanel(Vertical):
    """Every test run with its result, passing tests over time, and a re-run beside the
    recorded run it compares with."""

    DEFAULT_CSS = """
    RunsPanel #runs-summary { padding: 0 1; text-style: bold; }
    RunsPanel #runs-chart { height: 2; margin: 0 1; }
    RunsPanel #runs-chart > .sparkline--max-color { color: $success; }
    RunsPanel #runs-chart > .sparkline--min-color { color: $error; }
    RunsPanel #runs-table { height: 1fr; }
    RunsPanel #rerun { height: auto; max-height: 12; padding: 0 1;
                       border-top: hkey $foreground 20%; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Label("Test runs: reading…", id="runs-summary")
        yield Sparkline([], id="runs-chart", summary_function=max)
        table: DataTable[Any] = DataTable(id="runs-table", cursor_type="row")
        for name, width in (("time", 5), ("suite", 7), ("result", 6), ("passed", 6)):
            table.add_column(name, key=name, width=width)
        yield table
        yield Static("r re-runs the visible tests on the code at the cursor (shift+r: hidden).",
                     id="rerun")

    def show_runs(self, runs: list[dict[str, Any]]) -> None:
        self.runs = [r for r in runs if r.get("seq") is not None]
        table = self.query_one("#runs-table", DataTable)
        table.clear()
        passing = []
        for r in self.runs:
            tests = [t for t in r.get("tests") or [] if isinstance(t, dict)]
            passed = sum(1 for t in tests if t.get("status") == "pass")
            passing.append(float(passed))
            status = str(r.get("status") or "…")
            style = "bold green" if status == "pass" else "bold red" if r.get("status") else ""
            table.add_row(clock(float(r.get("t_start") or r.get("t_end") or 0)),
                          str(r.get("suite")), Text(status, style=style),
                          f"{passed}/{len(tests)}", key=str(r["seq"]))
        self.query_one("#runs-chart", Sparkline).data = _resample(passing, 60)
        failed = sum(1 for r in self.runs if r.get("status") not in ("pass", None))
        self.query_one("#runs-summary", Label).update(
            f"{len(self.runs)} test runs, {failed} not passing; passing tests:"
            if self.runs else "No test runs in this session.")

    def nearest(self, seq: int, suite: str | None = None) -> dict[str, Any] | None:
        """The last run started at or before ``seq`` (of ``suite``), else the first after."""
        runs = [r for r in self.runs if suite is None or r.get("suite") == suite]
        before = [r for r in runs if r["seq"] <= seq]
        return before[-1] if before else (runs[0] if runs else None)

    def follow(self, seq: int) -> None:
        """Keep the table's cursor on the run nearest the replay position."""
        run = self.nearest(seq)
        if run is not None:
            table = self.query_one("#runs-table", DataTable)
            row = table.get_row_index(str(run["seq"]))
            if table.cursor_row != row:
                table.move_cursor(row=row, animate=False)

    def show_rerun(self, text: str) -> None:
        self.query_one("#rerun", Static).update(text)

    @on(DataTable.RowSelected, "#runs-table")
    def _picked(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(JumpTo(int(event.row_key.value)))


class ResourcesPanel(Vertical):
    """CPU and memory over the session (the app and the system, about once a second) and the
    peaks of each test run."""

    DEFAULT_CSS = """
    ResourcesPanel { padding: 0 1; }
    ResourcesPanel Label { margin-top: 1; }
    ResourcesPanel Sparkline { height: 2; }
    ResourcesPanel #res-now { color: $text-muted; }
    ResourcesPanel #res-peaks { height: 1fr; margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Label("App CPU %", id="res-cpu-label")
        yield Sparkline([], id="res-cpu", summary_function=max)
        yield Label("App memory MB", id="res-mem-label")
        yield Sparkline([], id="res-mem", summary_function=max)
        yield Label("System CPU %", id="res-sys-label")
        yield Sparkline([], id="res-sys", summary_function=max)
        yield Static("", id="res-now")
        table: DataTable[Any] = DataTable(id="res-peaks", cursor_type="none")
        for name, width in (("run", 4), ("wall s", 7), ("CPU s", 6), ("peak MB", 8),
                            ("limit", 9)):
            table.add_column(name, key=name, width=width)
        yield table

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._times: list[float] = []
        self._samples: list[dict[str, Any]] = []
        self._at = 0.0
        self._now_shown: int | None = None
        """The sample "At ..." shows (-1: the no-samples line), None: not drawn yet."""
        self._visible = False

    def show_series(self, samples: list[dict[str, Any]], runs: list[dict[str, Any]]) -> None:
        app = [s for s in samples if s.get("scope", "app") == "app"]
        self._times = [float(s["t"]) for s in app]
        self._samples = app
        self._now_shown = None
        if self._visible:
            self._show_now()

        def series(key: str) -> list[float]:
            return _resample([float(s.get(key) or 0) for s in app], 80)

        for key, name, label in (("app_cpu", "cpu", "App CPU %"),
                                 ("app_rss_mb", "mem", "App memory MB"),
                                 ("sys_cpu", "sys", "System CPU %")):
            self.query_one(f"#res-{name}", Sparkline).data = series(key)
            peak = max((float(s.get(key) or 0) for s in app), default=0.0)
            self.query_one(f"#res-{name}-label", Label).update(f"{label} (peak {peak:.0f})")
        table = self.query_one("#res-peaks", DataTable)
        table.clear()
        for i, r in enumerate(runs, start=1):
            res = r.get("resources") or {}
            if not isinstance(res, dict) or not res:
                continue
            table.add_row(str(i), f"{float(res.get('wall_s') or 0):.1f}",
                          f"{float(res.get('cpu_s') or 0):.1f}",
                          f"{float(res.get('peak_rss_mb') or 0):.0f}",
                          str(res.get("limit_hit") or "-"))

    def follow(self, t: float) -> None:
        """The sample at session time ``t``; drawn when the panel is shown (a hidden tab costs
        a move nothing), and only when it is another sample."""
        self._at = t
        if self._visible:
            self._show_now()

    def on_show(self) -> None:
        self._visible = True
        self._show_now()

    def on_hide(self) -> None:
        self._visible = False

    def _show_now(self) -> None:
        samples = self._samples
        i = max(bisect.bisect_right(self._times, self._at) - 1, 0) if samples else -1
        if i == self._now_shown:
            return
        self._now_shown = i
        if not samples:
            self.query_one("#res-now", Static).update("No resource samples recorded.")
            return
        s = samples[i]
        self.query_one("#res-now", Static).update(
            f"At {clock(float(s['t']))}: app {s.get('app_cpu')}% CPU, {s.get('app_rss_mb')} MB; "
            f"system {s.get('sys_cpu')}% CPU, {s.get('sys_mem')}% memory")


class NotesPanel(VerticalScroll):
    """The candidate's note, the hints they saw (with their text when the challenge is here)
    and when they viewed the reference solution."""

    DEFAULT_CSS = """
    NotesPanel { padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Markdown("Reading…", id="notes-text")

    def show_notes(self, notes: Sequence[tuple[int, float, str]],
                   hints: Sequence[tuple[int, float, int, str | None]],
                   solutions: Sequence[tuple[int, float]], solution_key: str | None) -> None:
        """``notes``: (seq, t, text); ``hints``: (seq, t, index, text or None);
        ``solutions``: (seq, t); ``solution_key``: the key that opens the solution, if any."""
        parts = ["## The candidate's note"]
        parts += [f"*{clock(t)} (event {seq})*\n\n> {text}" for seq, t, text in notes] or \
            ["*No note.*"]
        parts.append("## Hints shown")
        parts += [f"- {clock(t)} (event {seq}): hint {i + 1}" + (f": {text}" if text else "")
                  for seq, t, i, text in hints] or ["*None.*"]
        parts.append("## Reference solution")
        parts += [f"- viewed at {clock(t)} (event {seq})" for seq, t in solutions] or \
            ["*Never viewed.*"]
        if solution_key:
            parts.append(f"\n`{solution_key}` shows the reference solution.")
        self.query_one("#notes-text", Markdown).update("\n\n".join(parts))
