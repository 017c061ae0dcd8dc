"""What the candidate may learn of a hidden run: the policy's feedback, applied once.

A hidden run's full result (every test's name, status and message) stays inside the exam's
checker. What leaves it -- to the screen and into the session file, which sits on the
candidate's laptop and is theirs to read -- is a HiddenFeedback cut to the policy:

- ``none``: that a submission ran (its snapshot, resources and sandbox), nothing of its outcome;
- ``counts``: how many hidden tests passed, of how many;
- ``names``: each test's name, group and status, the score; never a message or test code.

The trusted result is the reviewer's regrade of the submitted snapshot (``tui-assess grade``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui_assess.challenge.check import CheckResult, ScoredTest
from tui_assess.exam.policy import Feedback
from tui_assess.judge.types import Resources


@dataclass
class HiddenFeedback:
    """A hidden run as the policy lets the candidate see it (duck-types a CheckResult for the
    test panel: status, tests, resources, reason, output)."""

    feedback: Feedback
    status: str
    """The run's status (pass, fail, timeout, ...); "submitted" under feedback none. A
    cancelled run is "cancelled" under every policy (it is not a submission)."""
    resources: Resources
    snapshot: str
    sandbox: str
    guarantees: dict[str, str]
    tests: list[ScoredTest] = field(default_factory=list)
    passed: int | None = None
    total: int | None = None
    score: float | None = None
    max_score: float | None = None
    groups: dict[str, tuple[float, float]] = field(default_factory=dict)
    reason: str = ""
    output: str = ""
    suite: str = "hidden"

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    def to_json(self) -> dict[str, Any]:
        """The run_end payload: only what the policy shows (see the module docstring)."""
        doc: dict[str, Any] = {
            "feedback": self.feedback, "resources": self.resources.to_json(),
            "snapshot": self.snapshot, "sandbox": self.sandbox, "guarantees": self.guarantees,
        }
        if self.cancelled:
            return {**doc, "status": "cancelled"}
        if self.feedback == "none":
            return {**doc, "withheld": "outcome"}
        if self.feedback == "counts":
            return {**doc, "withheld": "tests", "passed": self.passed, "total": self.total}
        return {
            **doc, "status": self.status, "score": self.score, "max_score": self.max_score,
            "passed": self.passed, "total": self.total,
            "groups": {g: {"score": s, "max_score": m} for g, (s, m) in self.groups.items()},
            "tests": [{"name": t.name, "group": t.group, "status": t.status,
                       "duration_s": round(t.duration_s, 4), "weight": t.weight}
                      for t in self.tests],
            "reason": self.reason,
        }

    def summary(self) -> str:
        """One line for the candidate."""
        if self.cancelled:
            return "The submission was cancelled; it does not count."
        if self.feedback == "none":
            return "Submitted. The hidden tests' results go to the hiring team."
        counted = f"{self.passed} of {self.total} hidden tests pass."
        if self.status not in ("pass", "fail"):
            counted += f" The run ended early ({self.status})."
        return counted


def apply_policy(result: CheckResult, feedback: Feedback) -> HiddenFeedback:
    """Cut a hidden CheckResult down to what ``feedback`` allows."""
    run = result.run
    out = HiddenFeedback(feedback, result.status, run.resources, run.snapshot, run.sandbox,
                         dict(run.guarantees))
    if result.status == "cancelled":
        return out
    if feedback == "none":
        out.status = "submitted"
        return out
    out.passed = sum(1 for t in result.tests if t.status == "pass")
    out.total = len(result.tests)
    if feedback == "names":
        out.tests = [ScoredTest(t.name, t.group, t.status, t.duration_s, "", t.weight, t.file)
                     for t in result.tests]
        out.score, out.max_score = result.score, result.max_score
        out.groups = dict(result.groups)
        # Limit reasons are about resources, never test code; anything else is left out.
        if result.status in ("timeout", "limit"):
            out.reason = result.reason
    return out
