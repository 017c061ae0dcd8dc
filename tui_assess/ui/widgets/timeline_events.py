"""The replay's event list: every event (or those of one category), the current one marked.

A Line API list: a two-hour session's 20,000 events cost what the visible rows cost. Rows are
described on demand by a function the screen provides (plain words from the session layer).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_assess.ui.widgets.timeline_code import line_bindings


class EventList(ScrollView, can_focus=True):
    """Rows of ``describe(seq)``; ``enter`` or a click posts :class:`EventList.Jump`."""

    DEFAULT_CSS = """
    EventList { height: 1fr; }
    EventList > .event-list--current { background: $accent 30%; text-style: bold; }
    EventList > .event-list--highlight { background: $foreground 10%; }
    EventList > .event-list--time { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "event-list--current", "event-list--highlight", "event-list--time",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *line_bindings("replay.events", "move", "the highlighted event"),
        Binding("enter", "jump", "Go there", id="replay.events.jump",
                tooltip="Replay from the highlighted event."),
    ]

    HELP_TITLE = "Event list (when it has focus)"

    highlighted: reactive[int] = reactive(0, layout=False)
    """Row index of the highlighted row (keyboard), -1 for none."""

    @dataclass
    class Jump(Message):
        """The reviewer picked an event."""

        seq: int

    def __init__(self, describe: Callable[[int], tuple[str, str]], **kwargs: Any) -> None:
        """``describe(seq)`` -> (time label, words)."""
        super().__init__(**kwargs)
        self._describe = describe
        self.seqs: list[int] = []
        self.current = 0
        self._row_cache: dict[int, tuple[str, str]] = {}

    def set_seqs(self, seqs: list[int]) -> None:
        """The events to list (already filtered), in order."""
        self.seqs = seqs
        self.virtual_size = Size(self.size.width, len(seqs))
        self.set_current(self.current)
        self.refresh()

    def set_current(self, seq: int) -> None:
        """Mark the last listed event at or before ``seq`` and bring it into view (a move
        in view repaints the two rows that changed; a scroll repaints the view)."""
        before = bisect.bisect_right(self.seqs, self.current) - 1
        self.current = seq
        row = bisect.bisect_right(self.seqs, seq) - 1
        self.highlighted = row
        if row >= 0:
            self._reveal(row)
        if before != row:
            self._refresh_rows(before, row)

    def on_resize(self) -> None:
        # Laid out for the first time (its tab shown): bring the current event into view.
        self.set_current(self.current)

    def _reveal(self, row: int) -> None:
        top, height = int(self.scroll_y), max(self.size.height, 1)
        if not top <= row < top + height:
            self.scroll_to(y=max(0, row - height // 2), animate=False, immediate=True)

    def action_move(self, delta: int) -> None:
        if self.seqs:
            self.highlighted = max(0, min(self.highlighted + delta, len(self.seqs) - 1))
            self._reveal(self.highlighted)

    def action_jump(self) -> None:
        if 0 <= self.highlighted < len(self.seqs):
            self.post_message(self.Jump(self.seqs[self.highlighted]))

    def watch_highlighted(self, old: int, new: int) -> None:
        self._refresh_rows(old, new)

    def _refresh_rows(self, *rows: int) -> None:
        for row in rows:
            if 0 <= row < len(self.seqs):
                self.refresh_line(row)

    def on_click(self, event: events.Click) -> None:
        row = int(self.scroll_y) + event.y
        if 0 <= row < len(self.seqs):
            self.highlighted = row
            self.post_message(self.Jump(self.seqs[row]))

    def render_line(self, y: int) -> Strip:
        row = int(self.scroll_y) + y
        width = self.size.width
        base = self.rich_style
        if row >= len(self.seqs):
            return Strip.blank(width, base)
        seq = self.seqs[row]
        if seq not in self._row_cache:
            if len(self._row_cache) > 4096:
                self._row_cache.clear()
            self._row_cache[seq] = self._describe(seq)
        when, words = self._row_cache[seq]
        text = Text(no_wrap=True, end="", style=base)
        text.append(f"{when:>8} ", self.get_component_rich_style("event-list--time"))
        text.append(f"#{seq:<6}")
        text.append(words)
        text.truncate(width, overflow="ellipsis")
        current = bisect.bisect_right(self.seqs, self.current) - 1
        for name, applies in (("current", row == current),
                              ("highlight", row == self.highlighted and self.has_focus)):
            if applies:
                full = self.get_component_rich_style(f"event-list--{name}")
                text.stylize(Style(bgcolor=full.bgcolor, bold=full.bold))
                break
        return Strip(text.render(self.app.console), text.cell_len).crop_extend(0, width, base)
