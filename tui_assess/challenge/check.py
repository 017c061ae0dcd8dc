"""Mapping a challenge onto a sandboxed run, and scoring the result by `[[scoring]]` groups."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tui_assess.challenge.model import Challenge
from tui_assess.errors import UserError
from tui_assess.judge.run import EventSink, run_suite
from tui_assess.judge.types import Resources, RunResult, RunSpec, TestOutcome
from tui_assess.judge.warm import WarmRuns

Suite = Literal["visible", "hidden"]
EQUAL_SHARE_MAX = 100.0


@dataclass
class ScoredTest:
    name: str
    group: str
    status: str
    duration_s: float
    message: str
    weight: float
    file: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.group,
            "status": self.status,
            "duration_s": round(self.duration_s, 4),
            "message": self.message,
            "weight": self.weight,
        }


@dataclass
class CheckResult:
    challenge: str
    suite: Suite
    run: RunResult
    tests: list[ScoredTest]
    score: float
    max_score: float
    groups: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.run.status

    @property
    def resources(self) -> Resources:
        return self.run.resources

    @property
    def reason(self) -> str:
        return self.run.reason

    @property
    def output(self) -> str:
        return self.run.output

    @property
    def passed(self) -> bool:
        return self.run.status == "pass"

    def to_json(self) -> dict[str, Any]:
        return {
            "challenge": self.challenge,
            "suite": self.suite,
            "status": self.run.status,
            "tests": [t.to_json() for t in self.tests],
            "score": self.score,
            "max_score": self.max_score,
            "groups": {g: {"score": s, "max_score": m} for g, (s, m) in self.groups.items()},
            "resources": self.run.resources.to_json(),
            "snapshot": self.run.snapshot,
            "sandbox": self.run.sandbox,
            "judge": self.run.judge,
            "start": self.run.start,
            "guarantees": self.run.guarantees,
            "reason": self.run.reason,
        }


def score_tests(
    challenge: Challenge,
    suite: Suite,
    outcomes: list[TestOutcome],
    expected: list[str] | None = None,
) -> CheckResult:
    """Weights and score. Hidden suites score by the manifest's [[scoring]] groups, every group
    counted in max_score even when none of its tests ran (a run cut short never scores more);
    visible suites, and challenges without groups, count every test the same, out of 100.

    A group's weight is divided over its EXPECTED tests (every test the judge collected): a
    test that never reported counts as failed, so reporting fewer tests never raises a score.
    """
    reported = {o.nodeid for o in outcomes}
    outcomes = list(outcomes) + [
        TestOutcome(n, n.partition("::")[2] or n, n.partition("::")[0], "fail", 0.0,
                    "Never reported a result.")
        for n in (expected or [])
        if n not in reported
    ]
    grouped: dict[str, list[TestOutcome]] = {}
    for o in outcomes:
        grouped.setdefault(challenge.group_of(o.file), []).append(o)
    if suite == "hidden" and challenge.scoring:
        per_group = {g.group: float(g.weight) for g in challenge.scoring}
        for g in grouped:
            per_group.setdefault(g, 0.0)  # tests outside every group (DEFAULT_GROUP) weigh 0
    else:
        n = max(len(outcomes), 1)
        per_group = {g: EQUAL_SHARE_MAX * len(ts) / n for g, ts in grouped.items()}
    tests: list[ScoredTest] = []
    groups: dict[str, tuple[float, float]] = {}
    for g, total in per_group.items():
        ts = grouped.get(g, [])
        w = total / len(ts) if ts else 0.0
        got = 0.0
        for o in ts:
            tests.append(
                ScoredTest(o.name, g, o.status, o.duration_s, o.message, round(w, 2), o.file)
            )
            if o.status == "pass":
                got += w
        groups[g] = (round(got, 2), round(total, 2))
    score = round(sum(s for s, _ in groups.values()), 2)
    max_score = round(sum(m for _, m in groups.values()), 2)
    return CheckResult(challenge.id, suite, RunResult.empty(), tests, score, max_score, groups)


def check_spec(
    challenge: Challenge, workspace: Path, suite: Suite = "visible", sandbox: str = "auto"
) -> RunSpec:
    """The run of one suite of a challenge on a workspace folder."""
    return RunSpec(
        workspace=Path(workspace),
        tests=challenge.tests_dir(suite),
        limits=challenge.limits,
        show_details=(suite == "visible"),
        sandbox=sandbox,
        generated=challenge.generated_files,
    )


def run_check(
    challenge: Challenge,
    workspace: Path,
    suite: Suite = "visible",
    on_event: EventSink | None = None,
    cancel: threading.Event | None = None,
    sandbox: str = "auto",
    runs: WarmRuns | None = None,
) -> CheckResult:
    """Run one suite of a challenge's tests against a workspace folder (blocking); through
    `runs` when given (a run prepared ahead, when one fits), else started cold."""
    workspace = Path(workspace)
    if not workspace.is_dir():
        raise UserError(f"{workspace}: workspace folder does not exist.")
    spec = check_spec(challenge, workspace, suite, sandbox)
    run = (runs.run if runs is not None else run_suite)(spec, on_event, cancel)
    result = score_tests(challenge, suite, run.tests, run.expected)
    result.run = run
    return result


class Checks:
    """run_check for one session (a workspace screen, a validation): each run keeps the next
    run of its suite prepared ahead, so it starts warm (see tui_assess.judge.warm).
    Thread-safe; `close()` (or `discard()`) when the session ends."""

    def __init__(self, sandbox: str = "auto", overlap: bool = False, hidden: bool = True) -> None:
        self.sandbox = sandbox
        self.runs = WarmRuns(overlap, hidden)

    def __call__(
        self,
        challenge: Challenge,
        workspace: Path,
        suite: Suite = "visible",
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
    ) -> CheckResult:
        return run_check(challenge, workspace, suite, on_event, cancel, self.sandbox, self.runs)

    def keep_ready(self, challenge: Challenge, suite: Suite = "visible") -> None:
        """Prepare a run of this suite now, in the background (the workspace comes later)."""
        self.runs.keep_ready(check_spec(challenge, Path(), suite, self.sandbox))

    def discard(self, wait: bool = True) -> None:
        """End the run kept ready, if any; the next run starts cold (and re-arms it)."""
        self.runs.discard(wait)

    def close(self) -> None:
        """End the run kept ready; no process or run folder of it is left. Later runs start
        cold."""
        self.runs.close()

    def __enter__(self) -> Checks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
