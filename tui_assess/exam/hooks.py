"""ExamHooks: the UI's session seam for one challenge of an exam.

The exam opens (or resumes) the session itself when the start code is accepted -- the deadline
is written then, not when a screen mounts -- so ``session_started`` only learns the workspace.
Hidden runs arrive already cut to the policy (``HiddenFeedback``) and are recorded as such:
the session file, readable by the candidate, never holds more of a hidden run than the screen
showed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui_assess.session.hooks import RecorderHooks, read_workspace


class ExamHooks(RecorderHooks):
    def __init__(self, feedback: str, **options: Any) -> None:
        super().__init__(sample_interval=None, **options)
        self.feedback = feedback

    def session_started(self, challenge: Any, workspace: Path, mode: str,
                        deadline_s: float | None) -> None:
        self.workspace = Path(workspace)

    def run_finished(self, suite: str, result: Any) -> None:
        if suite != "hidden":
            super().run_finished(suite, result)
            return
        if self.recorder is None:
            return
        # HiddenFeedback.to_json() is already cut to the policy: record exactly that.
        self.recorder.run_end(self._run, suite, None, **result.to_json())

    def submitted(self, result: Any) -> None:
        if self.recorder is None or self.workspace is None:
            return
        extra: dict[str, Any] = {"feedback": self.feedback}
        if self.feedback == "names":
            extra.update(score=result.score, max_score=result.max_score, status=result.status)
        elif self.feedback == "counts":
            extra.update(passed=result.passed, total=result.total)
        self.recorder.submit(read_workspace(self.workspace, self.generated), **extra)
