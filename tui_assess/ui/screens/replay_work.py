"""The replay screen's slow work, each in a worker thread on its own ``Timeline.clone()``:
verify, the line-origin index and integrity signals, the panels' data, search, and re-running
the tests on the code at the cursor. Results come back through ``call_from_thread``.

A base class of ``ReplayScreen`` (``replay.py``), so that file holds the layout and the keys.
"""

from __future__ import annotations

import gc
import tempfile
import threading
from pathlib import Path
from typing import Any

from textual import work
from textual.screen import Screen
from textual.widgets import Label, TabbedContent

from tui_assess.challenge.model import Challenge
from tui_assess.errors import UserError
from tui_assess.session.origins import clock
from tui_assess.session.search import SearchHit
from tui_assess.session.timeline import Timeline, write_files
from tui_assess.session.verify import verify
from tui_assess.ui.checking import Checker
from tui_assess.ui.widgets.timeline_bar import TimelineBar
from tui_assess.ui.widgets.timeline_panels import (
    IntegrityPanel,
    NotesPanel,
    ResourcesPanel,
    RunsPanel,
)


def _passed(tests: Any) -> str:
    tests = [t for t in tests or [] if isinstance(t, dict) or hasattr(t, "status")]
    ok = sum(1 for t in tests if (t.get("status") if isinstance(t, dict) else t.status) == "pass")
    return f"{ok}/{len(tests)} passed"


