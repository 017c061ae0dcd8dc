"""RecorderHooks: the UI's session seam (``tui_assess/ui/hooks.py``) backed by a recorder.

The workspace screen calls ``SessionHooks`` methods when things happen; this class provides
the same methods (duck-typed: nothing here imports the UI or Textual) and records them::

    hooks = RecorderHooks(candidate="ada", on_error=...)
    app = AssessApp(hooks=hooks)
    ...
    hooks.seconds_left()   # after session_started: the *recorded* deadline, so a crash and
                           # restart resumes the same session with the same time left

Extra calls the UI can make that the seam does not have yet: ``resized``, ``time_up``,
``note``, ``watch_document`` (hook an editor's document so undo/redo are recorded too).
The terminal pane's calls (``terminal_*``) record its shell as events of their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from tui_assess.session import store
from tui_assess.session.recorder import SessionRecorder, default_session_path
from tui_assess.snapshot import read_workspace_bytes


def read_workspace(root: Path, generated: Collection[str] = ()) -> dict[str, str]:
    """Every workspace file as text (bytes that are not UTF-8 kept as surrogate escapes),
    without the challenge's generated data (`generated`: its [seed]'s files)."""
    return {rel: store.decode_text(b) for rel, b in read_workspace_bytes(root, generated).items()}


class RecorderHooks:
    """Records a TUI session. Every method returns at once (the recorder queues), except that
    session_started opens (or resumes) the file, and run_started and submitted read the
    workspace files from disk for their keyframe (small files: well under a millisecond)."""

    def __init__(
        self,
        *,
        candidate: str | None = None,
        sessions_dir: Path | None = None,
        on_error: Callable[[str], None] | None = None,
        terminal_size: tuple[int, int] | None = None,
        sample_interval: float | None = 1.0,
        **recorder_options: Any,
    ) -> None:
        self.candidate = candidate
        self.sessions_dir = sessions_dir
        self.on_error = on_error
        self.terminal_size = terminal_size
        self.sample_interval = sample_interval
        self.recorder_options = recorder_options
        self.recorder: SessionRecorder | None = None
        """The live recorder, from session_started until session_ended."""
        self.path: Path | None = None
        self.final_link: str | None = None
        """The final link, after session_ended (show it to the candidate)."""
        self.workspace: Path | None = None
        self.generated: tuple[str, ...] = ()
        """The challenge's generated data files, left out of every keyframe."""
        self._run = 0

    # -- the SessionHooks seam ---------------------------------------------------------------

    def session_started(self, challenge: Any, workspace: Path, mode: str,
                        deadline_s: float | None) -> None:
        self.workspace = Path(workspace)
        self.generated = getattr(challenge, "generated_files", ())
        if self.sessions_dir is not None:
            self.sessions_dir.mkdir(parents=True, exist_ok=True)
            self.path = self.sessions_dir / f"{mode}-{challenge.id}{store.SUFFIX}"
        else:
            self.path = default_session_path(challenge.id, mode)
        self.recorder = SessionRecorder.open_or_resume(
            self.path, challenge_id=challenge.id, challenge_hash=challenge.content_hash(),
            mode=mode, deadline=None if deadline_s is None else time.time() + deadline_s,
            candidate=self.candidate, files=read_workspace(self.workspace, self.generated),
            terminal_size=self.terminal_size, on_error=self.on_error, **self.recorder_options,
        )
        if self.sample_interval:
            self.recorder.start_sampling(self.sample_interval)

    def file_opened(self, path: str, text: str) -> None:
        if self.recorder:
            self.recorder.file_open(path)

    def edited(self, path: str, offset: int, deleted: int, inserted: str) -> None:
        if self.recorder:
            self.recorder.edit(path, offset, deleted, inserted)

    def pasted(self, path: str, text: str) -> None:
        if self.recorder:
            self.recorder.paste(path, text)

    def saved(self, path: str, text: str) -> None:
        if self.recorder:
            self.recorder.save(path, text)

    def external_change(self, path: str, text: str | None) -> None:
        if self.recorder:
            self.recorder.external_change(path, text)

    def run_started(self, suite: str) -> None:
        if self.recorder and self.workspace is not None:
            self._run += 1
            files = read_workspace(self.workspace, self.generated)
            self.recorder.run_start(self._run, suite, files=files)

    def resource_sample(self, sample: Any) -> None:
        """A running test suite's sample (runner ResourceSample), recorded with scope "run"."""
        if self.recorder:
            self.recorder.resource_sample(
                scope="run", run=self._run, cpu=round(sample.cpu_percent, 1),
                rss_mb=round(sample.rss_mb, 1), procs=sample.procs,
            )

    def run_finished(self, suite: str, result: Any) -> None:
        """``result`` is a CheckResult (scored) or a bare RunResult."""
        if not self.recorder:
            return
        run = getattr(result, "run", result)  # CheckResult wraps the runner's RunResult
        fields = result.to_json() if hasattr(result, "to_json") else {}
        fields.pop("suite", None)
        fields.pop("challenge", None)
        self.recorder.run_end(self._run, suite, run, **fields)

    def hint_shown(self, index: int, text: str) -> None:
        if self.recorder:
            self.recorder.hint_shown(index)

    def solution_shown(self) -> None:
        if self.recorder:
            self.recorder.solution_shown()

    def submitted(self, result: Any) -> None:
        if self.recorder and self.workspace is not None:
            extra = {k: getattr(result, k) for k in ("score", "max_score", "status")
                     if hasattr(result, k)}
            self.recorder.submit(read_workspace(self.workspace, self.generated), **extra)

    def focus_changed(self, focused: bool) -> None:
        if self.recorder:
            (self.recorder.focus_gained if focused else self.recorder.focus_lost)()

    def session_ended(self) -> None:
        if self.recorder:
            self.final_link = self.recorder.close()
            self.recorder = None

    # -- the terminal pane -------------------------------------------------------------------

    def terminal_started(self, argv: list[str], cwd: str, cols: int, rows: int, sandbox: str,
                         guarantees: dict[str, str]) -> None:
        if self.recorder:
            self.recorder.terminal_start(argv, cwd, cols, rows, sandbox, guarantees)

    def terminal_input(self, text: str, pasted: bool) -> None:
        if self.recorder:
            self.recorder.terminal_input(text, pasted)

    def terminal_command(self, text: str) -> None:
        if self.recorder:
            self.recorder.terminal_command(text)

    def terminal_command_done(self, exit_code: int | None) -> None:
        if self.recorder:
            self.recorder.terminal_command_done(exit_code)

    def terminal_output(self, text: str) -> None:
        if self.recorder:
            self.recorder.terminal_output(text)

    def terminal_resized(self, cols: int, rows: int) -> None:
        if self.recorder:
            self.recorder.terminal_resize(cols, rows)

    def terminal_limit(self, words: str) -> None:
        if self.recorder:
            self.recorder.terminal_limit(words)

    def terminal_ended(self, returncode: int | None, reason: str) -> None:
        if self.recorder:
            self.recorder.terminal_end(returncode, reason)

    # -- beyond the seam ---------------------------------------------------------------------

    def seconds_left(self) -> float | None:
        """Time left by the recorded deadline (None when untimed or not started)."""
        if self.recorder is None or self.recorder.deadline is None:
            return None
        return self.recorder.deadline - time.time()

    def resized(self, width: int, height: int) -> None:
        if self.recorder:
            self.recorder.resize(width, height)

    def time_up(self) -> None:
        if self.recorder:
            self.recorder.time_up()

    def note(self, text: str) -> None:
        if self.recorder:
            self.recorder.note(text)

    def watch_document(self, document: Any, path: str) -> Callable[[], None]:
        """Record a Textual document's edits (see SessionRecorder.watch_document)."""
        if self.recorder is None:
            return lambda: None
        return self.recorder.watch_document(document, path)
