"""The exam policy: the rules a hiring team seals into a pack, shown to the candidate before
the exam starts, recorded in every session_start and enforced by the exam screens.

Solutions are never part of an exam (a pack does not even hold them), so there is no option
for them; every other rule is a field here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from tui_assess.errors import UserError

Feedback = Literal["none", "counts", "names"]
FEEDBACK: dict[str, str] = {
    "none": "no hidden-test results until the hiring team reviews your work",
    "counts": "how many hidden tests pass",
    "names": "which hidden tests pass or fail, by name (never their code or messages)",
}
"""What the candidate sees of the hidden tests at each submission, in plain words."""

MAX_TIME_MINUTES = 600
MAX_SUBMISSIONS = 20


@dataclass(frozen=True)
class ExamPolicy:
    """The rules of one exam. Every field is shown to the candidate before the exam starts."""

    time_minutes: int
    """Total time for the whole exam, from the moment the start code opens it."""
    feedback: Feedback = "counts"
    """Hidden-test feedback at each submission: none, pass counts, or test names."""
    submissions: int = 1
    """How many times each challenge may be submitted; the last submission counts."""
    hints: bool = False
    """Whether the challenges' hints are in the pack and may be revealed (recorded)."""
    ai_assistants: bool = False
    """Whether AI assistants are allowed. Not detectable: shown, recorded and reported."""
    record_processes: bool = False
    """Record the names (only the names) of programs the candidate starts during the exam."""

    def __post_init__(self) -> None:
        if not 1 <= self.time_minutes <= MAX_TIME_MINUTES:
            raise UserError(
                f"the exam time must be between 1 and {MAX_TIME_MINUTES} minutes, "
                f"not {self.time_minutes}."
            )
        if self.feedback not in FEEDBACK:
            raise UserError(
                f"hidden-test feedback must be one of {', '.join(FEEDBACK)}, "
                f"not {self.feedback!r}."
            )
        if not 1 <= self.submissions <= MAX_SUBMISSIONS:
            raise UserError(
                f"submissions must be between 1 and {MAX_SUBMISSIONS}, not {self.submissions}."
            )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "solutions": "never"}

    @classmethod
    def from_json(cls, data: Any) -> ExamPolicy:
        """The policy as a pack's header holds it; UserError when it is not one."""
        if not isinstance(data, dict):
            raise UserError("the pack's policy is not a table of rules.")
        fields = {
            "time_minutes": int,
            "feedback": str,
            "submissions": int,
            "hints": bool,
            "ai_assistants": bool,
            "record_processes": bool,
        }
        values: dict[str, Any] = {}
        for name, kind in fields.items():
            value = data.get(name)
            if type(value) is not kind:
                raise UserError(f"the pack's policy has no valid {name!r}.")
            values[name] = value
        return cls(**values)

    def rules(self) -> list[tuple[str, str]]:
        """(rule, what it means) in plain words: the consent screen and `pack inspect`."""
        s = self.submissions
        return [
            ("Time", f"{self.time_minutes} minute{'s' if self.time_minutes > 1 else ''} "
                     "in all, starting when the start code opens "
                     "the exam; it keeps running if the app is closed or the laptop restarts."),
            ("Hidden tests", f"At each submission you see {FEEDBACK[self.feedback]}."),
            ("Submissions", "One submission per challenge: it is final." if s == 1 else
                            f"Up to {s} submissions per challenge; the last one counts."),
            ("Hints", "Available (each one you reveal is recorded)." if self.hints
                      else "Off."),
            ("Solutions", "Never shown."),
            ("AI assistants", "Allowed." if self.ai_assistants else
                              "Not allowed. Nothing detects them; the rule is recorded in "
                              "your session and printed on reports."),
            ("Programs", "The names (only the names) of programs you start during the exam "
                         "are recorded." if self.record_processes else
                         "Not recorded."),
        ]
