"""The editor's prompts: find (next / previous), go to line, open a file.

Each is a small modal bar at the bottom of the screen that acts on one TextArea and closes
back to it (escape), leaving the match selected or the cursor on the line.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.document._document import Document
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option
from textual.widgets.text_area import Selection


def find_all(text: str, query: str) -> list[int]:
    """Offsets of every (non-overlapping) match; case-insensitive unless the query has a
    capital letter (smart case, as in most editors)."""
    if not query:
        return []
    if query.islower() or not any(c.isalpha() for c in query):
        text, query = text.lower(), query.lower()
    found, start = [], text.find(query)
    while start != -1:
        found.append(start)
        start = text.find(query, start + len(query))
    return found


class EditorPrompt(ModalScreen[None]):
    """A one-line bar over the bottom of the screen, for one editor."""

    DEFAULT_CSS = """
    EditorPrompt { align: left bottom; background: transparent; }
    EditorPrompt > Horizontal {
        height: 3; width: 1fr; background: $panel; border-top: hkey $primary;
    }
    EditorPrompt Label { padding: 1 1 0 1; width: auto; }
    EditorPrompt Input { width: 1fr; }
    EditorPrompt #prompt-status { color: $text-muted; min-width: 12; }
    """

    LABEL = ""
    PLACEHOLDER = ""

    def __init__(self, editor: TextArea, value: str = "") -> None:
        super().__init__()
        self.editor = editor
        self.initial = value

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.LABEL)
            yield Input(self.initial, placeholder=self.PLACEHOLDER, id="prompt-input")
            yield Label("", id="prompt-status", markup=False)

    @property
    def status_text(self) -> str:
        return str(self.query_one("#prompt-status", Label).render())

    def say(self, text: str) -> None:
        self.query_one("#prompt-status", Label).update(text)

    def action_close(self) -> None:
        self.dismiss(None)


class FindPrompt(EditorPrompt):
    """Find as you type; enter or down: next match, up: previous (both wrap around)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="find.close", tooltip="Close, keep the match."),
        Binding("down", "step(1)", "Next", id="find.next", tooltip="The next match."),
        Binding("up", "step(-1)", "Previous", id="find.previous", tooltip="The previous match."),
    ]
    LABEL = "Find"
    PLACEHOLDER = "text to find (enter: next, up: previous, escape: close)"
    last_query: ClassVar[str] = ""
    """The last search, offered again by the next ctrl+f."""

    def __init__(self, editor: TextArea) -> None:
        super().__init__(editor, FindPrompt.last_query)
        # Matches are looked for from where the cursor was when the search began.
        document = editor.document
        assert isinstance(document, Document)
        self.search_from = document.get_index_from_location(min(editor.selection))
        self.matches: list[int] = []
        self.current = -1

    def on_mount(self) -> None:
        self._search()

    @on(Input.Changed, "#prompt-input")
    def _search(self) -> None:
        query = self.query_one("#prompt-input", Input).value
        FindPrompt.last_query = query
        self.matches = find_all(self.editor.text, query)
        if not self.matches:
            self.current = -1
            self.say("no match" if query else "")
            return
        self.current = next(
            (i for i, at in enumerate(self.matches) if at >= self.search_from), 0
        )
        self._select()

    def _select(self) -> None:
        at = self.matches[self.current]
        document = self.editor.document
        assert isinstance(document, Document)
        start = document.get_location_from_index(at)
        end = document.get_location_from_index(at + len(FindPrompt.last_query))
        self.editor.selection = Selection(start, end)
        self.editor.scroll_cursor_visible(center=True)
        self.say(f"{self.current + 1} of {len(self.matches)}")

    def action_step(self, delta: int) -> None:
        if not self.matches:
            return
        self.current = (self.current + delta) % len(self.matches)
        self._select()

    @on(Input.Submitted, "#prompt-input")
    def _next(self) -> None:
        self.action_step(1)


class GoToLinePrompt(EditorPrompt):
    """Type a line number, enter jumps there."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="goto.close", tooltip="Close, stay where you are."),
    ]
    LABEL = "Go to line"
    PLACEHOLDER = "line number"

    @on(Input.Submitted, "#prompt-input")
    def _go(self) -> None:
        last = self.editor.document.line_count
        text = self.query_one("#prompt-input", Input).value.strip()
        if not text.isdigit() or not 1 <= int(text) <= last:
            self.say(f"a line from 1 to {last}")
            return
        self.editor.move_cursor((int(text) - 1, 0), center=True)
        self.dismiss(None)


def match_files(files: list[str], query: str) -> list[str]:
    """Files whose path contains every word of the query (case-insensitive), the ones whose
    name starts with the first word first, then by path."""
    words = query.lower().split()
    found = [f for f in files if all(w in f.lower() for w in words)]
    first = words[0] if words else ""
    return sorted(found, key=lambda f: (not f.rsplit("/", 1)[-1].lower().startswith(first), f))


class OpenFilePrompt(ModalScreen[str | None]):
    """ctrl+o: type part of a file's name, enter opens it (up / down choose among matches)."""

    DEFAULT_CSS = """
    OpenFilePrompt { align: center top; background: transparent; }
    OpenFilePrompt > Vertical {
        width: 70; max-width: 100%; height: auto; max-height: 80%;
        background: $panel; border: round $primary; margin-top: 2;
    }
    OpenFilePrompt OptionList { height: auto; max-height: 16; border: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="open.close", tooltip="Close without opening."),
        Binding("down", "move(1)", "Next", id="open.next", tooltip="The next match."),
        Binding("up", "move(-1)", "Previous", id="open.previous", tooltip="The previous match."),
    ]

    def __init__(self, files: list[str]) -> None:
        super().__init__()
        self.files = sorted(files)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder="Open a file: type part of its name", id="open-input")
            yield OptionList(*[Option(f, id=f) for f in self.files], id="open-list")

    @on(Input.Changed, "#open-input")
    def _filter(self, event: Input.Changed) -> None:
        options = self.query_one("#open-list", OptionList)
        options.clear_options()
        options.add_options([Option(f, id=f) for f in match_files(self.files, event.value)])
        options.highlighted = 0 if options.option_count else None

    def action_move(self, delta: int) -> None:
        options = self.query_one("#open-list", OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = (current + delta) % options.option_count

    @on(Input.Submitted, "#open-input")
    @on(OptionList.OptionSelected, "#open-list")
    def _open(self) -> None:
        options = self.query_one("#open-list", OptionList)
        if options.highlighted is None:
            return
        self.dismiss(options.get_option_at_index(options.highlighted).id)

    def action_close(self) -> None:
        self.dismiss(None)
