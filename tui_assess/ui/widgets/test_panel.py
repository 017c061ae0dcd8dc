"""A test run, shown: one line per test (status, duration), the failure details of the
selected one, live CPU and memory. The panel runs the checker in a worker thread and posts
`RunFinished` (ui/messages.py) when it is done."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Label, Static

from tui_assess.judge.types import ResourceSample, TestFinished, TestStarted
from tui_assess.ui.failures import summarise_failure
from tui_assess.ui.messages import RunFinished
from tui_assess.ui.widgets.literal import plain
from tui_assess.ui.widgets.resource_meter import ResourceMeter

ICONS = {
    "pass": ("✔ pass", "$success"),
    "fail": ("✘ fail", "$error"),
    "error": ("✘ err", "$error"),
    "skip": ("- skip", "$warning"),
    "running": ("… run", "$accent"),
    "timeout": ("⏱ time", "$error"),
    "stopped": ("■ stop", "$warning"),
}
STYLES = {
    "pass": "green",
    "fail": "red",
    "error": "red",
    "skip": "yellow",
    "running": "cyan",
    "timeout": "red",
    "stopped": "yellow",
}
DETAILS_HEIGHT = (3, 40)
"""Smallest and largest height of the details pane (plus / minus resize it)."""


def status_cell(status: str) -> Text:
    label = ICONS.get(status, (status, ""))[0]
    return Text(label, style=f"bold {STYLES.get(status, '')}".strip())


def short_name(nodeid: str) -> str:
    return nodeid.split("::")[-1]


class TestPanel(Vertical):
    """Runs a suite through a checker; filled live from its TestStarted / TestFinished events,
    then from the final result."""

    @dataclass
    class Sampled(Message):
        """The latest resource sample of the running tests (about ten a second at most)."""

        sample: ResourceSample

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "plus,equals_sign",
            "resize_details(3)",
            "Taller details",
            id="tests.details_taller",
            tooltip="Give the failure details more room.",
            show=False,
        ),
        Binding(
            "minus",
            "resize_details(-3)",
            "Shorter details",
            id="tests.details_shorter",
            tooltip="Give the list of tests more room.",
            show=False,
        ),
    ]
    HELP_TITLE = "Test results keys (when the list or the details have focus)"
    BUILTIN_KEYS: ClassVar[list[tuple[str, str]]] = [
        ("up / down", "select a test: its failure details show below"),
        ("tab", "move to the details; arrows, pagedown, end scroll them"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.details: dict[str, str] = {}
        self.running = False
        self._events: deque[Any] = deque()
        self._cancel: threading.Event | None = None
        self.unfinished: dict[str, None] = {}
        """Tests started and not finished yet, in order (a timeout names the last one)."""

    def compose(self) -> ComposeResult:
        yield Label("Press ctrl+r to run the visible tests.", id="run-summary", markup=False)
        table: DataTable[Any] = DataTable(id="test-table", cursor_type="row", zebra_stripes=False)
        table.add_column("status", key="status", width=6)
        table.add_column("time", key="time", width=6)
        table.add_column("test", key="test")
        yield table
        with VerticalScroll(id="test-details-scroll"):
            yield Static("", id="test-details", markup=False)
        yield ResourceMeter(id="meter")

    def on_mount(self) -> None:
        # Runs only during a run (start .. finish): an idle panel costs no wake-ups.
        self._flusher = self.set_interval(0.08, self.flush_events, pause=True)

    # -- running ------------------------------------------------------------------------------

    def run(self, checker: Any, challenge: Any, workspace: Any, suite: str) -> None:
        """Start the checker on a worker thread; RunFinished is posted when it ends."""
        self._events.clear()
        self._cancel = threading.Event()
        self.start(suite)
        self.query_one("#meter", ResourceMeter).reset()
        self._run_worker(checker, challenge, workspace, suite, self._cancel)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def _run_worker(
        self, checker: Any, challenge: Any, workspace: Any, suite: str, cancel: threading.Event
    ) -> None:
        try:
            events = self._events.append
            result = checker(challenge, workspace, suite, on_event=events, cancel=cancel)
        except Exception as exc:  # the checker's bugs must not take the UI down
            self.post_message(RunFinished(suite, None, error=f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(RunFinished(suite, result))

    def cancel(self) -> bool:
        """Ask the running checker to stop (it kills the run's processes)."""
        if self._cancel is None or not self.running:
            return False
        self._cancel.set()
        return True

    def flush_events(self) -> None:
        """Show what the run thread queued since the last tick: one UI update per tick."""
        if not self._events:
            return
        batch = []
        while self._events:
            batch.append(self._events.popleft())
        samples = self.apply_events(batch)
        if samples:
            self.query_one("#meter", ResourceMeter).add_samples(samples)
            self.post_message(self.Sampled(samples[-1]))

    def show_result(self, result: Any) -> None:
        """The run ended: the authoritative rows, and the meter back to idle."""
        self.flush_events()
        self.finish(result)
        self.query_one("#meter", ResourceMeter).show_peak(result.resources)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#test-table", DataTable)

    def _say(self, summary: str) -> None:
        self.query_one("#run-summary", Label).update(summary)

    def start(self, suite: str) -> None:
        self.running = True
        self._flusher.resume()
        self.details.clear()
        self.unfinished.clear()
        self.table.clear()
        self.query_one("#test-details", Static).update("")
        which = "visible" if suite == "visible" else "hidden"
        self._say(f"Running the {which} tests... (escape cancels)")

    def _set_row(self, key: str, status: str, duration: float | None) -> None:
        table = self.table
        cells = (
            status_cell(status),
            f"{duration:.2f}s" if duration is not None else "",
            plain(short_name(key)),
        )
        if key in table.rows:
            for col, value in zip(("status", "time", "test"), cells, strict=True):
                table.update_cell(key, col, value)
        else:
            table.add_row(*cells, key=key)

    def apply_events(self, events: list[Any]) -> list[ResourceSample]:
        """Show a batch of run events; returns the resource samples among them."""
        samples = []
        for ev in events:
            if isinstance(ev, TestStarted):
                self.test_started(ev.nodeid)
            elif isinstance(ev, TestFinished):
                self.test_finished(ev.outcome)
            elif isinstance(ev, ResourceSample):
                samples.append(ev)
        return samples

    def test_started(self, nodeid: str) -> None:
        self.unfinished[nodeid] = None
        self._set_row(nodeid, "running", None)

    def test_finished(self, outcome: Any) -> None:
        key = outcome.nodeid
        self.unfinished.pop(key, None)
        self.details[key] = outcome.message or ""
        self._set_row(key, outcome.status, outcome.duration_s)
        self._show_selected()

    def finish(self, result: Any) -> None:
        """Replace the live rows with the authoritative result; a run stopped by a limit (or
        cancelled) names the test that was running."""
        self.running = False
        self._flusher.pause()
        table = self.table
        table.clear()
        self.details.clear()
        reported = set()
        for t in result.tests:
            file = getattr(t, "file", "")
            key = f"{file}::{t.name}" if file else t.name
            while key in self.details:  # the same name twice: still one row each
                key += "'"
            reported.add(short_name(t.name))
            self.details[key] = t.message or ""
            cells = (status_cell(t.status), f"{t.duration_s:.2f}s", plain(short_name(t.name)))
            table.add_row(*cells, key=key)
        stopped = [n for n in self.unfinished if short_name(n) not in reported]
        reason = getattr(result, "reason", "") or ""
        if result.status not in ("pass", "fail"):
            status = "timeout" if result.status == "timeout" else "stopped"
            for nodeid in stopped:
                self.details[nodeid] = (
                    f"{short_name(nodeid)} was running when the run was stopped: "
                    f"{reason or result.status}"
                )
                table.add_row(status_cell(status), "", plain(short_name(nodeid)), key=nodeid)
        self.unfinished.clear()
        passed = sum(1 for t in result.tests if t.status == "pass")
        failed = sum(1 for t in result.tests if t.status in ("fail", "error"))
        summary = f"{passed} passed, {failed} failed"
        if result.status not in ("pass", "fail"):
            summary += f" — run {result.status}"
            if stopped:
                summary += f" in {short_name(stopped[-1])}"
        if reason:
            summary += f": {reason}"
        self._say(summary)
        # Select the first failure (or the test a limit stopped): what the candidate wants.
        bad = [i for i, t in enumerate(result.tests) if t.status in ("fail", "error")]
        if stopped and result.status not in ("pass", "fail"):
            bad = [len(result.tests)]
        if table.row_count:
            table.move_cursor(row=bad[0] if bad else 0)
        elif getattr(result, "output", ""):
            self.query_one("#test-details", Static).update(result.output[-4000:])
        self._show_selected()

    def failed_to_run(self, message: str) -> None:
        self.running = False
        self._say("The run could not start.")
        self.query_one("#test-details", Static).update(message)

    def _show_selected(self) -> None:
        table = self.table
        if table.row_count == 0:
            return
        try:
            key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        except Exception:
            return
        if key is None:
            return
        text = self.details.get(key, "")
        # The name first: a narrow pane cuts it short in the table.
        name = short_name(key.rstrip("'"))
        shown = f"{name}\n\n{summarise_failure(text)}" if text else f"{name}: no failure details."
        self.query_one("#test-details", Static).update(shown)
        self.query_one("#test-details-scroll").scroll_home(animate=False)

    @on(DataTable.RowHighlighted, "#test-table")
    def _row_highlighted(self) -> None:
        self._show_selected()

    def action_resize_details(self, delta: int) -> None:
        scroll = self.query_one("#test-details-scroll")
        low, high = DETAILS_HEIGHT
        current = scroll.size.height or low
        scroll.styles.height = max(low, min(high, current + delta))