class ReplayWork(Screen[None]):
    """Workers and their results; ``ReplayScreen`` provides the rest."""

    timeline: Timeline
    challenge: Challenge | None
    checker: Checker
    seq: int
    hits: list[SearchHit]
    signals: list[Any] | None
    verified: bool | None
    panels_ready: bool
    _refocus: bool
    _rerun_cancel: threading.Event | None

    def show(self, seq: int) -> None:  # implemented by ReplayScreen
        raise NotImplementedError

    # -- verify ------------------------------------------------------------------------------

    @work(thread=True, group="verify", exit_on_error=False)
    def _verify_worker(self) -> None:
        try:
            rep = verify(self.timeline.path)
            found = (rep.ok, rep.reason, list(rep.notes), rep.final_link, rep.first_bad_seq)
        except UserError as exc:
            found = (False, str(exc), [], None, None)
        self.app.call_from_thread(self._verified, *found)

    def _verified(self, ok: bool, reason: str, notes: list[str], link: str | None,
                  bad_seq: int | None) -> None:
        self.verified = ok
        self.query_one("#integrity", IntegrityPanel).show_verdict(ok, reason, notes, link)
        badge = self.query_one("#replay-integrity", Label)
        badge.update("✔ intact" if ok else
                     "✘ FAILS VERIFY" + (f" at event {bad_seq}" if bad_seq else ""))
        badge.set_class(not ok, "-bad")
        badge.set_class(ok, "-ok")
        if not ok:
            self.query_one("#replay-side", TabbedContent).active = "integrity-pane"
            self.notify(f"This session file fails verification: {reason}", severity="error",
                        timeout=15)

    # -- origins and signals -----------------------------------------------------------------

    @work(thread=True, group="index", exit_on_error=False)
    def _index_worker(self) -> None:
        tl = self.timeline.clone()
        try:
            try:
                index = tl.origin_index()
            except UserError as exc:
                self.app.call_from_thread(self.notify, f"Line origins unavailable: {exc}",
                                          severity="warning")
            else:
                self.app.call_from_thread(self._indexed, index)
            try:
                signals = tl.integrity_signals()
            except UserError as exc:
                self.app.call_from_thread(self.notify, f"Signals unavailable: {exc}",
                                          severity="warning")
                signals = []
            self.app.call_from_thread(self._signals_found, signals)
        finally:
            tl.close()

    def _indexed(self, index: Any) -> None:
        self.timeline.use_origin_index(index)
        self._refocus = True
        self.show(self.seq)
        self._settle_heap()

    def _signals_found(self, signals: list[Any]) -> None:
        self.signals = signals
        self.query_one("#integrity", IntegrityPanel).show_signals(signals)
        self.query_one("#replay-bar", TimelineBar).set_points(signals=[s.t for s in signals])

    @staticmethod
    def _settle_heap() -> None:
        """Take what the session loaded (events, the origin index, the panels' data: hundreds
        of thousands of objects on a two-hour session) out of the cycle collector's full
        passes. Each move allocates, so a full pass comes every few dozen moves, and walking
        that heap took it 70-130 ms: a pause in the middle of a seek. The screen unfreezes
        when it goes (``on_unmount``), so a closed replay's objects can be collected."""
        gc.freeze()

    # -- panels ------------------------------------------------------------------------------

    @work(thread=True, group="panels", exit_on_error=False)
    def _panels_worker(self) -> None:
        tl = self.timeline.clone()
        try:
            runs = tl.runs()
            samples = tl.resource_series()
            notes = [(e.seq, e.t, str(e.payload.get("text", ""))) for e in tl.events_of("note")]
            hints = []
            for e in tl.events_of("hint_shown"):
                i = int(e.payload.get("index") or 0)
                known = self.challenge.hints if self.challenge is not None else ()
                hints.append((e.seq, e.t, i, known[i] if 0 <= i < len(known) else None))
            solutions = [(e.seq, e.t) for e in tl.events_of("solution_shown")]
        except UserError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="warning")
            return
        finally:
            tl.close()
        self.app.call_from_thread(self._panels_ready, runs, samples, notes, hints, solutions)

    def _panels_ready(self, runs: list[dict[str, Any]], samples: list[dict[str, Any]],
                      notes: list[Any], hints: list[Any], solutions: list[Any]) -> None:
        self.query_one("#runs", RunsPanel).show_runs(runs)
        self.query_one("#resources", ResourcesPanel).show_series(samples, runs)
        key = "s" if self.challenge is not None else None
        self.query_one("#notes", NotesPanel).show_notes(notes, hints, solutions, key)
        self.panels_ready = True
        self.show(self.seq)
        self._settle_heap()

    # -- search ------------------------------------------------------------------------------

    @work(thread=True, group="search", exclusive=True, exit_on_error=False)
    def _search_worker(self, text: str) -> None:
        tl = self.timeline.clone()
        try:
            hits = tl.search(text)
        except UserError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        finally:
            tl.close()
        self.app.call_from_thread(self._searched, text, hits)

    def _searched(self, text: str, hits: list[SearchHit]) -> None:
        self.hits = hits
        self.query_one("#replay-bar", TimelineBar).set_points(hits=[h.t for h in hits])
        if not hits:
            self.notify(f"{text!r} is nowhere in this session.", timeout=3)
            self.show(self.seq)
            return
        after = [h for h in hits if h.seq > self.seq]
        target = (after or hits)[0]
        self.show(target.seq)
        self.notify(f"{len(hits)} hits for {text!r} (n / N: next / previous): "
                    f"{target.detail}", timeout=5)

    # -- re-run at the cursor ----------------------------------------------------------------

    def action_rerun(self, suite: str) -> None:
        if self.challenge is None:
            start = self.timeline.session_start or {}
            self.notify(f"The challenge {start.get('challenge_id')!r} is not installed here: "
                        "open the replay with --challenge PATH to re-run its tests.",
                        severity="warning")
            return
        if self._rerun_cancel is not None:
            self.notify("A re-run is already going (escape stops it).", severity="warning")
            return
        try:
            files = self.timeline.state_at(seq=self.seq)
        except UserError as exc:
            self.notify(str(exc), severity="error")
            return
        self._rerun_cancel = threading.Event()
        self.query_one("#runs", RunsPanel).show_rerun(
            f"Running the {suite} tests on the code at event {self.seq}… (escape stops)")
        self.query_one("#replay-side", TabbedContent).active = "runs-pane"
        self._rerun_worker(self.challenge, files, suite, self.seq, self._rerun_cancel)

    @work(thread=True, group="rerun", exit_on_error=False)
    def _rerun_worker(self, challenge: Challenge, files: dict[str, str], suite: str, seq: int,
                      cancel: threading.Event) -> None:
        result: Any = None
        error = ""
        try:
            with tempfile.TemporaryDirectory(prefix="tui-assess-replay-") as folder:
                write_files(files, Path(folder))
                result = self.checker(challenge, Path(folder), suite, on_event=None,
                                      cancel=cancel)
        except Exception as exc:  # the checker's failures must not take the replay down
            error = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        self.app.call_from_thread(self._rerun_done, suite, seq, result, error)

    def _rerun_done(self, suite: str, seq: int, result: Any, error: str) -> None:
        self._rerun_cancel = None
        panel = self.query_one("#runs", RunsPanel)
        t = self.timeline.times[self.timeline.index_of(seq)]
        if result is None:
            panel.show_rerun(f"The re-run at event {seq} could not run: {error}")
            return
        lines = [f"Re-run at event {seq} ({clock(t)}), {suite} tests: {result.status}, "
                 f"{_passed(result.tests)}, score {result.score:g}/{result.max_score:g}"]
        recorded = panel.nearest(seq, suite)
        if recorded is None:
            lines.append(f"No recorded {suite} run to compare with.")
        else:
            number = panel.runs.index(recorded) + 1
            lines.append(f"Recorded run {number} (event {recorded['seq']}, "
                         f"{clock(float(recorded.get('t_start') or 0))}): "
                         f"{recorded.get('status')}, {_passed(recorded.get('tests'))}")
            snapshot = getattr(getattr(result, "run", None), "snapshot", None)
            if snapshot and recorded.get("snapshot"):
                same = snapshot == recorded["snapshot"]
                lines.append("Same code as that run tested." if same else
                             "The code differs from what that run tested.")
        start = self.timeline.session_start or {}
        challenge = self.challenge
        if challenge is not None and start.get("challenge_hash") not in (
                None, challenge.content_hash()):
            lines.append("Note: the challenge here differs from the one recorded "
                         "(its tests may have changed).")
        panel.show_rerun("\n".join(lines))
