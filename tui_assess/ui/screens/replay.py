"""Reviewer replay: watch, seek, search and diff a recorded session, see where every line came
from, and re-run the tests on the code as it was at any moment.

The screen composes widgets (timeline bar, code view, event list, panels) and moves one
position, ``seq``, through the session; everything it shows comes from the headless
``Timeline`` (``tui_assess.session``). Slow work (verify, the origin index, signals, search, a
re-run) runs in worker threads on a ``Timeline.clone()`` and comes back with
``call_from_thread``, so the screen is interactive while it happens.
"""

from __future__ import annotations

import bisect
import gc
import threading
import time
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Footer, Label, OptionList, Select, TabbedContent, TabPane
from textual.widgets.option_list import Option

from tui_assess.challenge.model import Challenge
from tui_assess.errors import UserError
from tui_assess.session import activity
from tui_assess.session.origins import clock
from tui_assess.session.search import SearchHit
from tui_assess.session.timeline import Timeline
from tui_assess.ui.checking import Checker, default_checker
from tui_assess.ui.screens.replay_dialogs import DiffScreen, PromptScreen
from tui_assess.ui.screens.replay_work import ReplayWork
from tui_assess.ui.widgets.timeline_bar import TimelineBar
from tui_assess.ui.widgets.timeline_code import CodeView
from tui_assess.ui.widgets.timeline_events import EventList
from tui_assess.ui.widgets.timeline_panels import (
    IntegrityPanel,
    JumpTo,
    NotesPanel,
    ResourcesPanel,
    RunsPanel,
)

FILE_KINDS = frozenset({"edit", "file_open", "save", "external_change", "paste"})
FILTERS = [("every event", "all"), ("test runs", "runs"), ("pastes", "paste"),
           ("focus", "away"), ("outside the app", "external"), ("terminal", "terminal"),
           ("typing", "typing"), ("notes, hints, submit", "other")]
FILTER_CATEGORIES = {"runs": {"run_pass", "run_fail"}, "other": {"other", "help", "submit",
                                                                   "resume"}}


HELP = """\
## Line origins (the gutter left of the line numbers)

Each character of a file remembers the event that put it there; a line shows the most notable
origin among its characters, and `o` goes to the moment the line got its present text.

- `P` **pasted** (the status line gives the paste's size and time), `E` **changed outside the
  app** (the app saw the file change on disk), `O` **found changed unseen** (the files at a
  test run or a keyframe differed from the replayed edits), `C` **different at a resume**
  (unsaved edits lost in a crash, or changes while the app was closed), `R` **restored by a
  reset**, `T` **typed here**, blank: **in the files when the session began**.
- The lines of the latest change are highlighted.

## The timeline bar

One cell per slice of the session: `▁▂▃▄▅▆▇` typing (taller: more), `✓` a passing test run,
`✗` a failing one, `P` a paste, `E` an outside change, `░` the app without focus, `$` the
terminal pane, `S` submit, `R` a resume, `?` a hint or the solution, `·` other events, blank:
idle. Below it: `▲` where the replay is, `◆` marks, `!` integrity signals, `•` search hits.
Click or drag on the bar to go there.

## Integrity

The Integrity panel shows `session verify`'s verdict first (red when the file fails it, with
the first bad event) and the integrity signals: facts to look at (large pastes, long focus
losses, outside changes, clock jumps, resumes), not verdicts. `r` re-runs the tests on the
code at the cursor, through the same sandboxed runner as `tui-assess check`.
"""


def _b(key: str, action: str, description: str, tooltip: str, *, id: str | None = None,
       show: bool = False) -> Binding:
    # Priority: the code view, the lists and the tables must not swallow replay keys.
    return Binding(key, action, description, show=show, priority=True,
                   id=f"replay.{id or action}", tooltip=tooltip)


