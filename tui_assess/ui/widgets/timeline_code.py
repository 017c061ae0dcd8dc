"""The replay's code view: one file as it was at a moment, read-only, highlighted, the latest
change marked, and a gutter that shows each line's origin.

    T  12  def total(items):        T typed · P pasted · E changed outside the app
    P  13      return sum(items)    O changed unseen · C different at a resume
       14                           R restored by a reset · (blank) in the files at the start

A Line API widget (only the visible lines are drawn, so a seek costs the same on a 20-line file
as on a 2,000-line one); Pygments colours the lines around the viewport, with the same token
map and themes as the editor. A move redraws only the rows whose look changed: each row's
look is a key (text, colours, origin, marks), a drawn row is cached by its key, and ``show``
refreshes just the rows whose key differs from what is on the screen (a step typically one or
two rows, not the whole view).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from pygments.lexer import Lexer
from rich.control import strip_control_codes
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_assess.session.origins import LineOrigin
from tui_assess.ui.widgets.code_editor import (
    WINDOW_BEFORE,
    CodeEditor,
    _light_dark_themes,
    build_highlights,
)

#: Lines lexed below the view: fewer than the editor's (a replay move re-lexes the window,
#: and lexing costs more per line than anything else a move does).
WINDOW_AFTER = 10
#: Lexed windows kept, by their text: moving back and forth, or past events that leave the
#: lines around the view unchanged, colours them again without lexing.
LEXED_KEPT = 32

ORIGIN_GLYPHS = {"start": " ", "typed": "T", "paste": "P", "external": "E", "outside": "O",
                 "resume": "C", "reset": "R"}


def line_bindings(prefix: str, action: str, what: str) -> list[BindingType]:
    """up / down / pageup / pagedown moving ``what`` by ``action(delta)``; hidden in the footer
    (they are what the keys do everywhere), listed in f1."""
    return [
        Binding(key, f"{action}({delta})", f"{name}", show=False, id=f"{prefix}.{key}",
                tooltip=f"Move {what} {words}.")
        for key, delta, name, words in (("up", -1, "Up", "up"), ("down", 1, "Down", "down"),
                                        ("pageup", -20, "Page up", "up a page"),
                                        ("pagedown", 20, "Page down", "down a page"))
    ]


def _char_spans(line: str, spans: Sequence[tuple[int, int | None, str]]
                ) -> list[tuple[int, int, str]]:
    """Highlight spans in byte offsets (as build_highlights gives them) as character offsets."""
    if line.isascii():
        return [(a, len(line) if b is None else b, n) for a, b, n in spans]
    ends = [0]
    for ch in line:
        ends.append(ends[-1] + len(ch.encode("utf-8", "surrogatepass")))
    index = {b: i for i, b in enumerate(ends)}
    return [(index.get(a, 0), len(line) if b is None else index.get(b, len(line)), n)
            for a, b, n in spans]


class CodeView(ScrollView, can_focus=True):
    """A file at a moment. ``show`` replaces what is shown; ``cursor_line`` is the line ``o``
    asks about."""

    DEFAULT_CSS = """
    CodeView { background: $surface; width: 1fr; height: 1fr; }
    CodeView > .code-view--gutter { color: $foreground 40%; }
    CodeView > .code-view--cursor-gutter {
        color: $text; background: $foreground 15%; text-style: bold;
    }
    CodeView > .code-view--latest { background: $accent 20%; }
    CodeView > .code-view--cursor { background: $foreground 8%; }
    CodeView > .code-view--typed { color: $success; }
    CodeView > .code-view--paste { color: $accent; text-style: bold reverse; }
    CodeView > .code-view--external { color: $warning; text-style: bold reverse; }
    CodeView > .code-view--outside { color: $error; text-style: bold reverse; }
    CodeView > .code-view--resume { color: $warning; text-style: bold; }
    CodeView > .code-view--reset { color: $primary; text-style: bold; }
    CodeView > .code-view--start { color: $foreground 30%; }
    CodeView > .code-view--message { color: $text-muted; text-style: italic; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "code-view--gutter", "code-view--cursor-gutter", "code-view--latest",
        "code-view--cursor", "code-view--message",
        *(f"code-view--{k}" for k in ORIGIN_GLYPHS),
    }
    BINDINGS: ClassVar[list[BindingType]] = line_bindings(
        "replay.code", "line", "the line cursor (o asks where that line came from)")

    HELP_TITLE = "Code view (when it has focus)"

    cursor_line: reactive[int] = reactive(0, layout=False)
    """0-based line of the line cursor."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path: str | None = None
        self.lines: list[str] = []
        self.origin_at: Callable[[int], LineOrigin] | None = None
        self.latest: int | None = None
        """The seq of the file's latest change (the lines it changed are marked)."""
        self.message = ""
        self._number_width = 3
        self._lexers: dict[str, Lexer | None] = {}
        self._highlights: dict[int, list[tuple[int, int, str]]] = {}
        self._lexed: dict[tuple[Lexer, int, str], dict[int, list[tuple[int, int, str]]]] = {}
        self._window = (0, 0)
        self._styles: dict[str, Style] = {}
        self._theme = _light_dark_themes()
        self._strips: dict[tuple[Any, ...], Strip] = {}
        """Drawn rows by their look (``_row_key``)."""
        self._drawn: dict[int, tuple[Any, ...]] = {}
        """The look of each visible row (by its y in the view) as last drawn."""

    # -- content -------------------------------------------------------------------------

    def show(self, path: str | None, lines: list[str],
             origin_at: Callable[[int], LineOrigin] | None, latest: int | None = None,
             focus_line: int | None = None, message: str = "") -> None:
        """Show ``lines`` of ``path``; ``origin_at(i)`` gives line i's origin (None: not known
        yet, the gutter says so), ``latest`` the file's latest change; ``focus_line`` (0-based)
        is brought into view and gets the line cursor."""
        changed = path != self.path or lines != self.lines
        if changed:
            self.path, self.lines = path, lines
            self._highlights = {}
            self._window = (0, 0)
            self._ensure_lexer()
        self.origin_at, self.message, self.latest = origin_at, message, latest
        self._number_width = max(3, len(str(len(self.lines))))
        width = max((len(line) for line in self.lines), default=0) + self._number_width + 4
        self._set_virtual_size(Size(width, len(self.lines) + (1 if message else 0)))
        last = len(self.lines) - 1
        if focus_line is not None:
            self.cursor_line = max(0, min(focus_line, last))
            self._scroll_to_cursor(center=True)
        else:
            self.cursor_line = max(0, min(self.cursor_line, last))
        self._refresh_changed_rows()

    def _set_virtual_size(self, size: Size) -> None:
        if size == self.virtual_size:
            return
        if not self.size:  # not laid out yet: the first layout sizes the scrollbars
            self.virtual_size = size
            return
        # The view's size never follows its content (1fr by 1fr): a new length or width
        # changes only the scrollbars, so skip the whole-screen relayout that setting
        # virtual_size asks for (it cost a step several ms).
        self.set_reactive(CodeView.virtual_size, size)
        self._scroll_update(size)

    def origin_at_cursor(self) -> LineOrigin | None:
        if self.origin_at is None or not 0 <= self.cursor_line < len(self.lines):
            return None
        return self.origin_at(self.cursor_line)

    def _scroll_to_cursor(self, center: bool = False) -> None:
        top, height = int(self.scroll_y), max(self.size.height, 1)
        if center and not top <= self.cursor_line < top + height:
            self.scroll_to(y=max(0, self.cursor_line - height // 2), animate=False,
                           immediate=True)
        elif self.cursor_line < top:
            self.scroll_to(y=self.cursor_line, animate=False, immediate=True)
        elif self.cursor_line >= top + height:
            self.scroll_to(y=self.cursor_line - height + 1, animate=False, immediate=True)

    def action_line(self, delta: int) -> None:
        self.cursor_line = max(0, min(self.cursor_line + delta, len(self.lines) - 1))
        self._scroll_to_cursor()

    class CursorMoved(Message):
        """The line cursor moved (the status line shows that line's origin)."""

    def watch_cursor_line(self) -> None:
        self.post_message(self.CursorMoved())
        self._refresh_changed_rows()

    def _refresh_changed_rows(self) -> None:
        """Refresh the visible rows whose look differs from what was last drawn."""
        top = int(self.scroll_y)
        for y in range(self.size.height):
            if self._drawn.get(y) != self._row_key(top + y):
                self.refresh_line(top + y)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # a theme change: the cached rows' colours are stale

    def on_click(self, event: events.Click) -> None:
        line = int(self.scroll_y) + event.y
        if 0 <= line < len(self.lines):
            self.cursor_line = line

    # -- highlighting --------------------------------------------------------------------

    def _ensure_lexer(self) -> None:
        path = self.path
        if path is None or path in self._lexers:
            return
        self._lexers[path] = None
        self._load_lexer(path)

    @work(thread=True, group="lexer", exit_on_error=False)
    def _load_lexer(self, path: str) -> None:
        lexer = CodeEditor._lexer_for(path)  # ~0.2 s for Python's the first time: off-loop
        self.app.call_from_thread(self._lexer_ready, path, lexer)

    def _lexer_ready(self, path: str, lexer: Lexer | None) -> None:
        self._lexers[path] = lexer
        if path == self.path:
            self._window = (0, 0)
            self.refresh()

    def _highlight_window(self, top: int) -> None:
        start, end = self._window
        height = max(self.size.height, 40)
        # The window ends at the file's end near the bottom: covered, not re-lexed per line.
        if start <= top and min(top + height, len(self.lines)) <= end:
            return
        lexer = self._lexers.get(self.path or "")
        if lexer is None:
            return
        start = max(0, top - WINDOW_BEFORE)
        end = min(len(self.lines), top + height + WINDOW_AFTER)
        text = "\n".join(self.lines[start:end])
        key = (lexer, start, text)
        highlights = self._lexed.pop(key, None)
        if highlights is None:
            highlights = {row + start: _char_spans(self.lines[row + start], s)
                          for row, s in build_highlights(lexer, text).items()}
            if len(self._lexed) >= LEXED_KEPT:
                del self._lexed[next(iter(self._lexed))]
        self._lexed[key] = highlights  # the most recently used last
        self._highlights = highlights
        self._window = (start, end)

    def _syntax_style(self, name: str) -> Style | None:
        dark, light = self._theme
        theme = dark if self.app.current_theme.dark else light
        return theme.syntax_styles.get(name)

    # -- drawing -------------------------------------------------------------------------

    def _component(self, name: str) -> Style:
        # Not partial: colours like "$accent 20%" come back blended over the background.
        return self.get_component_rich_style(f"code-view--{name}")

    def _background(self, name: str) -> Style:
        """Only the background of a component: laid over the syntax colours."""
        full = self._component(name)
        return Style(bgcolor=full.bgcolor, bold=full.bold)

    def _row_key(self, row: int) -> tuple[Any, ...]:
        """Everything a row's look depends on, except the theme (a theme change clears all)."""
        scroll_x, width = int(self.scroll_x), self.size.width
        if row >= len(self.lines):
            return ("message" if row == len(self.lines) else "blank", self.message, width)
        self._highlight_window(int(self.scroll_y))
        origin = self.origin_at(row) if self.origin_at is not None else None
        return (row, self._number_width, scroll_x, width, self.lines[row],
                tuple(self._highlights.get(row, ())) if self._lexers.get(self.path or "")
                else None,
                origin.kind if origin is not None else None,
                origin is not None and origin.latest.seq == self.latest,
                row == self.cursor_line, row == self.cursor_line and self.has_focus)

    def render_line(self, y: int) -> Strip:
        row = int(self.scroll_y) + y
        key = self._row_key(row)
        self._drawn[y] = key
        strip = self._strips.get(key)
        if strip is None:
            if len(self._strips) > 4 * max(self.size.height, 40):
                self._strips.clear()
            strip = self._strips[key] = self._render_row(row)
        return strip

    def _code_segments(self, line: str, spans: Sequence[tuple[int, int, str]], base: Style,
                       overlay: Style | None) -> list[Segment]:
        """``line`` in segments: ``base``, the syntax colours of ``spans``, then ``overlay``
        (the row's background), laid as ``Text.stylize`` would, without a Text per row."""
        plain = base + overlay if overlay else base
        segments: list[Segment] = []
        at = 0
        for a, b, name in spans:
            a, b = max(a, at), min(b, len(line))
            if a >= b:
                continue
            syntax = self._syntax_style(name)
            if a > at:
                segments.append(Segment(line[at:a], plain))
            style = plain if syntax is None else base + syntax + overlay if overlay \
                else base + syntax
            segments.append(Segment(line[a:b], style))
            at = b
        if at < len(line):
            segments.append(Segment(line[at:], plain))
        return segments

    def _render_row(self, row: int) -> Strip:
        scroll_x = int(self.scroll_x)
        width = self.size.width
        base = self.rich_style
        if row >= len(self.lines):
            if row == len(self.lines) and self.message:
                text = Text("  " + self.message, style=base + self._component("message"))
                return Strip(text.render(self.app.console), text.cell_len).crop_extend(
                    0, width, base)
            return Strip.blank(width, base)
        line = self.lines[row].rstrip("\r").expandtabs(4) if "\t" in self.lines[row] \
            else self.lines[row].rstrip("\r")
        origin = self.origin_at(row) if self.origin_at is not None else None
        is_cursor = row == self.cursor_line and self.has_focus
        gutter_style = base + self._component("cursor-gutter" if row == self.cursor_line
                                              else "gutter")
        glyph = "…" if origin is None else ORIGIN_GLYPHS.get(origin.kind, "?")
        glyph_style = base + self._component(origin.kind if origin else "start")
        if origin is not None and origin.latest.seq == self.latest:
            overlay: Style | None = self._background("latest")
        elif is_cursor:
            overlay = self._background("cursor")
        else:
            overlay = None
        spans = self._highlights.get(row, []) if "\t" not in self.lines[row] else []
        code = self._code_segments(strip_control_codes(line), spans, base, overlay)
        number = f" {row + 1:>{self._number_width}} "
        segments = [Segment(glyph, glyph_style), Segment(number, gutter_style)]
        gutter = len(number) + 1
        body = Strip(code)
        body = body.crop_extend(scroll_x, scroll_x + max(width - gutter, 0), base)
        return Strip(segments + list(body), width).crop_extend(0, width, base).simplify()
