"""A countdown derived from a monotonic deadline (never from counting ticks)."""

from __future__ import annotations

import time

from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static

WARNING_S = 5 * 60
CHANGE_MARGIN_S = 0.01
"""How long after the shown value's change the countdown wakes to show it."""
clock = time.monotonic
"""The clock deadlines are measured on (tests freeze it for stable snapshots)."""


def format_left(seconds: float) -> str:
    s = max(0, int(seconds + 0.999))  # round up: "0:00" only when time is really up
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def seconds_to_next_change(seconds: float) -> float:
    """How long until format_left(seconds) shows another value (a little after, so the
    clock has surely passed it): at most just over a second."""
    shown = int(seconds + 0.999)
    changes_at = max(shown - 0.999, 0.0)  # the next value, or "time is up" at 0
    return max(0.0, seconds - changes_at) + CHANGE_MARGIN_S


class Countdown(Static):
    """Time left until `deadline` (a time.monotonic() value); warning style in the last 5 min."""

    class Expired(Message):
        """Posted once when the deadline passes."""

    deadline: reactive[float | None] = reactive(None)
    """time.monotonic() value at which time is up; None shows nothing."""

    def __init__(self, deadline: float | None = None, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.set_reactive(Countdown.deadline, deadline)
        self._expired_posted = False
        self._shown = ""
        self._next_tick: Timer | None = None

    def on_mount(self) -> None:
        self.tick()

    def _show(self, text: str) -> None:
        # Redraw only on a change, and lay the screen out again only when the width changes
        # ("09:59 left" and "10:00 left" do not).
        if text != self._shown:
            layout = len(text) != len(self._shown)
            self._shown = text
            self.update(text, layout=layout)

    def seconds_left(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - clock()

    def watch_deadline(self) -> None:
        self._expired_posted = False
        self.tick()

    def tick(self) -> None:
        """Show the time left now, and wake again when the shown text next changes."""
        left = self.seconds_left()
        self.set_class(left is not None and 0 < left <= WARNING_S, "-warning")
        self.set_class(left is not None and left <= 0, "-expired")
        if self._next_tick is not None:
            self._next_tick.stop()
            self._next_tick = None
        if left is None:
            self._show("")
            return
        self._show(f"{format_left(left)} left" if left > 0 else "time is up")
        if left <= 0:
            if not self._expired_posted:
                self._expired_posted = True
                self.post_message(self.Expired())
            return
        # One wake a second, when the text changes (a timer twice a second woke the app for
        # nothing every other time): an idle screen's cost is mostly its wake-ups.
        if self.is_running:  # (a deadline set before mounting: on_mount schedules)
            self._next_tick = self.set_timer(seconds_to_next_change(left), self._tick_due)

    def _tick_due(self) -> None:
        self._next_tick = None  # this timer has fired: nothing to stop
        self.tick()
