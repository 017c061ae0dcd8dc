"""F1: the keys (as currently mapped) and what a session records, in plain words."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
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
- hints you reveal, the reference solution if you view it, your submission and its note;
- when this terminal window loses or regains focus (you switched to another window), and
  when it is resized;
- about once a second, how busy the computer is (CPU and memory).

It does **not** record your screen, your camera, your keystrokes outside this app, other
programs or the clipboard beyond what you paste here. The log is tamper-evident: changing it
afterwards is detected (`tui-assess session verify`).

## Consoles

- **SQL console**: runs read-only queries on the workspace's database (`*.db`, `*.sqlite`, or
  the `*.sql` scripts loaded into memory) and shows rows, `EXPLAIN QUERY PLAN` and timing.
- **HTTP console**: starts your app on 127.0.0.1 on a free port. Your workspace's `app.py`
  (or `api.py`, `main.py`, `server.py`, `service.py`) must expose `app`, a WSGI callable, or
  `make_app(...)` returning one (its database and folder parameters get scratch copies).

## Changing keys

Put a `keymap.toml` in the data folder with binding ids and keys, for example
`"workspace.run" = "f5"`; the ids are listed above.
"""


def keys_markdown(screen: Screen[object] | None) -> str:
    """The bindings of the screen below and of the app, as currently mapped, with their ids."""
    lines = []
    if screen is not None:
        by_id = {
            a.binding.id: a.binding
            for a in screen.active_bindings.values()
            if a.binding.id and a.node in (screen, screen.app)
        }
        declared = [
            b
            for b in (*type(screen).BINDINGS, *type(screen.app).BINDINGS)
            if isinstance(b, Binding) and b.id
        ]
        for b in declared:
            live = by_id.get(b.id or "", b)
            key = screen.app.get_key_display(live)
            lines.append(f"- `{key}` **{b.description}**: {b.tooltip} (id `{b.id}`)")
    lines.append("- `ctrl+p` **Command palette**: lists and runs every action.")
    return "## Keys\n\n" + "\n".join(lines) + "\n"


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1", "close", "Close help", id="help.close", tooltip="Back to work."),
    ]

    def __init__(self, under: Screen[object] | None) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label("Help · escape closes", id="help-title")
            # A screen can say more than the keys (the replay's legend); the default is what
            # a recorded session keeps.
            more = getattr(self.under, "HELP_MARKDOWN", RECORDED)
            yield Markdown(keys_markdown(self.under) + "\n" + more, id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-text").focus()

    def action_close(self) -> None:
        self.dismiss(None)
