"""The replay's timeline bar: the whole session across the width, coloured by activity, with
the position, marks, integrity signals and search hits, and a time ruler. Click or drag to seek.

Three rows::

    ▂▃▅▇✗▅▃ ░░░ P ▂✓▃▂ $$  E    R ▃▅S       activity: one cell per slice of the session
       ◆       !     •  ▲                   marks ◆, signals !, search hits •, position ▲
    0:00      0:15      0:30      0:45      the ruler

The widget knows nothing of sessions: it is given a function from a slice length in seconds
to buckets (``Timeline.activity``) and asks again when its width changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from tui_assess.session.activity import Bucket
from tui_assess.session.origins import clock

#: One glyph per category, so the bar reads without colour too (the legend is in f1 help).
GLYPHS = {
    "resume": "R", "run_fail": "✗", "run_pass": "✓", "paste": "P", "external": "E",
    "submit": "S", "away": "░", "terminal": "$", "help": "?", "other": "·", "idle": " ",
}
DENSITY = "▁▂▃▄▅▆▇"
RULER_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)


def ruler(duration: float, width: int) -> str:
    """Time labels at round intervals, at least 10 columns apart."""
    if width <= 0:
        return ""
    if duration <= 0:
        return "0:00"[:width].ljust(width)
    per_col = duration / width
    step = next((s for s in RULER_STEPS if s / per_col >= 10), RULER_STEPS[-1])
    row = [" "] * width
    t = 0.0
    while t <= duration:
        col = int(t / per_col)
        label = clock(t)
        free = all(c == " " for c in row[max(col - 1, 0):col + len(label)])
        if col + len(label) <= width and free:
            row[col:col + len(label)] = label
        t += step
    return "".join(row)


class TimelineBar(Widget, can_focus=False):
    """The session at a glance; posts :class:`TimelineBar.Seek` on click and drag."""

    # A press is a seek, not the start of a text selection (which repaints the whole screen).
    ALLOW_SELECT = False

    DEFAULT_CSS = """
    TimelineBar { height: 3; }
    TimelineBar > .timeline-bar--typing { color: $primary; }
    TimelineBar > .timeline-bar--run_pass { color: $success; text-style: bold; }
    TimelineBar > .timeline-bar--run_fail { color: $error; text-style: bold; }
    TimelineBar > .timeline-bar--paste { color: $accent; text-style: bold; }
    TimelineBar > .timeline-bar--external { color: $warning; text-style: bold; }
    TimelineBar > .timeline-bar--away { color: $warning 60%; }
    TimelineBar > .timeline-bar--terminal { color: $secondary; text-style: bold; }
    TimelineBar > .timeline-bar--resume { color: $error; text-style: bold reverse; }
    TimelineBar > .timeline-bar--submit { color: $success; text-style: bold reverse; }
    TimelineBar > .timeline-bar--help { color: $warning; }
    TimelineBar > .timeline-bar--other { color: $foreground 50%; }
    TimelineBar > .timeline-bar--idle { color: $foreground 20%; }
    TimelineBar > .timeline-bar--position { background: $foreground 25%; }
    TimelineBar > .timeline-bar--cursor { color: $text; text-style: bold; }
    TimelineBar > .timeline-bar--mark { color: $accent; text-style: bold; }
    TimelineBar > .timeline-bar--signal { color: $error; text-style: bold; }
    TimelineBar > .timeline-bar--hit { color: $primary; text-style: bold; }
    TimelineBar > .timeline-bar--ruler { color: $foreground 60%; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"timeline-bar--{c}" for c in GLYPHS), "timeline-bar--typing",
        "timeline-bar--position", "timeline-bar--cursor", "timeline-bar--mark",
        "timeline-bar--signal", "timeline-bar--hit", "timeline-bar--ruler",
    }

    position: reactive[float] = reactive(0.0, layout=False)
    """Seconds since the session started: where the replay is."""

    @dataclass
    class Seek(Message):
        """The reviewer clicked or dragged on the bar."""

        bar: TimelineBar
        seconds: float

        @property
        def control(self) -> TimelineBar:
            return self.bar

    def __init__(self, activity: Callable[[float], list[Bucket]], duration: float,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._activity = activity
        self.duration = max(duration, 0.0)
        self._buckets: list[Bucket] = []
        self._width = -1
        self._ruler = ""
        self.marks: list[float] = []
        self.signals: list[float] = []
        self.hits: list[float] = []
        self._dragging = False
        self._rows: list[list[Segment]] | None = None
        """The three rows without the position, built once per width, theme and points."""

    # -- data ----------------------------------------------------------------------------

    def column_of(self, seconds: float) -> int:
        width = max(self.size.width, 1)
        if self.duration <= 0:
            return 0
        return min(width - 1, max(0, int(seconds / self.duration * width)))

    def seconds_at(self, column: int) -> float:
        width = max(self.size.width, 1)
        return min(self.duration, max(0.0, (column + 0.5) / width * self.duration))

    def set_points(self, *, marks: Sequence[float] | None = None,
                   signals: Sequence[float] | None = None,
                   hits: Sequence[float] | None = None) -> None:
        if marks is not None:
            self.marks = list(marks)
        if signals is not None:
            self.signals = list(signals)
        if hits is not None:
            self.hits = list(hits)
        self._rows = None
        self.refresh()

    def _layout_data(self) -> None:
        width = self.size.width
        if width == self._width or width <= 0:
            return
        self._width = width
        self._rows = None
        slice_s = self.duration / width if self.duration > 0 else 1.0
        self._buckets = self._activity(slice_s)[:width]
        self._ruler = ruler(self.duration, width)

    def watch_position(self, old: float, new: float) -> None:
        # Only the two columns that changed: a seek redraws two cells per row.
        before, after = self.column_of(old), self.column_of(new)
        if before != after:
            self.refresh(Region(before, 0, 1, 3), Region(after, 0, 1, 3))

    # -- drawing -------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        # Not partial: colours like "$foreground 25%" come back blended over the background.
        return self.get_component_rich_style(f"timeline-bar--{name}")

    def _activity_cell(self, bucket: Bucket) -> tuple[str, str]:
        if bucket.kind == "typing":
            n = bucket.counts.get("typing", 0)
            level = min(len(DENSITY) - 1, int(math.log2(n + 1)))
            return DENSITY[level], "typing"
        return GLYPHS.get(bucket.kind, "·"), bucket.kind

    def _build_rows(self) -> list[list[Segment]]:
        """Activity, points and ruler rows, one segment per cell, without the position."""
        width = self.size.width
        base = self.rich_style
        styles: dict[str, Style] = {}

        def style(name: str) -> Style:
            if name not in styles:
                styles[name] = base + self._style(name)
            return styles[name]

        activity = []
        for col in range(width):
            bucket = self._buckets[col] if col < len(self._buckets) else None
            glyph, kind = self._activity_cell(bucket) if bucket else (" ", "idle")
            activity.append(Segment(glyph, style(kind)))
        points = [Segment(" ", base)] * width
        for times, glyph, name in ((self.hits, "•", "hit"), (self.signals, "!", "signal"),
                                   (self.marks, "◆", "mark")):
            for t in times:
                points[self.column_of(t)] = Segment(glyph, style(name))
        ruler_style = style("ruler")
        ruler_row = [Segment(ch, ruler_style) for ch in self._ruler.ljust(width)[:width]]
        return [activity, points, ruler_row]

    def render_line(self, y: int) -> Strip:
        self._layout_data()
        width = self.size.width
        base = self.rich_style
        if y > 2 or width <= 0:
            return Strip.blank(width, base)
        if self._rows is None or len(self._rows[0]) != width:
            self._rows = self._build_rows()
        row = list(self._rows[y])
        cursor = self.column_of(self.position)
        position = Style(bgcolor=self._style("position").bgcolor)
        if y == 1:
            row[cursor] = Segment("▲", base + self._style("cursor") + position)
        else:
            row[cursor] = Segment(row[cursor].text, (row[cursor].style or base) + position)
        return Strip(row, width)

    def on_resize(self, _event: events.Resize) -> None:
        self._width = -1
        self._rows = None
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._rows = None  # a theme change: the cached rows' colours are stale

    # -- mouse: click and drag to seek ---------------------------------------------------

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._dragging = True
        self.capture_mouse()
        self.post_message(self.Seek(self, self.seconds_at(event.x)))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self.post_message(self.Seek(self, self.seconds_at(event.x)))

    def on_mouse_up(self, _event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