class ReplayScreen(ReplayWork):
    """One session file, replayed. Open with ``tui-assess replay SESSION``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _b("space", "play", "Play", "Play or pause (from the start when at the end).",
           show=True),
        _b("left", "step(-1)", "Back", "Back one event.", id="step_back", show=True),
        _b("right", "step(1)", "Next", "Forward one event.", id="step_forward", show=True),
        _b("shift+left", "run(-1)", "Previous run", "Go to the previous test run.",
           id="run_back"),
        _b("shift+right", "run(1)", "Next run", "Go to the next test run.", id="run_forward"),
        _b("ctrl+left", "signal(-1)", "Previous signal",
           "Go to the previous integrity signal (paste, focus loss, outside change, ...).",
           id="signal_back"),
        _b("ctrl+right", "signal(1)", "Next signal", "Go to the next integrity signal.",
           id="signal_forward"),
        _b("left_square_bracket", "speed(-1)", "Slower", "Halve the playback speed (0.5x).",
           id="slower"),
        _b("right_square_bracket", "speed(1)", "Faster", "Double the playback speed (to 32x).",
           id="faster"),
        _b("i", "skip_idle", "Skip idle", "Skip idle stretches while playing (on or off)."),
        _b("g", "goto", "Go to", "Go to a time (12:30, 1:02:03, 90s) or an event number.",
           show=True),
        _b("slash", "search", "Search", "Search the code over time and the events.", show=True),
        _b("n", "hit(1)", "Next hit", "Go to the next search hit.", id="hit_forward"),
        _b("N", "hit(-1)", "Previous hit", "Go to the previous search hit.", id="hit_back"),
        _b("m", "mark", "Mark", "Mark this moment (d compares the last two marks).", show=True),
        _b("d", "diff", "Diff",
           "Diff the last two marks (one mark: mark to here; none: start to here).", show=True),
        _b("r", "rerun('visible')", "Re-run",
           "Run the visible tests on the code as it was here, beside the recorded run.",
           id="rerun_visible", show=True),
        _b("R", "rerun('hidden')", "Re-run hidden",
           "Run the hidden tests on the code as it was here.", id="rerun_hidden"),
        _b("escape", "back", "Back",
           "Stop a re-run in progress; else back to the screen below (the review table)."),
        _b("o", "origin", "Origin",
           "Go to the moment the line at the cursor got its present text.", show=True),
        _b("home", "edge(0)", "Start", "Go to the start of the session.", id="start"),
        _b("end", "edge(1)", "End", "Go to the end of the session.", id="end"),
        _b("k", "filter", "Filter events", "Show only one kind of event in the event list."),
        _b("f2", "panel('integrity')", "Integrity", "Verify result and integrity signals.",
           id="integrity"),
        _b("f3", "panel('events')", "Events", "The event list.", id="events"),
        _b("f4", "panel('runs')", "Runs", "Test runs, and re-run results.", id="runs"),
        _b("f5", "toggle_files", "Files", "Show or hide the file list."),
        _b("f6", "panel('resources')", "Resources", "CPU and memory over time.",
           id="resources"),
        _b("f7", "panel('notes')", "Notes", "The candidate's note, hints and solution views.",
           id="notes"),
        _b("s", "solution", "Solution", "Show the challenge's reference solution."),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    HELP_MARKDOWN: ClassVar[str] = HELP
    HELP_WIDGETS = (CodeView, EventList)

    playing: reactive[bool] = reactive(False, init=False)
    """Playback is running (space)."""
    speed: reactive[float] = reactive(1.0)
    """Playback speed: session seconds per real second."""
    skip_idle: reactive[bool] = reactive(True)
    """Idle stretches play as at most IDLE_GAP_S of session time."""

    def __init__(self, timeline: Timeline, *, challenge: Challenge | None = None,
                 checker: Checker | None = None) -> None:
        super().__init__()
        self.timeline = timeline
        self.challenge = challenge
        self.checker: Checker = checker or default_checker
        start = timeline.session_start or {}
        self.title_text = (f"Replay · {start.get('challenge_id', '?')} ({start.get('mode', '?')})"
                           + (f" · {start['candidate']}" if start.get("candidate") else ""))
        self.steps = timeline.steps()
        self._step_times = [timeline.times[timeline.index_of(s)] for s in self.steps]
        self._runs = [s for s, k in zip(timeline.seqs, timeline.kinds, strict=True)
                      if k == "run_start"]
        self.seq = timeline.seqs[-1]
        self.path: str | None = None
        self.marks: list[int] = []
        self.hits: list[SearchHit] = []
        self.signals: list[Any] | None = None
        self.verified: bool | None = None
        """Verify's verdict, once it is in."""
        self.panels_ready = False
        self._play_t = 0.0
        self._tick_at = 0.0
        self._filter = "all"
        self._rerun_cancel: threading.Event | None = None
        self._draw_at: float | None = None
        self._draw_pending = False
        self._position_text = ""
        self._run_files: tuple[int | None, dict[str, str] | None] = (None, None)
        """The files at the latest test run before the position (its seq, its files)."""
        self._files_shown: tuple[Any, ...] = ()
        self._status_head = ""
        self._refocus = True

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="replay-header"):
            yield Label(self.title_text, id="replay-title")
            yield Label("", id="replay-position")
            yield Label("verifying…", id="replay-integrity")
        yield TimelineBar(self.timeline.activity, self.timeline.duration, id="replay-bar")
        with Horizontal(id="replay-main"):
            yield OptionList(id="replay-files")
            yield CodeView(id="replay-code")
            with TabbedContent(id="replay-side", initial="integrity-pane"):
                with TabPane("Integrity", id="integrity-pane"):
                    yield IntegrityPanel(id="integrity")
                with TabPane("Events", id="events-pane"), Vertical():
                    yield Select(FILTERS, value="all", allow_blank=False, id="event-filter")
                    yield EventList(self._describe, id="events")
                with TabPane("Runs", id="runs-pane"):
                    yield RunsPanel(id="runs")
                with TabPane("Resources", id="resources-pane"):
                    yield ResourcesPanel(id="resources")
                with TabPane("Notes", id="notes-pane"):
                    yield NotesPanel(id="notes")
        yield Label("", id="replay-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#events", EventList).set_seqs(self.steps)
        self.show(self.seq)
        self.query_one("#replay-code", CodeView).focus()
        self._playback = self.set_interval(1 / 30, self._tick, pause=True, name="playback")
        self._verify_worker()
        self._index_worker()
        self._panels_worker()

    def on_unmount(self) -> None:
        if self._rerun_cancel is not None:
            self._rerun_cancel.set()
        self.timeline.close()
        gc.unfreeze()  # see ReplayWork._settle_heap

    def action_back(self) -> None:
        if self._rerun_cancel is not None:
            self._rerun_cancel.set()
        elif len(self.app.screen_stack) > 2:  # opened from another screen: back to it
            self.dismiss(None)

    # -- the position ------------------------------------------------------------------------

    def _describe(self, seq: int) -> tuple[str, str]:
        try:
            ev = self.timeline.event(seq)
        except UserError as exc:
            return "?", str(exc)
        words = activity.describe(ev.kind, ev.payload)
        origin = tl_origin.get(seq) if (tl_origin := self._origin_of()) else None
        if origin is not None and origin.kind == "paste":
            words = words.replace(": typed ", ": pasted ", 1)
        return clock(ev.t), words

    def _origin_of(self) -> dict[int, Any] | None:
        tl = self.timeline
        return tl.origin_index().origin_of if tl.origins_ready else None

    def show(self, seq: int, at: float | None = None) -> None:
        """Move the replay to just after event ``seq``; ``at``: the session time asked for (a
        drag, playback), where the bar's marker goes. The screen is redrawn once per turn of
        the event loop: a burst of moves (a held key, a drag) draws only the latest one."""
        tl = self.timeline
        self.seq = max(tl.seqs[0], min(seq, tl.seqs[-1]))
        self._draw_at = at
        if not self._draw_pending:
            self._draw_pending = True
            self.call_later(self._draw)

    def _draw(self) -> None:
        """Redraw what depends on the position (each widget repaints only what changed)."""
        self._draw_pending = False
        tl = self.timeline
        seq, at = self.seq, self._draw_at
        t = tl.times[tl.index_of(seq)] if at is None else at
        code = self.query_one("#replay-code", CodeView)
        try:
            event = tl.event(seq)
            state = tl.state_at(seq=seq)
            path = event.payload.get("path") if event.kind in FILE_KINDS else None
            if not isinstance(path, str) or path not in state:
                path = self.path if self.path in state else self._last_file(seq, state)
            self.path = path
            focus = None
            if event.kind == "edit" and path == event.payload.get("path"):
                focus = state[path].count("\n", 0, int(event.payload.get("offset") or 0))
            chars = tl.lines_at(path, seq) if tl.origins_ready and path else None
            if focus is None and chars is not None and (self._refocus or path != code.path):
                # A file shown afresh opens at its latest change.
                latest = chars.seqs.index(chars.latest_seq()) if chars.seqs else 0
                focus = chars.text.count("\n", 0, latest)
            self._refocus = False
            code.show(path, state.get(path or "", "").split("\n") if path else [],
                      chars.reader(tl.origin_index().origin_of) if chars else None,
                      chars.latest_seq() if chars else None, focus,
                      "" if tl.origins_ready else "(line origins: indexing…)")
            self._show_files(state)
            words = activity.describe(event.kind, event.payload)
        except UserError as exc:
            code.show(self.path, [], None, None, None, str(exc))
            words = str(exc)
        self.query_one("#replay-bar", TimelineBar).position = t
        self._show_position(t)
        self._status(f"#{seq} {clock(t)} · {words}")
        self.query_one("#events", EventList).set_current(seq)
        self.query_one("#runs", RunsPanel).follow(seq)
        self.query_one("#resources", ResourcesPanel).follow(t)

    def _position(self, t: float, seq: int, speed: float, skip_idle: bool) -> str:
        tl = self.timeline
        return (f"{clock(t)} / {clock(tl.times[-1])} · event {seq} of {tl.seqs[-1]}"
                f" · {'▶' if self.playing else '‖'} {speed:g}x"
                + (" · skip idle" if skip_idle else ""))

    def _show_position(self, t: float) -> None:
        # The label's width follows its text, and a new width costs a whole-screen relayout:
        # the text is padded to the widest a move can make it (the end's time and event
        # number), so only a new speed or skip-idle setting changes the width.
        tl = self.timeline
        widest = self._position(tl.times[-1], tl.seqs[-1], self.speed, self.skip_idle)
        text = self._position(t, self.seq, self.speed, self.skip_idle).rjust(len(widest))
        if text != self._position_text:
            self.query_one("#replay-position", Label).update(
                text, layout=len(text) != len(self._position_text))
            self._position_text = text

    def _last_file(self, seq: int, state: dict[str, str]) -> str | None:
        """The file of the latest file event at or before ``seq`` (else the first file)."""
        tl = self.timeline
        for i in range(tl.index_of(seq), -1, -1):
            if tl.kinds[i] in FILE_KINDS:
                path = tl.event(tl.seqs[i]).payload.get("path")
                if isinstance(path, str) and path in state:
                    return path
        return next(iter(sorted(state)), None)

    def _status(self, first: str) -> None:
        self._status_head = first
        code = self.query_one("#replay-code", CodeView)
        origin = code.origin_at_cursor()
        line = (f" · line {code.cursor_line + 1}: {origin.describe()} (o goes there)"
                if origin else "")
        # One row across the screen: its size never follows its text.
        self.query_one("#replay-status", Label).update(first + line, layout=False)

    @on(CodeView.CursorMoved)
    def _cursor_moved(self) -> None:
        self._status(self._status_head)

    def _show_files(self, state: dict[str, str]) -> None:
        """The files at this moment; ● marks those changed since the last test run."""
        i = bisect.bisect_right(self._runs, self.seq)
        run = self._runs[i - 1] if i else None
        if run != self._run_files[0]:
            self._run_files = (run, self.timeline.state_at(seq=run) if run is not None else None)
        before = self._run_files[1]
        shown = tuple((p, before is not None and before.get(p) != text, p == self.path)
                      for p, text in sorted(state.items()))
        if shown == self._files_shown:
            return
        self._files_shown = shown
        files = self.query_one("#replay-files", OptionList)
        files.clear_options()
        files.add_options([Option(("● " if changed else "  ") + p, id=p)
                           for p, changed, _ in shown])
        if self.path in state:
            files.highlighted = [p for p, _, _ in shown].index(self.path)

    @on(OptionList.OptionSelected, "#replay-files")
    def _file_picked(self, event: OptionList.OptionSelected) -> None:
        self.path = event.option.id
        self.show(self.seq)

    @on(TimelineBar.Seek)
    def _bar_seek(self, event: TimelineBar.Seek) -> None:
        # Drags arrive faster than a redraw: show() draws only the latest position.
        self.show(max(self.timeline.seq_at(event.seconds), self.timeline.seqs[0]),
                  event.seconds)

    @on(JumpTo)
    @on(EventList.Jump)
    def _jump(self, event: JumpTo | EventList.Jump) -> None:
        self.playing = False
        self.show(event.seq)

    # -- keys --------------------------------------------------------------------------------

    def _next(self, seqs: list[int], direction: int) -> int | None:
        if direction > 0:
            i = bisect.bisect_right(seqs, self.seq)
            return seqs[i] if i < len(seqs) else None
        i = bisect.bisect_left(seqs, self.seq)
        return seqs[i - 1] if i else None

    def _go(self, seqs: list[int], direction: int, what: str) -> None:
        target = self._next(seqs, direction)
        if target is None:
            self.notify(f"No {what} {'after' if direction > 0 else 'before'} this point.",
                        timeout=2)
            return
        self.playing = False
        self.show(target)

    def action_step(self, direction: int) -> None:
        self._go(self.steps, direction, "event")

    def action_run(self, direction: int) -> None:
        self._go(self._runs, direction, "test run")

    def action_signal(self, direction: int) -> None:
        if self.signals is None:
            self.notify("Still looking for integrity signals…", timeout=2)
            return
        self._go(sorted({s.seq for s in self.signals}), direction, "integrity signal")

    def action_hit(self, direction: int) -> None:
        if not self.hits:
            self.notify("No search hits: / searches.", timeout=2)
            return
        self._go(sorted({h.seq for h in self.hits}), direction, "search hit")

    def action_edge(self, end: int) -> None:
        self.playing = False
        self.show(self.timeline.seqs[-1] if end else self.timeline.seqs[0])

    def action_origin(self) -> None:
        origin = self.query_one("#replay-code", CodeView).origin_at_cursor()
        if origin is None:
            self.notify("Line origins are still being indexed." if not
                        self.timeline.origins_ready else "No line here.", timeout=2)
            return
        self.playing = False
        self.show(origin.latest.seq)
        self.notify(f"This line: {origin.describe()}.", timeout=5)

    def action_mark(self) -> None:
        self.marks = [*self.marks, self.seq][-2:]
        self.query_one("#replay-bar", TimelineBar).set_points(
            marks=[self.timeline.times[self.timeline.index_of(s)] for s in self.marks])
        self.notify(f"Marked event {self.seq}" + (f" (and event {self.marks[0]}): d diffs them."
                                                  if len(self.marks) == 2 else "."), timeout=2)

    def action_diff(self) -> None:
        tl = self.timeline
        first_files = tl.seqs[min(1, len(tl.seqs) - 1)]  # the start keyframe follows the start
        a, b = (self.marks if len(self.marks) == 2 else
                [self.marks[0], self.seq] if self.marks else [first_files, self.seq])
        a, b = sorted((a, b))
        try:
            text = tl.diff(a, b)
        except UserError as exc:
            self.notify(str(exc), severity="error")
            return
        ta, tb = tl.times[tl.index_of(a)], tl.times[tl.index_of(b)]
        self.app.push_screen(DiffScreen(
            f"Changes from event {a} ({clock(ta)}) to event {b} ({clock(tb)})", text))

    def action_goto(self) -> None:
        def answered(text: str | None) -> None:
            if not text:
                return
            try:
                unit, value = activity.parse_moment(text)
            except ValueError as exc:
                self.notify(str(exc), severity="warning")
                return
            self.playing = False
            self.show(int(value) if unit == "seq" else
                      max(self.timeline.seq_at(value), self.timeline.seqs[0]))

        self.app.push_screen(PromptScreen("Go to", "12:30, 1:02:03, 90s or an event number"),
                             answered)

    def action_search(self) -> None:
        def answered(text: str | None) -> None:
            if text:
                self.query_one("#replay-status", Label).update(f"Searching for {text!r}…")
                self._search_worker(text)

        self.app.push_screen(PromptScreen("Search", "text in the code over time, or in events"),
                             answered)

    def action_panel(self, name: str) -> None:
        self.query_one("#replay-side", TabbedContent).active = f"{name}-pane"

    def action_toggle_files(self) -> None:
        files = self.query_one("#replay-files", OptionList)
        visible = files.display
        files.set_class(visible, "-hidden")
        files.set_class(not visible, "-shown")

    def action_filter(self) -> None:
        values = [v for _, v in FILTERS]
        select = self.query_one("#event-filter", Select)
        select.value = values[(values.index(self._filter) + 1) % len(values)]
        self.action_panel("events")

    @on(Select.Changed, "#event-filter")
    def _filter_changed(self, event: Select.Changed) -> None:
        self._filter = str(event.value)
        cats = self.timeline.categories()
        wanted = FILTER_CATEGORIES.get(self._filter, {self._filter})
        seqs = self.steps if self._filter == "all" else [
            s for s, c in zip(self.timeline.seqs, cats, strict=True) if c in wanted]
        events = self.query_one("#events", EventList)
        events.set_seqs(seqs)
        events.set_current(self.seq)

    def action_solution(self) -> None:
        if self.challenge is None:
            self.notify("The challenge is not installed here (give --challenge PATH).",
                        severity="warning")
            return
        from tui_assess.ui.screens.solution import SolutionScreen

        self.app.push_screen(SolutionScreen(self.challenge))

    # -- playback ----------------------------------------------------------------------------

    def action_play(self) -> None:
        if not self.playing and self.seq >= self.timeline.seqs[-1]:
            self.show(self.timeline.seqs[0])
        self.playing = not self.playing

    def watch_playing(self, playing: bool) -> None:
        self._play_t = self.timeline.times[self.timeline.index_of(self.seq)]
        self._tick_at = time.monotonic()
        if playing:
            self._playback.resume()
        else:
            self._playback.pause()
        self.show(self.seq)

    def _tick(self) -> None:
        now = time.monotonic()
        self._play_t = activity.play_step(self._play_t, now - self._tick_at, self.speed,
                                          self.skip_idle, self._step_times)
        self._tick_at = now
        last = self.timeline.seqs[-1]
        target = max(self.timeline.seq_at(self._play_t), self.timeline.seqs[0])
        if target >= last:
            self.seq = last
            self.playing = False  # shows the end
        elif target != self.seq:
            self.show(target, self._play_t)
        else:  # between two events: only the bar's marker moves
            self.query_one("#replay-bar", TimelineBar).position = self._play_t

    def action_speed(self, direction: int) -> None:
        speeds = activity.SPEEDS
        i = min(range(len(speeds)), key=lambda j: abs(speeds[j] - self.speed))
        self.speed = speeds[max(0, min(i + direction, len(speeds) - 1))]
        self.show(self.seq)

    def action_skip_idle(self) -> None:
        self.skip_idle = not self.skip_idle
        self.show(self.seq)
