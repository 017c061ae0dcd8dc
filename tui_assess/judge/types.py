"""Plain data a test run takes and returns (RunSpec, RunResult, events). No challenges here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from tui_assess.sandbox.limits import LimitHit, Limits

__all__ = [
    "LimitHit",
    "Limits",
    "OutputChunk",
    "Resources",
    "ResourceSample",
    "RunEvent",
    "RunResult",
    "RunSpec",
    "RunStatus",
    "TestFinished",
    "TestOutcome",
    "TestStarted",
    "TestStatus",
]

RunStatus = Literal["pass", "fail", "error", "timeout", "limit", "cancelled"]
TestStatus = Literal["pass", "fail", "error", "skip"]


@dataclass
class TestOutcome:
    """One test's result, as the judge reported it (or as the runner filled it in)."""

    __test__ = False  # not a pytest test class

    nodeid: str
    name: str
    file: str
    status: TestStatus
    duration_s: float = 0.0
    message: str = ""


@dataclass
class Resources:
    """What the candidate's processes used (measured from outside; the judge's own use is not
    the candidate's)."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    max_procs: int = 0
    limit_hit: LimitHit | None = None
    disk_mb: float = 0.0
    """The most the run's writable space held at once."""

    def to_json(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "max_procs": self.max_procs,
            "limit_hit": self.limit_hit,
            "disk_mb": round(self.disk_mb, 1),
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
    sandbox: str = "auto"
    """'auto' (the best mode this machine allows), or 'namespaces', 'landlock', 'rlimits'."""
    generated: tuple[str, ...] = ()
    """Workspace files the challenge's [seed] makes: data, not the candidate's work. They are
    not copied into the run and not part of its snapshot (tests build their own data)."""


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
    judge: str = "isolated"
    """Where verdicts came from: 'isolated' (a judge process outside the candidate's)."""
    expected: list[str] = field(default_factory=list)
    """Node ids of every test the judge collected (each is in `tests`, run or not)."""
    start: str = "cold"
    """'warm' when the run's sandbox, judge and host were made ready before the run was asked
    for (tui_assess.judge.warm), 'cold' when they were started for it."""

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
            "judge": self.judge,
            "start": self.start,
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


#: Everything `run_suite(..., on_event=...)` may deliver (from a background thread).
RunEvent = TestStarted | TestFinished | ResourceSample | OutputChunk
