"""The session log: recorder (append-only, hash-chained, crash-safe), replay and verify.

Headless: nothing in this package imports Textual (a test proves it). The names below are
imported on first use: the TUI's start-up needs the recorder, not the replay (issue 14).
"""

from typing import TYPE_CHECKING

from tui_assess.lazy import lazy_exports

# Imported now: `verify` is also the name of its submodule, which any import of the submodule
# would otherwise bind here in place of the function (it imports only the store).
from tui_assess.session.verify import VerifyReport, verify

if TYPE_CHECKING:
    from tui_assess.session.hooks import RecorderHooks
    from tui_assess.session.recorder import SessionRecorder, default_session_path
    from tui_assess.session.timeline import Signal, Timeline

__all__ = [
    "RecorderHooks", "SessionRecorder", "Signal", "Timeline", "VerifyReport",
    "default_session_path", "verify",
]

__getattr__ = lazy_exports(__name__, {
    "RecorderHooks": "hooks", "SessionRecorder": "recorder", "default_session_path": "recorder",
    "Signal": "timeline", "Timeline": "timeline",
})
