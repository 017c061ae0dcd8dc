"""Isolation for anything the candidate controls. Knows nothing of challenges, pytest or the judge.

The runner side is `SandboxRun` (run.py); a trusted process inside a run uses `current_run()`
(client.py). docs/architecture.md and the README's sandbox section describe the modes.

The names below are imported on first use: `tui_assess.sandbox.limits` alone (the challenge
model needs it) does not import the runner (issue 14: start-up).
"""

from typing import TYPE_CHECKING

from tui_assess.lazy import lazy_exports

if TYPE_CHECKING:
    from tui_assess.sandbox.client import RunClient, current_run
    from tui_assess.sandbox.events import (
        CandidateExited,
        CandidateOutput,
        CandidateStarted,
        CloseReport,
        LimitReached,
        Resources,
        ResourceSample,
        SandboxEvent,
    )
    from tui_assess.sandbox.limits import LimitHit, Limits
    from tui_assess.sandbox.run import SandboxRun
    from tui_assess.sandbox.spec import (
        CandidateProc,
        CandidateSpec,
        SandboxError,
        TrustedProc,
    )

__all__ = [
    "CandidateExited",
    "CandidateOutput",
    "CandidateProc",
    "CandidateSpec",
    "CandidateStarted",
    "CloseReport",
    "LimitHit",
    "LimitReached",
    "Limits",
    "ResourceSample",
    "Resources",
    "RunClient",
    "SandboxError",
    "SandboxEvent",
    "SandboxRun",
    "TrustedProc",
    "current_run",
]

__getattr__ = lazy_exports(__name__, {
    "RunClient": "client", "current_run": "client",
    "CandidateExited": "events", "CandidateOutput": "events", "CandidateStarted": "events",
    "CloseReport": "events", "LimitReached": "events", "Resources": "events",
    "ResourceSample": "events", "SandboxEvent": "events",
    "LimitHit": "limits", "Limits": "limits",
    "SandboxRun": "run",
    "CandidateProc": "spec", "CandidateSpec": "spec", "SandboxError": "spec",
    "TrustedProc": "spec",
})
