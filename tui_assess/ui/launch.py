"""`tui-assess practice [CHALLENGE]`: the TUI with a recorded session, as the command runs it.

Kept apart from cli.py (click) so the entry point can start it without importing the command
line library and every other command (tui_assess/entry.py; issue 14: start-up).
"""

from __future__ import annotations

import shutil
import sys


def practice(challenge: str | None) -> None:
    """Open CHALLENGE (a bundled slug or a folder), or the catalog when None; when the app
    ends, say where the session was recorded. Raises UserError for an unknown challenge."""
    from tui_assess.challenge.catalog import list_challenges, resolve
    from tui_assess.session.hooks import RecorderHooks
    from tui_assess.ui.app import AssessApp

    start = resolve(challenge) if challenge is not None else None
    size = shutil.get_terminal_size()
    hooks = RecorderHooks(terminal_size=(size.columns, size.lines))
    if start is None:
        app = AssessApp(challenges=list_challenges(), hooks=hooks)  # type: ignore[arg-type]
    else:
        app = AssessApp(start=start, hooks=hooks)  # type: ignore[arg-type]

    # The recorder's writer thread reports a full disk or a read-only folder at once, in words.
    def recording_failed(message: str) -> None:
        try:
            app.call_from_thread(
                app.notify, message, title="Session recording", severity="error", timeout=30
            )
        except RuntimeError:  # the app is not running (any more): say it on the terminal
            print(f"tui-assess: session recording: {message}", file=sys.stderr, flush=True)

    hooks.on_error = recording_failed
    app.run()
    if hooks.path is not None and hooks.final_link is not None:
        print(f"Session recorded in {hooks.path}")
        print(f"Final link (keep it to prove the file is unchanged): {hooks.final_link}")
