"""A countdown derived from a monotonic deadline (never from counting ticks)."""

from __future__ import annotations

import time

from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

WARNING_S = 5 * 60
clock = time.monotonic
"""The clock deadlines are measured on (tests freeze it for stable snapshots)."""


def format_left(seconds: float) -> str:
    s = max(0, int(seconds + 0.999))  # round up: "0:00" only when time is really up
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


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

    def on_mount(self) -> None:
        self.set_interval(0.5, self.tick)
        self.tick()

    def _show(self, text: str) -> None:
        # Twice a second, mostly the same text: redraw only on a change, and lay the screen
        # out again only when the width changes ("09:59 left" and "10:00 left" do not).
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
        left = self.seconds_left()
        self.set_class(left is not None and 0 < left <= WARNING_S, "-warning")
        self.set_class(left is not None and left <= 0, "-expired")
        if left is None:
            self._show("")
            return
        self._show(f"{format_left(left)} left" if left > 0 else "time is up")
        if left <= 0 and not self._expired_posted:
            self._expired_posted = True
            self.post_message(self.Expired())
