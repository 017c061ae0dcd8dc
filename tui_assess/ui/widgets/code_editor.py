"""A TextArea for one workspace file: Pygments highlighting, dirty tracking, an edit hook, and
the editing an IDE user expects (indentation kept on Enter, find, go to line, select all).

Textual's TextArea highlights through tree-sitter, which is an optional extra with native
wheels; Pygments (pure Python, already a dependency) feeds the same highlight map instead, so
highlighting works everywhere. The lexer is built and the first pass made in a worker; after
that, large buffers are lexed only around the viewport, keeping keystroke latency flat.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import (
    Comment,
    Generic,
    Keyword,
    Name,
    Number,
    Operator,
    String,
    _TokenType,
)
from pygments.util import ClassNotFound
from textual import events, work
from textual._text_area_theme import TextAreaTheme
from textual.binding import Binding, BindingType
from textual.document._document import EditResult, Location
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import TextArea

from tui_assess.ui.widgets.document_size import LineWidths, count_height

#: Pygments token types -> TextArea theme highlight names, most specific first.
TOKEN_NAMES: list[tuple[_TokenType, str]] = [
    (String.Doc, "string.documentation"),
    (String, "string"),
    (Comment, "comment"),
    (Keyword.Constant, "boolean"),
    (Keyword.Namespace, "include"),
    (Keyword.Type, "type.builtin"),
    (Keyword, "keyword"),
    (Operator.Word, "keyword.operator"),
    (Operator, "operator"),
    (Number, "number"),
    (Name.Function, "function"),
    (Name.Class, "type.class"),
    (Name.Decorator, "function"),
    (Name.Builtin.Pseudo, "variable.builtin"),
    (Name.Builtin, "function.call"),
    (Name.Exception, "type.class"),
    (Name.Tag, "json.label"),
    (Name.Attribute, "json.label"),
    (Generic.Heading, "heading"),
    (Generic.Subheading, "heading"),
    (Generic.Strong, "bold"),
    (Generic.Emph, "italic"),
]

LANGUAGES = {".py": "python", ".sql": "sql", ".toml": "toml", ".json": "json", ".md": "markdown"}
PLAIN_SUFFIXES = ("", ".txt", ".db", ".sqlite", ".sqlite3", ".csv", ".log")
SYNC_HIGHLIGHT_CHARS = 20_000
"""Buffers up to this size are lexed whole on every edit; larger ones around the viewport."""
WINDOW_BEFORE = 120
"""Lines lexed above the viewport: enough context for docstrings and multi-line strings."""
WINDOW_AFTER = 40

DEDENT_AFTER = re.compile(r"^\s*(return|pass|break|continue|raise)\b")
"""A Python line that ends a block: the next line starts one level out."""
TRAILING_COMMENT = re.compile(r"\s+#[^'\"]*$")


def normalise_newlines(text: str) -> str:
    """\r\n and lone \r (how terminals send a paste's line breaks) become \n."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def newline_indent(line_before_cursor: str, python: bool, width: int) -> str:
    """The indentation of the line Enter opens: the current line's, one level deeper after a
    Python line ending in `:`, one level shallower after `return`, `pass`, `raise`, ..."""
    indent = line_before_cursor[: len(line_before_cursor) - len(line_before_cursor.lstrip())]
    if not python:
        return indent
    code = TRAILING_COMMENT.sub("", line_before_cursor).rstrip()
    if code.endswith(":"):
        return indent + " " * width
    if DEDENT_AFTER.match(code) and indent.endswith(" " * width):
        return indent[:-width]
    return indent


def _light_dark_themes() -> tuple[TextAreaTheme, TextAreaTheme]:
    """Editor themes that take colours from the app theme (CSS) and only add syntax colours,
    picked for a dark or a light background."""
    dark = TextAreaTheme.get_builtin_theme("vscode_dark")
    light = TextAreaTheme.get_builtin_theme("github_light")
    assert dark is not None and light is not None
    return (
        TextAreaTheme(name="assess-dark", syntax_styles=dict(dark.syntax_styles)),
        TextAreaTheme(name="assess-light", syntax_styles=dict(light.syntax_styles)),
    )


def highlight_name(token: _TokenType) -> str | None:
    for ttype, name in TOKEN_NAMES:
        if token in ttype:
            return name
    return None


def build_highlights(lexer: Lexer, text: str) -> dict[int, list[tuple[int, int | None, str]]]:
    """Highlights per line as (start byte, end byte, name), the shape TextArea draws."""
    highlights: dict[int, list[tuple[int, int | None, str]]] = defaultdict(list)
    row, col = 0, 0
    cache: dict[_TokenType, str | None] = {}
    for token, value in lexer.get_tokens(text):
        name = cache[token] if token in cache else cache.setdefault(token, highlight_name(token))
        pieces = value.split("\n")
        for i, piece in enumerate(pieces):
            if i:
                row += 1
                col = 0
            if not piece:
                continue
            width = len(piece.encode("utf-8"))
            if name is not None:
                highlights[row].append((col, col + width, name))
            col += width
    return highlights


class CodeEditor(TextArea):
    """The editor of one workspace file."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+f",
            "find",
            "Find",
            id="editor.find",
            show=False,
            tooltip="Find text in this file (enter or down: next match, up: previous).",
        ),
        Binding(
            "ctrl+l",
            "goto_line",
            "Go to line",
            id="editor.goto_line",
            show=False,
            tooltip="Jump to a line number.",
        ),
        Binding(
            "ctrl+a",
            "select_all",
            "Select all",
            id="editor.select_all",
            show=False,
            tooltip="Select the whole file (home still goes to the start of the line).",
        ),
    ]

    HELP_TITLE = "Editor keys"
    BUILTIN_KEYS: ClassVar[list[tuple[str, str]]] = [
        ("ctrl+z / ctrl+y", "undo / redo"),
        ("ctrl+x / ctrl+c / ctrl+v", "cut / copy / paste (inside the app)"),
        ("shift+arrows", "select"),
        ("ctrl+left / ctrl+right", "previous / next word"),
        ("ctrl+w / ctrl+k", "delete the word before / to the end of the line"),
        ("tab", "indent (backspace in leading spaces removes one level)"),
        ("enter", "new line, keeping the indentation (one level deeper after `:`)"),
    ]
    """TextArea's own keys worth knowing, for the help screen."""

    def __init__(
        self,
        text: str,
        rel_path: str,
        on_edit: Callable[[str, int, int, str], None] | None = None,
        on_paste: Callable[[str, str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        self.rel_path = rel_path
        self.saved_text = text
        self._on_edit_hook = on_edit
        self._on_paste_hook = on_paste
        # The lexer is built in a worker on first use: compiling Pygments' Python lexer takes
        # ~0.2 s, which would otherwise delay the first screen. Text shows at once, colours
        # follow.
        self._lexer: Lexer | None = None
        self._wants_highlight = Path(rel_path).suffix.lower() not in PLAIN_SUFFIXES
        self._highlight_generation = 0
        self._window = (0, 0)
        # rows [start, end) the highlight map covers
        self._line_widths = LineWidths()
        self._styled_theme: TextAreaTheme | None = None
        # the theme object that last took this widget's CSS (None: take it at the next draw)
        super().__init__(
            text,
            show_line_numbers=True,
            tab_behavior="indent",
            soft_wrap=False,
            **kwargs,
        )
        self.indent_width = 4
        for theme in _light_dark_themes():
            self.register_theme(theme)

    @staticmethod
    def _lexer_for(rel_path: str) -> Lexer | None:
        # The five languages by suffix, straight to their lexer (get_lexer_for_filename scans
        # every lexer's patterns: half a second on first use); others by Pygments' lookup.
        suffix = Path(rel_path).suffix.lower()
        name = LANGUAGES.get(suffix)
        try:
            if name is not None:
                return get_lexer_by_name(name, stripnl=False, ensurenl=False)
            if suffix in PLAIN_SUFFIXES:
                return None
            return get_lexer_for_filename(Path(rel_path).name, stripnl=False, ensurenl=False)
        except ClassNotFound:
            return None

    @property
    def language_name(self) -> str:
        return LANGUAGES.get(Path(self.rel_path).suffix.lower(), "text")

    @property
    def dirty(self) -> bool:
        """The buffer differs from what was last loaded or saved."""
        return self.text != self.saved_text

    def on_mount(self) -> None:
        if self._wants_highlight:
            # After the first paint: the worker's lexing holds the GIL for 25-50 ms, which
            # would otherwise delay the editor's first frame (issue 14, startup).
            self.call_after_refresh(self._rehighlight_in_thread)
        self.watch(self, "scroll_y", lambda _y: self._viewport_moved(), init=False)
        self.call_after_refresh(self._viewport_moved)
        self._follow_app_theme()
        self.watch(self.app, "theme", lambda _t: self._follow_app_theme(), init=False)

    def _follow_app_theme(self) -> None:
        self.theme = "assess-dark" if self.app.current_theme.dark else "assess-light"

    # -- recording seam: every change, undo/redo included, goes through replace_range -------

    def _set_document(self, text: str, language: str | None) -> None:
        self._line_widths.reset()
        super()._set_document(text, language)
        count_height(self.wrapped_document)
        document = self.document
        original = document.replace_range
        widths = self._line_widths

        def recorded_replace_range(start: Location, end: Location, text: str) -> EditResult:
            top, bottom = sorted((start, end))
            hook = self._on_edit_hook
            if hook is not None:
                offset = document.get_index_from_location(top)  # type: ignore[attr-defined]
                deleted = len(document.get_text_range(top, bottom))
            result = original(start, end, text)
            widths.edited(document.lines, top[0], bottom[0], result.end_location[0])
            if hook is not None:
                # What the document holds now (line breaks as it stores them), which is
                # exactly what a save writes: replaying the record gives the saved file.
                inserted = document.get_text_range(top, result.end_location)
                hook(self.rel_path, offset, deleted, inserted)
            return result

        document.replace_range = recorded_replace_range  # type: ignore[method-assign]

    def _refresh_size(self) -> None:
        # TextArea's own measures every line of an unwrapped document after each edit.
        if self.soft_wrap:
            super()._refresh_size()
            return
        lines = self.document.lines
        width = self._line_widths.widest(lines, self.indent_width)
        # +1 width: the cursor resting at the end of the longest line (as TextArea's)
        self.virtual_size = Size(width + self.gutter_width + 1, len(lines))
        self._refresh_scrollbars()

    async def _on_paste(self, event: events.Paste) -> None:
        # Textual calls TextArea's own _on_paste after this one unless the default is
        # prevented: calling super() as well inserted every paste twice.
        event.prevent_default()
        if self.read_only:
            return
        text = normalise_newlines(event.text)
        if self._on_paste_hook is not None:
            self._on_paste_hook(self.rel_path, text)
        if result := self._replace_via_keyboard(text, *self.selection):
            self.move_cursor(result.end_location)
            self.focus()

    # -- editing: indentation -----------------------------------------------------------------

    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable and event.key not in ("enter", "tab", "escape"):
            # A key bound to an action (arrows, home/end, ctrl+...) runs here, in the order
            # the keys came. Left to bubble up to the app, it could be overtaken by the next
            # printable key, typed here at once, while the app is busy: "End" then " " would
            # put the space before the end (the first moments after start-up, say). The
            # check is the app's own, over the same chain (this editor up to the app).
            if await self.app._check_bindings(event.key):
                event.stop()
                event.prevent_default()
            return
        if event.key != "enter" or self.read_only:
            return  # TextArea's own handler (called next) does the rest
        event.stop()
        event.prevent_default()
        self._restart_blink()
        start, end = self.selection
        top = min(start, end)
        before = self.document[top[0]][: top[1]]
        indent = newline_indent(before, self.language_name == "python", self.indent_width)
        self._replace_via_keyboard("\n" + indent, start, end)

    def action_delete_left(self) -> None:
        """Backspace; in the leading spaces of a line it removes one indentation level."""
        row, col = self.cursor_location
        before = self.document[row][:col]
        if self.read_only or not self.selection.is_empty or not before or before.strip(" "):
            super().action_delete_left()
            return
        width = self.indent_width
        self._delete_via_keyboard((row, ((col - 1) // width) * width), (row, col))

    # -- editing: find, go to line --------------------------------------------------------------

    def action_find(self) -> None:
        from tui_assess.ui.widgets.editor_prompts import FindPrompt

        self.app.push_screen(FindPrompt(self))

    def action_goto_line(self) -> None:
        from tui_assess.ui.widgets.editor_prompts import GoToLinePrompt

        self.app.push_screen(GoToLinePrompt(self))

    # -- highlighting -----------------------------------------------------------------------

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        self._highlight_generation += 1
        if self._lexer is None:
            if self._wants_highlight and self.is_mounted:
                self._rehighlight_in_thread()  # the first pass is still on its way
            return
        self._rehighlight()

    def _rehighlight(self) -> None:
        """Small buffers: lex everything. Large ones: lex the lines around the viewport only,
        so a keystroke costs the same on a 2,000-line file as on a 20-line one."""
        assert self._lexer is not None
        lines = self.document.lines
        if sum(map(len, lines)) <= SYNC_HIGHLIGHT_CHARS:
            self._window = (0, len(lines))
            self._apply_highlights(build_highlights(self._lexer, "\n".join(lines)))
            return
        top = int(self.scroll_offset.y)
        height = max(self.size.height, 40)
        start = max(0, top - WINDOW_BEFORE)
        end = min(len(lines), top + height + WINDOW_AFTER)
        highlights = build_highlights(self._lexer, "\n".join(lines[start:end]))
        self._window = (start, end)
        self._apply_highlights({row + start: spans for row, spans in highlights.items()})

    def _viewport_moved(self) -> None:
        if self._lexer is None:
            return
        top = int(self.scroll_offset.y)
        start, end = self._window
        if top < start or top + self.size.height > end:
            self._rehighlight()

    def _rehighlight_in_thread(self) -> None:
        """Lex a large buffer in a worker thread: keys typed meanwhile are handled at once."""
        self._highlight_worker(self.document.text, self._highlight_generation)

    @work(thread=True, exclusive=True, group="highlight", exit_on_error=False)
    def _highlight_worker(self, text: str, generation: int) -> None:
        lexer = self._lexer or self._lexer_for(self.rel_path)
        if lexer is None:
            self.app.call_from_thread(setattr, self, "_wants_highlight", False)
            return
        highlights = build_highlights(lexer, text)
        self.app.call_from_thread(self._apply_highlights, highlights, generation, lexer)

    def _apply_highlights(
        self,
        highlights: dict[int, list[tuple[int, int | None, str]]],
        generation: int = -1,
        lexer: Lexer | None = None,
    ) -> None:
        if lexer is not None and self._lexer is None:
            self._lexer = lexer
            self._window = (0, self.document.line_count)  # the first pass lexed everything
        if generation != -1 and generation != self._highlight_generation:
            self._rehighlight()  # edited while the first pass was lexing: catch up now
            return
        self._highlights.clear()
        self._highlights.update(highlights)
        self._line_cache.clear()
        self.refresh()

    # -- drawing --------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # TextArea's own copies the CSS into its theme on every draw, walking the styles of
        # every ancestor (six containers here); the cursor's blink draws twice a second, and
        # this copy was a fifth of an idle workspace's event-loop time. The CSS changes only
        # with a whole refresh or a style update (focus, the app's theme, classes), which
        # forget the copy below.
        theme = self._theme
        if theme is not None and theme is not self._styled_theme:
            theme.apply_css(self)
            self._styled_theme = theme
        return Widget.render_lines(self, crop)

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> CodeEditor:
        if repaint and not regions:  # a whole repaint (a line's is the blink or the cursor)
            self._styled_theme = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styled_theme = None

    # -- files ------------------------------------------------------------------------------

    def mark_saved(self, text: str | None = None) -> None:
        self.saved_text = self.text if text is None else text

    def reload(self, text: str) -> None:
        """Replace the whole buffer with text from disk (keeps the cursor where it can)."""
        cursor = self.cursor_location
        self.load_text(text)
        self.saved_text = text
        row = min(cursor[0], self.document.line_count - 1)
        self.move_cursor((row, min(cursor[1], len(self.document[row]))))
