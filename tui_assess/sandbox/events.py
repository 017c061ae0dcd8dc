"""What a run reports: events (from background threads), resources, and the close report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui_assess.sandbox.limits import LimitHit


@dataclass(frozen=True)
class CandidateStarted:
    name: str
    pid: int


@dataclass(frozen=True)
class CandidateExited:
    name: str
    pid: int
    returncode: int
    """The exit code, or -N when signal N ended it (subprocess's convention)."""


@dataclass(frozen=True)
class ResourceSample:
    """The candidates' processes together, sampled about 10 times a second."""

    t: float
    cpu_percent: float
    memory_mb: float
    procs: int
    disk_mb: float


@dataclass(frozen=True)
class LimitReached:
    kind: LimitHit
    words: str
    """Plain words for the person who ran it."""


@dataclass(frozen=True)
class CandidateOutput:
    """Captured stdout+stderr of one candidate, coalesced (at most every 100 ms)."""

    name: str
    text: str


SandboxEvent = CandidateStarted | CandidateExited | ResourceSample | LimitReached | CandidateOutput


@dataclass
class Resources:
    """What the candidates used in a run (the judge's own use is not theirs)."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_memory_mb: float = 0.0
    max_procs: int = 0
    disk_mb: float = 0.0
    """The most the run's writable space held at once."""
    limit_hit: LimitHit | None = None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "peak_memory_mb": round(self.peak_memory_mb, 1),
            "max_procs": self.max_procs,
            "disk_mb": round(self.disk_mb, 1),
            "limit_hit": self.limit_hit,
        }


@dataclass
class CloseReport:
    """How a run ended: what was killed (verified gone), what is left, what was removed."""

    killed: int = 0
    """Processes of the run that were still alive at close, killed and verified gone."""
    survivors: list[int] = field(default_factory=list)
    """Pids still alive when the time budget ran out (should always be empty)."""
    removed: bool = False
    """The run folder is gone."""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
