"""The seam where the session recorder (issue 5) plugs into the UI.

The UI calls these methods at the moment things really happen; the default does nothing.
A recorder subclasses SessionHooks (or provides the same methods) and is handed to
`AssessApp(hooks=...)`. Every method is called on the event loop thread except where noted,
and must return quickly (queue work, do not block).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_assess.challenge.model import Challenge


class GuardedHooks:
    """Calls the real hooks, but an exception in one (a recorder bug, a full disk) is reported
    through `on_error` once per method instead of taking the candidate's editor down."""

    def __init__(self, hooks: Any, on_error: Callable[[str], None]) -> None:
        self._hooks = hooks
        self._on_error = on_error
        self._failed: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._hooks, name)
        if not callable(target):
            return target

        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return target(*args, **kwargs)
            except Exception as exc:
                if name not in self._failed:
                    self._failed.add(name)
                    self._on_error(f"Session recording failed in {name}: {exc}")
                return None

        return guarded


class SessionHooks:
    """No-op hooks. Paths are workspace-relative POSIX strings."""

    def session_started(
        self, challenge: Challenge, workspace: Path, mode: str, deadline_s: float | None
    ) -> None:
        """The workspace screen opened; deadline_s is seconds left when timed."""

    def file_opened(self, path: str, text: str) -> None:
        """A file was loaded into an editor tab."""

    def edited(self, path: str, offset: int, deleted: int, inserted: str) -> None:
        """A change to a buffer (typing, paste, cut, undo, redo): from the document's
        replace_range, so every change goes through here exactly once."""

    def pasted(self, path: str, text: str) -> None:
        """A paste arrived (also reported as an edit)."""

    def saved(self, path: str, text: str) -> None:
        """A buffer was written to disk."""

    def external_change(self, path: str, text: str | None) -> None:
        """A file changed on disk outside the app (text None: deleted)."""

    def run_started(self, suite: str) -> None:
        """A visible (ctrl+r) or hidden (submit) run started."""

    def resource_sample(self, sample: Any) -> None:
        """A coalesced ResourceSample from the running tests."""

    def run_finished(self, suite: str, result: Any) -> None:
        """A run ended (result: CheckResult), cancelled runs included."""

    def hint_shown(self, index: int, text: str) -> None:
        """Hint number index (0-based) was revealed."""

    def solution_shown(self) -> None:
        """The reference solution was displayed."""

    def submitted(self, result: Any) -> None:
        """The candidate submitted; result is the hidden suite's CheckResult."""

    def focus_changed(self, focused: bool) -> None:
        """The terminal window lost (False) or regained (True) focus."""

    def resized(self, width: int, height: int) -> None:
        """The terminal was resized."""

    def note(self, text: str) -> None:
        """The candidate's note at submit: what they did and why."""

    def time_up(self) -> None:
        """The session's time limit passed."""

    def session_ended(self) -> None:
        """The workspace screen is closing (quit or back to the catalog)."""

    # -- the terminal pane (f12): a shell in the sandbox -------------------------------------

    def terminal_started(
        self,
        argv: list[str],
        cwd: str,
        cols: int,
        rows: int,
        sandbox: str,
        guarantees: dict[str, str],
    ) -> None:
        """A shell started in the pane: its program, folder, size, and the sandbox it runs in
        (mode and the guarantees of that mode, one sentence per row)."""

    def terminal_input(self, text: str, pasted: bool) -> None:
        """Keys the candidate sent to the shell (as the terminal sends them: Enter is \r),
        coalesced about every 50 ms; pasted=True for a paste."""

    def terminal_command(self, text: str) -> None:
        """The shell took a command line: the line as the screen showed it then."""

    def terminal_command_done(self, exit_code: int | None) -> None:
        """The shell's prompt came back after a command; its exit status."""

    def terminal_output(self, text: str) -> None:
        """What the shell and its programs printed (escape sequences included), coalesced
        about every 50 ms; the recorder chunks and caps it."""

    def terminal_resized(self, cols: int, rows: int) -> None:
        """The pane (and so the shell's terminal) changed size."""

    def terminal_limit(self, words: str) -> None:
        """A sandbox limit stopped what ran in the terminal (plain words)."""

    def terminal_ended(self, returncode: int | None, reason: str) -> None:
        """The shell ended: it exited, a limit stopped it, or the pane closed it."""
