"""The session log: recorder (append-only, hash-chained, crash-safe), replay and verify.

Headless: nothing in this package imports Textual (a test proves it).
"""

from tui_assess.session.hooks import RecorderHooks
from tui_assess.session.recorder import SessionRecorder, default_session_path
from tui_assess.session.timeline import Signal, Timeline
from tui_assess.session.verify import VerifyReport, verify

__all__ = [
    "RecorderHooks", "SessionRecorder", "Signal", "Timeline", "VerifyReport",
    "default_session_path", "verify",
]
