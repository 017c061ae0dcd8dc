"""Plain data the runner takes and returns. No knowledge of challenges lives here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

# Limits moved to the sandbox; re-exported here until runner/ is retired into judge/ + sandbox/.
from tui_assess.sandbox.limits import Limits

RunStatus = Literal["pass", "fail", "error", "timeout", "limit", "cancelled"]
TestStatus = Literal["pass", "fail", "error", "skip"]
LimitHit = Literal["time", "memory", "processes", "output"]


@dataclass
class TestOutcome:
    """One test's result, as streamed by the reporting plugin."""

    __test__ = False  # not a pytest test class

    nodeid: str
    name: str
    file: str
    status: TestStatus
    duration_s: float = 0.0
    message: str = ""


@dataclass
class Resources:
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    max_procs: int = 0
    limit_hit: LimitHit | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "max_procs": self.max_procs,
            "limit_hit": self.limit_hit,
        }


@dataclass(frozen=True)
class ResourceSample:
    """One sample of the run's process tree (taken at >= 10 Hz while it runs)."""

    t: float
    cpu_percent: float
    rss_mb: float
    procs: int


@dataclass
class RunSpec:
    """What to run: a workspace folder, a folder of tests, limits."""

    workspace: Path
    tests: Path
    limits: Limits = field(default_factory=Limits)
    show_details: bool = True
    """False hides test source from messages and output (for hidden suites)."""
    sandbox: Literal["auto", "namespaces", "rlimits"] = "auto"
    """'auto' uses namespaces where the kernel allows them and falls back to rlimits."""


@dataclass
class RunResult:
    status: RunStatus
    tests: list[TestOutcome]
    resources: Resources
    sandbox: str
    """Which containment ran: 'namespaces' or 'rlimits'."""
    guarantees: dict[str, str]
    """What that containment guarantees: network isolation, process-tree kill, limits."""
    snapshot: str
    """sha256 of the workspace content that was tested."""
    output: str = ""
    """Captured stdout/stderr of the run (capped at the output limit)."""
    reason: str = ""
    """Plain words for why a run ended as it did, when it is not simply pass/fail."""
    samples: list[ResourceSample] = field(default_factory=list)
    run_id: str = ""
    """Name of the run's private temporary folder (unique per run; in the tests' paths)."""

    @classmethod
    def empty(cls) -> RunResult:
        """A placeholder result (nothing ran yet)."""
        return cls("error", [], Resources(), "none", {}, "")

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "tests": [asdict(t) for t in self.tests],
            "resources": self.resources.to_json(),
            "sandbox": self.sandbox,
            "guarantees": self.guarantees,
            "snapshot": self.snapshot,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class TestStarted:
    """Streamed when pytest starts a test."""

    __test__ = False  # not a pytest test class

    nodeid: str


@dataclass(frozen=True)
class TestFinished:
    """Streamed as soon as a test has its outcome."""

    __test__ = False  # not a pytest test class

    outcome: TestOutcome


@dataclass(frozen=True)
class OutputChunk:
    """Captured output, coalesced (at most every 100 ms)."""

    text: str


#: Everything `run_tests(..., on_event=...)` may deliver (from a background thread).
RunEvent = TestStarted | TestFinished | ResourceSample | OutputChunk
