"""F1: the keys (as currently mapped) and what a session records, in plain words."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Markdown

RECORDED = """\
## What is recorded in a session

Every session, practice or exam, is recorded in a file on this computer
(`<data folder>/sessions/`, one per challenge; opening the challenge again continues it):

- every change you make in the editor, as it happens (typing, pasting, undo and redo),
  and every save;
- which files you open, and files changed by other programs in the workspace folder;
- every test run: when it started, which tests passed or failed, time and memory used;
- the terminal pane (f12): every key you send to its shell, each command line, and what the
  commands print (up to a cap; the recording says when it was reached);
- hints you reveal, the reference solution if you view it, your submission and its note;
- when this terminal window loses or regains focus (you switched to another window), and
  when it is resized;
- about once a second, how busy the computer is (CPU and memory).

It does **not** record your screen, your camera, your keystrokes outside this app, other
programs or the clipboard beyond what you paste here. The log is tamper-evident: changing it
afterwards is detected (`tui-assess session verify`).

## Consoles

- **Terminal** (f12): a shell in your workspace folder, running in the same sandbox as the
  tests: it can write only your workspace, has no network beyond its own loopback (where this
  computer allows the sandbox to isolate it), and the challenge's limits apply (CPU time per
  command, memory, processes, disk). Every key goes to the shell except f1-f12 and ctrl+q;
  f12 takes you back to the editor and the shell keeps running until you leave the workspace.
- **SQL console**: runs read-only queries on the workspace's database (`*.db`, `*.sqlite`, or
  the `*.sql` scripts loaded into memory) and shows rows, `EXPLAIN QUERY PLAN` and timing.
- **HTTP console**: starts your app in the sandbox (like the terminal: no network, the
  challenge's limits, on a fresh copy of your files: f5 restarts it). Your workspace's `app.py`
  (or `api.py`, `main.py`, `server.py`, `service.py`) must expose `app`, a WSGI callable, or
  `make_app(...)` returning one (its database and folder parameters get scratch copies).

## Changing keys

Put a `keymap.toml` in the data folder with binding ids and keys, for example
`"workspace.run" = "f5"`; the ids are listed above.
"""


def _binding_lines(screen: Screen[object], declared: list[BindingType]) -> list[str]:
    """One line per declared binding with an id, showing the key as currently mapped."""
    keymap: dict[str, str] = getattr(screen.app, "user_keymap", {})  # from keymap.toml
    lines = []
    for b in declared:
        if not isinstance(b, Binding) or not b.id:
            continue
        key = keymap.get(b.id, b.key)
        shown = screen.app.get_key_display(Binding(key, b.action, b.description))
        lines.append(f"- `{shown}` **{b.description}**: {b.tooltip} (id `{b.id}`)")
    return lines


def keys_markdown(screen: Screen[object] | None) -> str:
    """The keys of the screen below (and of its widgets that have their own: the editor, the
    terminal) and of the app, as currently mapped, with their ids."""
    sections = []
    if screen is not None:
        lines = _binding_lines(screen, [*type(screen).BINDINGS, *type(screen.app).BINDINGS])
        lines.append("- `ctrl+p` **Command palette**: lists and runs every action.")
        sections.append("## Keys\n\n" + "\n".join(lines))
        for widget_type in getattr(screen, "HELP_WIDGETS", ()):
            lines = _binding_lines(screen, list(widget_type.BINDINGS))
            lines += [f"- `{k}`: {what}" for k, what in getattr(widget_type, "BUILTIN_KEYS", [])]
            sections.append(f"## {widget_type.HELP_TITLE}\n\n" + "\n".join(lines))
    else:
        sections.append("## Keys\n\n- `ctrl+p` **Command palette**: lists and runs every action.")
    return "\n\n".join(sections) + "\n"


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1", "close", "Close help", id="help.close", tooltip="Back to work."),
        Binding(
            "space",
            "page_down",
            "Page down",
            id="help.page_down",
            tooltip="Scroll one page (also pagedown, arrows, home, end).",
            show=False,
        ),
    ]

    def __init__(self, under: Screen[object] | None) -> None:
        super().__init__()
        self.under = under
        # A screen can say more than its keys (the replay's legend); the default is what a
        # recorded session keeps.
        self.help_markdown = keys_markdown(under) + "\n" + getattr(under, "HELP_MARKDOWN",
                                                                   RECORDED)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label("Help · arrows, pagedown, space scroll · escape closes", id="help-title")
            # A focusable scroll container: arrows, page keys, home and end scroll it (a bare
            # Markdown cannot take focus, so no key reached it).
            with VerticalScroll(id="help-scroll"):
                yield Markdown(self.help_markdown, id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_page_down(self) -> None:
        self.query_one("#help-scroll", VerticalScroll).scroll_page_down()

    def action_close(self) -> None:
        self.dismiss(None)
