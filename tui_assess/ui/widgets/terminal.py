"""The terminal pane: a real shell (ShellSession, in the sandbox) drawn by a VT emulator (pyte).

The widget owns the emulator and the keys; the shell and its sandbox live in ui/shell.py.
Everything the candidate types, every command line and the shell's output reach the session
hooks (`terminal_*`), which record them as their own events.

Keys: everything goes to the shell (ctrl+c, ctrl+r, tab, escape included) except the function
keys, which stay the app's: f12 leaves the terminal, f11 zooms it, f1 is help, ctrl+q quits.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from tui_assess.ui.shell import (
    OSC_COMMAND_DONE,
    OSC_COMMAND_START,
    OSC_PROMPT_END,
    ShellEnded,
    ShellSession,
)

TICK_S = 0.05
"""How often output is drawn (and recorded): coalesced, never per chunk."""
FAST_FORWARD_CHARS = 64 * 1024
"""A backlog larger than this is mostly scrolled past unseen: only its tail is drawn (all of it
is still recorded)."""
TAIL_CHARS = 16 * 1024
SCROLLBACK_LINES = 2000
"""Lines kept above the screen for shift+pageup (and the mouse wheel)."""
MARKS = re.compile(r"\x1b\]133;(?:B|C|D;(-?\d*))\x07")
DECCKM = 1 << 5
"""Application cursor keys (private mode 1, as pyte stores private modes)."""
BRACKETED_PASTE = 2004 << 5

KEYS: dict[str, str] = {
    "enter": "\r",
    "tab": "\t",
    "shift+tab": "\x1b[Z",
    "backspace": "\x7f",
    "ctrl+h": "\x08",
    "escape": "\x1b",
    "insert": "\x1b[2~",
    "delete": "\x1b[3~",
    "pageup": "\x1b[5~",
    "pagedown": "\x1b[6~",
    "ctrl+left": "\x1b[1;5D",
    "ctrl+right": "\x1b[1;5C",
    "ctrl+up": "\x1b[1;5A",
    "ctrl+down": "\x1b[1;5B",
    "shift+left": "\x1b[1;2D",
    "shift+right": "\x1b[1;2C",
    "ctrl+space": "\x00",
    "ctrl+at": "\x00",
    "ctrl+backslash": "\x1c",
    "ctrl+right_square_bracket": "\x1d",
    "ctrl+circumflex_accent": "\x1e",
    "ctrl+underscore": "\x1f",
}
CURSOR_KEYS = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}


def key_bytes(key: str, character: str | None, app_cursor: bool) -> bytes | None:
    """What an xterm sends for a key (Textual's key name), or None for keys it does not map."""
    if key in CURSOR_KEYS:
        return (("\x1bO" if app_cursor else "\x1b[") + CURSOR_KEYS[key]).encode()
    if key in KEYS:
        return KEYS[key].encode()
    if key.startswith("ctrl+") and len(key) == 6 and key[5].isalpha():
        return bytes([ord(key[5].lower()) - 96])
    if key.startswith("alt+") and character:
        return b"\x1b" + character.encode()
    if character and (character.isprintable() or character == "\t"):
        return character.encode()
    return None


COLOURS = {"brown": "yellow", "bfightmagenta": "bright_magenta"}  # pyte's names


def rich_colour(name: str) -> str | None:
    if name == "default":
        return None
    name = COLOURS.get(name, name)
    if len(name) == 6 and all(c in "0123456789abcdefABCDEF" for c in name):
        return f"#{name}"
    if name.startswith("bright") and not name.startswith("bright_"):
        name = "bright_" + COLOURS.get(name[6:], name[6:])
    return name


MISSING_PYTE = (
    "The terminal needs the pyte package, which this Python environment lacks "
    "(pip install 'pyte==0.8.2', or install tui-assess again)."
)


@functools.cache
def _screen_class() -> Any:
    """pyte's screen, counting scrolls (so a marked position can follow the text up) and
    answering the terminal's reports (cursor position, device attributes) to the shell.
    Built on first use: an environment installed before pyte became a dependency still runs
    the rest of the app."""
    import pyte

    class TrackingScreen(pyte.Screen):  # type: ignore[misc]
        def __init__(self, columns: int, lines: int) -> None:
            super().__init__(columns, lines)
            self.scrolled = 0
            self.reply: Any = None
            self.history: deque[Any] = deque(maxlen=SCROLLBACK_LINES)
            """Lines scrolled off the top (the scrollback), oldest first."""

        def index(self) -> None:
            top, bottom = self.margins or pyte.screens.Margins(0, self.lines - 1)
            if self.cursor.y == bottom:
                self.scrolled += 1
                if top == 0:  # the whole screen scrolls: its top line goes to the history
                    self.history.append(self.buffer[top])
            super().index()

        def write_process_input(self, data: str) -> None:
            if self.reply is not None:
                self.reply(data.encode())

    return TrackingScreen


def new_emulator(columns: int, lines: int) -> tuple[Any, Any]:
    """A (screen, stream) pair, or ImportError when pyte is missing."""
    import pyte

    screen = _screen_class()(columns, lines)
    return screen, pyte.Stream(screen)


class _Blank:
    """Stands in for the emulator before the shell starts (or without pyte)."""

    lines, columns, scrolled, mode, dirty = 0, 0, 0, frozenset(), set()  # type: ignore[var-annotated]
    history: deque[Any] = deque()

    class cursor:  # noqa: N801 - the shape of pyte's cursor
        x = y = 0
        hidden = True


class TerminalPane(Widget, can_focus=True):
    """A shell in the workspace folder, in the sandbox. Start it with `start()`."""

    @dataclass
    class CommandDone(Message):
        """The shell's prompt came back: a command finished (files may have changed)."""

        pane: TerminalPane
        exit_code: int | None

    DEFAULT_CSS = """
    TerminalPane { height: 1fr; background: $background; color: $foreground; }
    TerminalPane:focus { background-tint: $foreground 3%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = []
    HELP_TITLE = "Terminal keys (f12 opens the terminal)"
    BUILTIN_KEYS: ClassVar[list[tuple[str, str]]] = [
        ("every key but f1-f12 and ctrl+q", "goes to the shell: ctrl+c, tab, ctrl+r, arrows..."),
        ("f12", "leave the terminal (it keeps running); f12 again comes back"),
        ("f11", "zoom the terminal to the whole window, and back"),
        ("shift+pageup / shift+pagedown", "scroll back through what scrolled off (the wheel too)"),
        ("enter (after the shell ended)", "start a new shell"),
    ]

    def __init__(self, workspace: Any, limits: Any, hooks: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.workspace = workspace
        self.limits = limits
        self.hooks = hooks
        self.session: ShellSession | None = None
        self.vt: Any = _Blank()
        self.stream: Any = None
        self.status = "The terminal starts when you open it (f12)."
        """What the pane says when no shell runs (starting, ended and why)."""
        self.prompt_mark: tuple[int, int, int] | None = None
        """(x, y, scrolls) where the shell's command line starts, while at its prompt."""
        self._typed: list[str] = []
        self._early: list[bytes] = []
        self.back = 0
        """Lines scrolled back into the history (0: the live screen)."""
        self._held = ""
        self._styles: dict[tuple[Any, ...], Style] = {}
        self._lines: dict[int, Strip] = {}
        self.commands_done = 0
        """Commands the shell reported as finished (its prompt came back)."""

    # -- life ---------------------------------------------------------------------------------

    def on_mount(self) -> None:
        # Ticks only while a shell runs: an idle workspace (most of them) pays nothing.
        self._ticker = self.set_interval(TICK_S, self._tick, pause=True)

    @property
    def running(self) -> bool:
        return self.session is not None and self.session.alive

    def start(self) -> None:
        """Start a shell sized to the pane (in a thread: making the sandbox takes a moment)."""
        if self.running:
            return
        rows, cols = max(self.size.height, 2), max(self.size.width, 10)
        try:
            self.vt, self.stream = new_emulator(cols, rows)
        except ImportError:
            self._could_not_start(MISSING_PYTE)
            return
        self.vt.reply = self._write
        self.prompt_mark = None
        self.status = "Starting a shell in the sandbox..."
        self._lines.clear()
        self.refresh()
        self._ticker.resume()
        self._start_worker(rows, cols)

    @work(thread=True, exclusive=True, group="terminal-start", exit_on_error=False)
    def _start_worker(self, rows: int, cols: int) -> None:
        session = ShellSession(
            self.workspace,
            self.limits,
            rows=rows,
            cols=cols,
            on_limit=lambda words: self.app.call_from_thread(self._limit_hit, words),
            on_exit=lambda ended: self.app.call_from_thread(self._shell_ended, ended),
        )
        try:
            session.start()
        except Exception as exc:  # SandboxError or OSError: say so, keep the app
            self.app.call_from_thread(self._could_not_start, f"{exc}")
            return
        self.app.call_from_thread(self._started, session)

    def _started(self, session: ShellSession) -> None:
        if not self.is_mounted:
            session.close()
            return
        self.session = session
        self.status = ""
        self._lines.clear()
        self.hooks.terminal_started(
            session.argv,
            str(self.workspace),
            session.cols,
            session.rows,
            session.sandbox_mode,
            session.guarantees,
        )
        session.resize(max(self.size.height, 2), max(self.size.width, 10))
        early, self._early = self._early, []
        for data in early:
            self._typed.append(data.decode("utf-8", "replace"))
            session.write(data)

    def _could_not_start(self, why: str) -> None:
        self.status = f"The terminal could not start: {why}"
        self.refresh()
        self.notify(self.status, severity="error", markup=False)

    def _limit_hit(self, words: str) -> None:
        self.hooks.terminal_limit(words)
        self.notify(f"Terminal: {words}", severity="error", timeout=10, markup=False)

    def _shell_ended(self, ended: ShellEnded) -> None:
        self._tick()  # draw and record what it printed last
        self._ticker.pause()  # keys start a new shell from here (on_key), nothing to pass on
        if ended.reason != "closed":
            self.hooks.terminal_ended(ended.returncode, ended.reason)
        self.status = f"The shell ended: {ended.reason}. Press enter for a new one."
        self._lines.clear()
        self.refresh()

    def stop(self) -> None:
        """End the shell and everything it started (the pane, the workspace or the app is
        closing). Blocks until the sandbox verified they are gone (normally well under 1 s)."""
        session, self.session = self.session, None
        if session is not None:
            was_running = session.alive
            session.close()
            if was_running:
                self.hooks.terminal_ended(None, "the terminal was closed")

    def on_unmount(self) -> None:
        self.stop()

    # -- output ---------------------------------------------------------------------------------

    def _tick(self) -> None:
        self._flush_typed()
        if self.session is None:
            return
        text = self.session.take_output()
        if not text:
            return
        self.hooks.terminal_output(text)
        self._feed(text)

    def _feed(self, text: str) -> None:
        if self.stream is None:
            return
        text, self._held = self._held + text, ""
        start = text.rfind("\x1b]")
        if start >= 0 and "\x07" not in text[start:] and len(text) - start < 32:
            text, self._held = text[:start], text[start:]  # a mark split between two reads
        at = 0
        for mark in MARKS.finditer(text):
            self._draw(text[at : mark.start()])
            at = mark.end()
            if mark.group(0) == OSC_PROMPT_END:
                self.prompt_mark = (self.vt.cursor.x, self.vt.cursor.y, self.vt.scrolled)
            elif mark.group(0) == OSC_COMMAND_START:
                # The shell took a command line: record it as the screen shows it now (keys
                # typed faster than the echo, history, completion: all drawn by now).
                command = self.command_line(accepted=True)
                self.prompt_mark = None
                if command is not None:
                    self.hooks.terminal_command(command)
            elif mark.group(0).startswith(OSC_COMMAND_DONE):
                self._command_done(mark.group(1))
        self._draw(text[at:])
        for y in self.vt.dirty:
            self._lines.pop(y, None)
        self.vt.dirty.clear()
        self.refresh()

    def _draw(self, text: str) -> None:
        """Feed output to the emulator; a flood is mostly scrolled past unseen, so only the
        tail of a long stretch is drawn (the shell's marks around it are never skipped)."""
        if len(text) > FAST_FORWARD_CHARS:
            cut = text.find("\n", len(text) - TAIL_CHARS)
            text = "\x1b[0m" + text[cut + 1 :] if cut >= 0 else text[-TAIL_CHARS:]
        self.stream.feed(text)

    def _command_done(self, status: str) -> None:
        code = int(status) if status.lstrip("-").isdigit() else None
        if self.commands_done:  # the first mark is the shell's first prompt, not a command
            self.hooks.terminal_command_done(code)
            self.post_message(self.CommandDone(self, code))
            words = self.session.explain_exit(code) if self.session is not None else None
            if words:
                self._limit_hit(words[0].upper() + words[1:])
        self.commands_done += 1

    def row_text(self, y: int) -> str:
        line = self.vt.buffer[y]
        return "".join(line[x].data for x in range(self.vt.columns))

    def screen_text(self) -> str:
        """The visible screen as text (tests read it)."""
        return "\n".join(self.row_text(y).rstrip() for y in range(self.vt.lines))

    def command_line(self, accepted: bool = False) -> str | None:
        """The command line on screen, from the prompt's end; None when the shell is not at
        its prompt (a program is reading the keys). `accepted`: the shell has taken the line
        and moved the cursor to the next one."""
        if self.prompt_mark is None:
            return None
        x, y, scrolls = self.prompt_mark
        y -= self.vt.scrolled - scrolls
        if y < 0:
            x, y = 0, 0
        last = self.vt.cursor.y - 1 if accepted else self.vt.cursor.y
        while not accepted and last + 1 < self.vt.lines and self.row_text(last + 1).strip():
            last += 1
        parts = []
        for row in range(y, last + 1):
            text = self.row_text(row)[x if row == y else 0 :]
            full = len(self.row_text(row).rstrip()) >= self.vt.columns
            parts.append(text if full else text.rstrip() + "\n")
        return "".join(parts).rstrip("\n")

    # -- drawing --------------------------------------------------------------------------------

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        status = self.status
        if self.back and not status:
            status = f"{self.back} lines back · shift+pagedown returns, any other key too"
        if status and (self.session is None or y == self.size.height - 1):
            # Not started: the status on top. Ended: the screen stays, the status at the bottom.
            text = (status if y in (0, self.size.height - 1) else "").ljust(width)[:width]
            style = self.rich_style + Style(reverse=self.session is not None)
            return Strip([Segment(text, style)])
        if y >= self.vt.lines:
            return Strip([Segment(" " * self.size.width, self.rich_style)])
        if self.back:
            kept = len(self.vt.history)
            at = kept - self.back + y
            line = self.vt.history[at] if at < kept else self.vt.buffer[at - kept]
            return self._draw_row(line, -1)
        cursor = self.vt.cursor
        show_cursor = self.has_focus and not cursor.hidden and cursor.y == y
        if y in self._lines and not show_cursor:
            return self._lines[y]
        strip = self._draw_row(self.vt.buffer[y], cursor.x if show_cursor else -1)
        if not show_cursor:
            self._lines[y] = strip
        return strip

    def _draw_row(self, line: Any, cursor_x: int) -> Strip:
        base = self.rich_style
        segments: list[Segment] = []
        run: list[str] = []
        run_key: tuple[Any, ...] | None = None
        for x in range(self.vt.columns):
            ch = line[x]
            key = (ch.fg, ch.bg, ch.bold, ch.italics, ch.underscore, ch.strikethrough,
                   ch.reverse != (x == cursor_x))
            if key != run_key and run:
                segments.append(Segment("".join(run), self._style(run_key, base)))
                run = []
            run_key = key
            run.append(ch.data)
        if run:
            segments.append(Segment("".join(run), self._style(run_key, base)))
        return Strip(segments).adjust_cell_length(self.size.width, base)

    def _style(self, key: tuple[Any, ...] | None, base: Style) -> Style:
        assert key is not None
        style = self._styles.get(key)
        if style is None:
            fg, bg, bold, italic, underline, strike, reverse = key
            style = base + Style(
                color=rich_colour(fg),
                bgcolor=rich_colour(bg),
                bold=bold or None,
                italic=italic or None,
                underline=underline or None,
                strike=strike or None,
                reverse=reverse or None,
            )
            self._styles[key] = style
        return style

    def on_resize(self, event: events.Resize) -> None:
        rows, cols = max(event.size.height, 2), max(event.size.width, 10)
        if isinstance(self.vt, _Blank) or (rows, cols) == (self.vt.lines, self.vt.columns):
            return
        self.vt.resize(rows, cols)
        self._lines.clear()
        if self.session is not None and self.session.alive:
            self.session.resize(rows, cols)
            self.hooks.terminal_resized(cols, rows)

    def scroll_back(self, lines: int) -> None:
        """Move through the scrollback: positive goes back (up), negative forward."""
        back = max(0, min(len(self.vt.history), self.back + lines))
        if back != self.back:
            self.back = back
            self._lines.clear()
            self.refresh()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_back(3)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_back(-3)

    def on_focus(self) -> None:
        self._lines.pop(self.vt.cursor.y, None)
        self.refresh()

    def on_blur(self) -> None:
        self.on_focus()

    # -- input ----------------------------------------------------------------------------------

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Every key is the shell's (the app's ctrl+s, ctrl+r, tab, escape... do not fire while
        the terminal has focus), except the function keys and ctrl+q."""
        return not (key == "ctrl+q" or re.fullmatch(r"f\d+", key))

    def _write(self, data: bytes) -> None:
        if self.session is not None:
            self.session.write(data)

    def _flush_typed(self) -> None:
        if self._typed:
            self.hooks.terminal_input("".join(self._typed), False)
            self._typed.clear()

    async def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        starting = self.status.startswith("Starting")
        if not self.running and not starting:
            if event.key == "enter":
                self.session = None
                self.start()
            return
        if event.key in ("shift+pageup", "shift+pagedown", "shift+up", "shift+down"):
            step = max(1, self.vt.lines - 1) if "page" in event.key else 1
            self.scroll_back(step if event.key.endswith("up") else -step)
            return
        self.scroll_back(-self.back)  # typing returns to the live screen
        data = key_bytes(event.key, event.character, DECCKM in self.vt.mode)
        if data is None:
            return
        if starting:
            self._early.append(data)  # typed before the shell was up: sent when it is
            return
        self._typed.append(data.decode("utf-8", "replace"))
        if event.key == "enter":
            self._flush_typed()  # the command line itself is recorded when the shell takes it
        self._write(data)

    async def on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        if not self.running:
            return
        text = event.text.replace("\r\n", "\r").replace("\n", "\r")
        self._flush_typed()
        self.hooks.terminal_input(text, True)
        if BRACKETED_PASTE in self.vt.mode:
            text = f"\x1b[200~{text}\x1b[201~"
        self._write(text.encode())
