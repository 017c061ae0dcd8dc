"""SessionRecorder: the append-only, hash-chained, crash-safe session log.

Using it from the TUI (or anything else; nothing here imports Textual)::

    rec = SessionRecorder.open_or_resume(
        path, challenge_id=ch.id, challenge_hash=ch_hash, mode="exam",
        deadline=time.time() + 30 * 60,            # Unix seconds, or None (untimed)
        candidate="ada", files=workspace_files,     # {path: text} as on disk now
        terminal_size=(app.size.width, app.size.height),
        on_error=lambda msg: app.call_from_thread(app.notify, msg, severity="error"),
    )
    deadline = rec.deadline            # the deadline recorded at the first start: a crash
                                       # and restart does not give extra time
    rec.start_sampling()               # resource_sample about once a second (psutil)

    rec.file_open("report.py")
    unhook = rec.watch_document(text_area.document, "report.py")  # every edit, undo/redo too
    rec.edit("report.py", offset, deleted, inserted)   # or record edits yourself
    rec.save("report.py", text)
    rec.paste("report.py", text)
    rec.focus_lost(); rec.focus_gained()               # AppBlur / AppFocus
    rec.resize(width, height)
    rec.run_start(run_id, "visible", files=workspace_files)
    rec.run_end(run_id, "visible", result)             # a runner RunResult (or its fields)
    rec.hint_shown(0); rec.solution_shown(); rec.note(text)
    rec.submit(files); rec.time_up()
    rec.terminal_start(argv, cwd, cols, rows, sandbox, guarantees)   # the terminal pane
    rec.terminal_input(text, pasted); rec.terminal_command(line)
    rec.terminal_output(text)        # chunked, capped per session (a marker says so)
    rec.terminal_command_done(exit_code); rec.terminal_end(returncode, reason)
    final_link = rec.close()                           # records session_end, writes sidecar

Every method returns at once: it stamps the time and puts the event on a queue. A writer
thread assigns sequence numbers and chain links, stores blobs, and commits a batch at least
every 100 ms (``flush_interval``, 50 ms by default), so a ``kill -9`` loses at most the last
batch. ``flush()`` waits for everything queued so far to be committed.

Edits are character offsets into the file's text (Python ``str`` indices), the deleted length
in characters, and the inserted text exactly as the file holds it afterwards. With Textual,
``watch_document`` hooks ``Document.replace_range`` -- undo and redo pass through it,
``TextArea.edit`` alone misses them. What it does, for a hand-made hook::

    top, bottom = sorted((start, end))
    offset = doc.get_index_from_location(top)
    deleted = len(doc.get_text_range(top, bottom))
    result = original_replace_range(start, end, text)
    inserted = doc.get_text_range(top, result.end_location)   # newlines as the doc stores them
    rec.edit(path, offset, deleted, inserted)

Callbacks (``on_error``, ``on_recovered``) run on the writer thread: hop to the UI thread
(``App.call_from_thread``) before touching widgets. ``on_error`` gets one plain sentence when
the file cannot be written (disk full, read-only folder); events are then kept in memory and
retried every second, and nothing already committed is touched. ``payload`` objects passed
to ``record`` must not be changed by the caller afterwards (they are serialised later, on the
writer thread).
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import platform
import queue
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from tui_assess import __version__
from tui_assess.errors import UserError
from tui_assess.session import store
from tui_assess.snapshot import snapshot_digest

Files = Mapping[str, str | bytes]
ErrorCallback = Callable[[str], None]

# A preparation step run on the writer thread just before an event is chained: it may fill
# in the payload (hashes, blob references) so the caller never pays for hashing/compressing.
_Prep = Callable[["SessionRecorder", dict[str, Any]], None]

_STOP = object()
_INSERT_EVENTS = ("INSERT INTO events(seq, t_mono, wall, kind, payload, link) "
                  "VALUES (?,?,?,?,?,?)")
#: A run's resource samples kept in run_end (evenly spaced), so long runs stay small.
MAX_RUN_SAMPLES = 120
#: The terminal pane's output: characters per terminal_output event, and in all (per
#: recorder: a resumed session starts a new budget); past the cap one
#: terminal_output_capped marker is recorded and the rest only counted.
TERMINAL_CHUNK_CHARS = 4096
TERMINAL_OUTPUT_CAP_CHARS = 1_000_000


_content_bytes = store.encode_text


def _content_text(content: str | bytes) -> str:
    return content if isinstance(content, str) else store.decode_text(content)


def _jsonable(value: Any) -> Any:
    """Best effort for payloads a caller got slightly wrong: the writer must never die."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, Path):
        return value.as_posix()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _payload_text(payload: dict[str, Any]) -> str:
    try:
        return store.canonical_json(payload)
    except (TypeError, ValueError):
        return store.canonical_json(_jsonable(payload))


def describe_write_error(path: Path, exc: BaseException) -> str:
    """One plain sentence for a failed write, for the candidate to read."""
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "full" in text:
        why = "the disk is full"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text or \
            "read-only" in text:
        why = "the folder or file is read-only"
    elif "unable to open" in text or code in (errno.ENOENT, errno.ENOTDIR):
        why = "the file cannot be created there"
    else:
        why = f"the system said: {exc}"
    return (
        f"Your session cannot be saved to {path} because {why}. Everything recorded so far "
        "is kept; new events wait in memory and are saved as soon as writing works again."
    )


def machine_facts(terminal_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """OS, Python, CPU count, memory and terminal size, for session_start."""
    try:
        import psutil

        memory_mb: int | None = int(psutil.virtual_memory().total / 2**20)
    except Exception:  # psutil missing or unsupported platform: record what we can
        memory_mb = None
    if terminal_size is None:
        size = shutil.get_terminal_size((0, 0))
        terminal_size = (size.columns, size.lines)
    return {
        "os": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "memory_mb": memory_mb,
        "terminal": list(terminal_size),
    }


class SessionRecorder:
    """Records one session into one ``*.tasession`` file. See the module docstring."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        on_error: ErrorCallback | None = None,
        on_recovered: Callable[[], None] | None = None,
        flush_interval: float = 0.05,
        keyframe_every_events: int = 500,
        keyframe_every_seconds: float = 120.0,
        retry_interval: float = 1.0,
        terminal_chunk_chars: int = TERMINAL_CHUNK_CHARS,
        terminal_output_cap: int = TERMINAL_OUTPUT_CAP_CHARS,
        format_version: int = store.FORMAT_VERSION,
        _max_page_count: int | None = None,
    ) -> None:
        """Low level: use :meth:`create` or :meth:`open_or_resume`.

        ``format_version`` applies to a new file (1 writes the version-1 layout, for
        comparisons and tests); a resumed file keeps its own version."""
        if format_version not in store.READ_VERSIONS:
            raise ValueError(f"unknown session format version {format_version!r}")
        self.path = Path(path)
        self.format_version = format_version
        self.on_error = on_error
        self.on_recovered = on_recovered
        self.flush_interval = min(flush_interval, 0.1)
        self.keyframe_every_events = keyframe_every_events
        self.keyframe_every_seconds = keyframe_every_seconds
        self.retry_interval = retry_interval
        self.terminal_chunk_chars = max(1, terminal_chunk_chars)
        self.terminal_output_cap = terminal_output_cap
        self._terminal_lock = threading.Lock()
        self._terminal_recorded = 0
        self._terminal_dropped = 0
        # Tests cap the file's size to make SQLite report "database or disk is full".
        self._max_page_count = _max_page_count
        self._applied_max_page_count: int | None = None

        self.deadline: float | None = None
        """The session's deadline (Unix seconds) as recorded by session_start, or None."""
        self.resumed = False
        """True when this recorder continued an existing session file."""
        self.resume_gap: float = 0.0
        """Seconds between the last event before the resume and the resume."""
        self.submitted = False
        """True once a submit event exists (recorded now or before a resume)."""
        self.last_error: str | None = None
        """The plain sentence of the current write failure, None while writing works."""

        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._mono0 = time.monotonic()
        self._t_base = 0.0
        self._closed = False
        self._ended = False
        self._new_file = True
        self._initial_meta: dict[str, str] = {}

        # Writer-thread state (touched only by the writer once started).
        self._seq = 0
        self._link = store.GENESIS_LINK
        self._committed_seq = 0
        self._committed_link = store.GENESIS_LINK
        self._known_blobs: set[str] = set()
        self._pending_events: list[tuple[int, float, float, str, str, str]] = []
        self._pending_blobs: list[tuple[str, bytes, int, str | None]] = []
        # Version 2: per path, the full blob (digest, content) later versions are deltas of.
        self._delta_bases: dict[str, tuple[str, bytes]] = {}
        self._tail_events: int | None = None  # rows in the events table (the tail), once known
        self._pending_waiters: list[threading.Event] = []
        self._shadow: dict[str, str] = {}
        self._shadow_dirty = False
        self._events_since_keyframe = 0
        self._last_keyframe_t = 0.0
        self._conn: sqlite3.Connection | None = None
        self._failing = False
        self._thread = threading.Thread(target=self._writer, name="session-writer", daemon=True)
        self._sampler: threading.Thread | None = None
        self._sampler_stop = threading.Event()

    # ------------------------------------------------------------------ construction

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        challenge_id: str,
        challenge_hash: str,
        mode: str,
        deadline: float | None = None,
        candidate: str | None = None,
        files: Files | None = None,
        terminal_size: tuple[int, int] | None = None,
        start_extra: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> SessionRecorder:
        """Start a new session file (refuses to overwrite one) and record session_start.

        ``start_extra`` adds keys to session_start (an exam's pack id and policy)."""
        path = Path(path)
        if path.exists():
            raise UserError(f"{path} already exists; resume it or choose another file.")
        with contextlib.suppress(OSError):  # if this fails, the writer reports it in words
            path.parent.mkdir(parents=True, exist_ok=True)
        rec = cls(path, **options)
        rec.deadline = deadline
        rec._initial_meta = {"challenge_id": challenge_id, "mode": mode}
        rec._thread.start()
        rec._mono0 = time.monotonic()  # t = 0 at session_start
        rec._put("session_start", {
            "challenge_id": challenge_id,
            "challenge_hash": challenge_hash,
            "mode": mode,
            "candidate": candidate,
            "deadline": deadline,
            "tool_version": __version__,
            **dict(start_extra or {}),
        }, _machine_prep(terminal_size))
        if files is not None:
            rec.keyframe(files, reason="start")
        return rec

    @classmethod
    def open_or_resume(
        cls,
        path: str | os.PathLike[str],
        *,
        challenge_id: str,
        challenge_hash: str,
        mode: str,
        deadline: float | None = None,
        candidate: str | None = None,
        files: Files | None = None,
        terminal_size: tuple[int, int] | None = None,
        start_extra: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> SessionRecorder:
        """Create the session file, or continue it when it exists for the same challenge and mode.

        On resume the chain continues from the last committed event, a ``resumed`` event
        records the gap, and ``deadline`` is ignored: ``rec.deadline`` is the deadline
        session_start recorded. ``files`` (the workspace as it is now) become a keyframe.
        """
        path = Path(path)
        if path.exists() and store.is_unstarted(path):
            store.remove_session_files(path)  # killed before its first commit: nothing in it
        if not path.exists():
            return cls.create(
                path, challenge_id=challenge_id, challenge_hash=challenge_hash, mode=mode,
                deadline=deadline, candidate=candidate, files=files,
                terminal_size=terminal_size, start_extra=start_extra, **options,
            )
        from tui_assess.session.timeline import Timeline

        with Timeline.open(path) as tl:
            start = tl.session_start
            if start is None:
                raise UserError(f"{path} has no session_start event; it cannot be resumed.")
            if start.get("challenge_id") != challenge_id or start.get("mode") != mode:
                raise UserError(
                    f"{path} records a {start.get('mode')} session of "
                    f"{start.get('challenge_id')!r}, not a {mode} session of {challenge_id!r}."
                )
            last = tl.last_event
            assert last is not None
            shadow = tl.state_at(seq=last.seq)
            known = tl.blob_hashes()
            submitted = tl.has_kind("submit")
            version = store.format_version(tl._conn)
        rec = cls(path, **{**options, "format_version": version})
        recorded_deadline = start.get("deadline")
        rec.deadline = float(recorded_deadline) if recorded_deadline is not None else None
        rec.resumed = True
        rec.submitted = submitted
        rec._new_file = False
        gap = max(0.0, time.time() - last.wall)
        rec.resume_gap = gap
        rec._t_base = last.t + gap
        rec._seq = rec._committed_seq = last.seq
        rec._link = rec._committed_link = last.link
        rec._shadow = shadow
        rec._known_blobs = known
        rec._last_keyframe_t = rec._t_base
        rec._thread.start()
        rec._put("resumed", {
            "gap": round(gap, 3),
            "previous_seq": last.seq,
            "challenge_hash_changed": start.get("challenge_hash") != challenge_hash,
            "challenge_hash": challenge_hash,
            "tool_version": __version__,
        }, _machine_prep(terminal_size))
        if files is not None:
            rec.keyframe(files, reason="resume")
        return rec

    # ------------------------------------------------------------------ recording

    def _now(self) -> tuple[float, float]:
        return self._t_base + (time.monotonic() - self._mono0), time.time()

    def _put(self, kind: str, payload: dict[str, Any], prep: _Prep | None = None) -> None:
        if self._closed:
            return
        t, wall = self._now()
        self._queue.put((t, wall, kind, payload, prep))

    def record(self, kind: str, **payload: Any) -> None:
        """Record any event. Returns at once; the writer thread stores it."""
        self._put(kind, payload)

    def keyframe(self, files: Files, reason: str = "manual") -> None:
        """Record the full workspace ({path: text}) as content-addressed blobs."""
        self._put("keyframe", {"reason": reason}, _keyframe_prep(dict(files)))

    def file_open(self, path: str) -> None:
        self.record("file_open", path=path)

    def edit(self, path: str, offset: int, deleted: int, text: str, **extra: Any) -> None:
        """One change: at character ``offset``, ``deleted`` characters replaced by ``text``."""
        self.record("edit", path=path, offset=offset, deleted=deleted, text=text, **extra)

    def watch_document(self, document: Any, path: str) -> Callable[[], None]:
        """Record every change to a Textual document as ``edit`` events; returns an unhook.

        Duck-typed (``replace_range``, ``get_index_from_location``, ``get_text_range``), so
        this module needs no Textual. Typing, paste, cut, undo and redo all pass through the
        document's ``replace_range``. Hook again when a TextArea replaces its document
        (``load_text``, a language change).
        """
        original = document.replace_range

        def replace_range(start: Any, end: Any, text: str) -> Any:
            top, bottom = sorted((start, end))
            offset = document.get_index_from_location(top)
            deleted = len(document.get_text_range(top, bottom))
            result = original(start, end, text)
            inserted = document.get_text_range(top, result.end_location)
            self.edit(path, offset, deleted, inserted)
            return result

        document.replace_range = replace_range

        def unhook() -> None:
            if document.__dict__.get("replace_range") is replace_range:
                del document.replace_range

        return unhook

    def save(self, path: str, text: str | bytes) -> None:
        """The file was written to disk; records its hash and size (not the text again)."""

        def prep(rec: SessionRecorder, payload: dict[str, Any]) -> None:
            data = _content_bytes(text)
            payload["sha256"] = store.blob_hash(data)
            payload["size"] = len(data)

        self._put("save", {"path": path}, prep)

    def external_change(self, path: str, text: str | bytes | None) -> None:
        """The file changed outside the app; ``text=None`` when it was deleted."""

        def prep(rec: SessionRecorder, payload: dict[str, Any]) -> None:
            if text is None:
                payload["deleted"] = True
                return
            data = _content_bytes(text)
            payload["blob"] = rec._add_blob(data, path)
            payload["size"] = len(data)
            payload["_text"] = _content_text(text)

        self._put("external_change", {"path": path}, prep)

    def paste(self, path: str, text: str) -> None:
        self.record("paste", path=path, length=len(text), text=text)

    def focus_lost(self) -> None:
        self.record("focus_lost")

    def focus_gained(self) -> None:
        self.record("focus_gained")

    def resize(self, width: int, height: int) -> None:
        self.record("resize", width=width, height=height)

    def run_start(
        self, run_id: str | int, suite: str, *, files: Files | None = None,
        snapshot: str | None = None,
    ) -> None:
        """A test run begins. ``files`` (the snapshot being tested) become a keyframe."""
        if files is not None:
            self.keyframe(files, reason="run")
            if snapshot is None:
                copy = {p: _content_bytes(c) for p, c in files.items()}

                def prep(rec: SessionRecorder, payload: dict[str, Any]) -> None:
                    payload["snapshot"] = snapshot_digest(copy)

                self._put("run_start", {"run": run_id, "suite": suite}, prep)
                return
        self.record("run_start", run=run_id, suite=suite, snapshot=snapshot)

    def run_end(self, run_id: str | int, suite: str, result: Any = None, **fields: Any) -> None:
        """A test run ended. ``result`` may be a runner RunResult; ``fields`` add or override.

        Stored: status, snapshot, tests (per-test results), resources, sandbox, reason and the
        run's resource samples as ``[t, cpu_percent, rss_mb, procs]`` rows (at most
        MAX_RUN_SAMPLES, evenly spaced).
        """
        payload: dict[str, Any] = {"run": run_id, "suite": suite}
        if result is not None:
            payload.update(result.to_json())
            samples = list(getattr(result, "samples", None) or [])
            if len(samples) > MAX_RUN_SAMPLES:  # the runner samples at >= 10 Hz: thin it out
                step = len(samples) / MAX_RUN_SAMPLES
                samples = [samples[int(i * step)] for i in range(MAX_RUN_SAMPLES)]
            payload["samples"] = [
                [round(s.t, 3), round(s.cpu_percent, 1), round(s.rss_mb, 1), s.procs]
                for s in samples
            ]
        payload.update(fields)
        self._put("run_end", payload)

    def resource_sample(self, **figures: Any) -> None:
        self.record("resource_sample", **figures)

    def hint_shown(self, index: int, **extra: Any) -> None:
        self.record("hint_shown", index=index, **extra)

    def solution_shown(self) -> None:
        self.record("solution_shown")

    def note(self, text: str) -> None:
        """The candidate's written explanation ("what I did and why")."""
        self.record("note", text=text)

    def submit(self, files: Files | None = None, **extra: Any) -> None:
        """The candidate submits; ``files`` (the final workspace) become a keyframe.

        ``extra`` adds to the payload (for example the hidden suite's score and status).
        """
        payload: dict[str, Any] = dict(extra)
        if files is not None:
            self.keyframe(files, reason="submit")
            copy = {p: _content_bytes(c) for p, c in files.items()}

            def prep(rec: SessionRecorder, p: dict[str, Any]) -> None:
                p["snapshot"] = snapshot_digest(copy)

            self._put("submit", payload, prep)
        else:
            self._put("submit", payload)
        self.submitted = True

    def time_up(self) -> None:
        self.record("time_up")

    # ------------------------------------------------------------------ terminal pane

    def terminal_start(
        self, argv: list[str], cwd: str, cols: int, rows: int, sandbox: str,
        guarantees: Mapping[str, str],
    ) -> None:
        """A shell started in the terminal pane, in this sandbox mode with these guarantees."""
        self.record("terminal_start", argv=list(argv), cwd=cwd, cols=cols, rows=rows,
                    sandbox=sandbox, guarantees=dict(guarantees))

    def terminal_input(self, text: str, pasted: bool = False) -> None:
        """Keys sent to the shell, as the terminal sends them (Enter is \\r)."""
        payload: dict[str, Any] = {"text": text}
        if pasted:
            payload["pasted"] = True
        self._put("terminal_input", payload)

    def terminal_command(self, text: str) -> None:
        """A command line, as the screen showed it when the shell took it."""
        self.record("terminal_command", text=text)

    def terminal_command_done(self, exit_code: int | None) -> None:
        self.record("terminal_command_done", exit_code=exit_code)

    def terminal_output(self, text: str) -> None:
        """What the terminal printed: events of at most ``terminal_chunk_chars`` characters,
        until ``terminal_output_cap`` characters are recorded; then one
        ``terminal_output_capped`` marker, and the rest is only counted (``terminal_end``
        says how much)."""
        with self._terminal_lock:
            room = max(0, self.terminal_output_cap - self._terminal_recorded)
            keep = text[:room]
            self._terminal_recorded += len(keep)
            dropped = len(text) - len(keep)
            first_drop = dropped > 0 and self._terminal_dropped == 0
            self._terminal_dropped += dropped
        step = self.terminal_chunk_chars
        for at in range(0, len(keep), step):
            self.record("terminal_output", text=keep[at:at + step])
        if first_drop:
            self.record("terminal_output_capped", recorded=self._terminal_recorded,
                        cap=self.terminal_output_cap)

    def terminal_resize(self, cols: int, rows: int) -> None:
        self.record("terminal_resize", cols=cols, rows=rows)

    def terminal_limit(self, words: str) -> None:
        self.record("terminal_limit", words=words)

    def terminal_end(self, returncode: int | None, reason: str) -> None:
        """The shell ended; ``output_dropped``: characters past the cap, not recorded."""
        with self._terminal_lock:
            dropped = self._terminal_dropped
        self.record("terminal_end", returncode=returncode, reason=reason,
                    output_dropped=dropped)

    def session_end(self, reason: str = "closed") -> None:
        self._ended = True
        self.record("session_end", reason=reason)

    # ------------------------------------------------------------------ resources

    def start_sampling(self, interval: float = 1.0) -> None:
        """Record a resource_sample (this process and the system) every ``interval`` seconds."""
        if self._sampler is not None:
            return

        def loop() -> None:
            # Importing psutil holds the GIL for ~20 ms: not on the caller's thread, and not
            # while the TUI draws its first screen (issue 14, startup): the first sample comes
            # that much later.
            if self._sampler_stop.wait(min(0.5, interval / 2)):
                return
            import psutil

            proc = psutil.Process()
            proc.cpu_percent(None)
            psutil.cpu_percent(None)
            while not self._sampler_stop.wait(interval):
                try:
                    with proc.oneshot():
                        cpu = proc.cpu_percent(None)
                        rss = proc.memory_info().rss / 2**20
                    self.resource_sample(
                        app_cpu=round(cpu, 1), app_rss_mb=round(rss, 1),
                        sys_cpu=round(psutil.cpu_percent(None), 1),
                        sys_mem=round(psutil.virtual_memory().percent, 1),
                    )
                except Exception:  # a failed sample is not worth stopping the session for
                    continue

        self._sampler = threading.Thread(target=loop, name="session-sampler", daemon=True)
        self._sampler.start()

    # ------------------------------------------------------------------ flush / close

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything recorded so far is committed. False on timeout or failure."""
        if not self._thread.is_alive():
            return not self._pending_events
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout) and not self._pending_events

    @property
    def final_link(self) -> str:
        """The link of the last committed event."""
        return self._committed_link

    @property
    def unsaved_events(self) -> int:
        """Events chained but not yet committed (non-zero while writing fails)."""
        return len(self._pending_events)

    def close(self, reason: str = "closed", *, end: bool = True, timeout: float = 10.0) -> str:
        """Record session_end (unless already recorded), flush, write the sidecar.

        Returns the final link of what is on disk (also written to ``<file>.link``).
        """
        if self._closed:
            return self._committed_link
        if self._sampler is not None:
            self._sampler_stop.set()
            self._sampler.join(timeout)
        if end and not self._ended:
            self.session_end(reason)
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        return self._committed_link

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writer thread

    def _add_blob(self, data: bytes, path: str | None = None) -> str:
        """Store ``data`` once (content-addressed); its digest.

        Version 2: a new version of ``path`` is stored as a delta against the path's base (a
        full blob) while that is under half the full compressed size; otherwise in full, and
        it becomes the path's base. A delta is one dictionary away from its content, never a
        chain."""
        digest = store.blob_hash(data)
        if digest in self._known_blobs:
            return digest
        self._known_blobs.add(digest)
        full = store.compress(data)
        if self.format_version < 2 or path is None:
            self._pending_blobs.append((digest, full, len(data), None))
            return digest
        base = self._delta_bases.get(path)
        if base is not None:
            delta = store.compress_delta(data, base[1])
            if len(delta) * 2 <= len(full):
                self._pending_blobs.append((digest, delta, len(data), base[0]))
                return digest
        self._pending_blobs.append((digest, full, len(data), None))
        self._delta_bases[path] = (digest, data)
        return digest

    def _chain(self, t: float, wall: float, kind: str, payload: dict[str, Any]) -> None:
        seq = self._seq + 1
        t = round(t, 6)
        wall = round(wall, 6)
        text = _payload_text(payload)
        link = store.next_link(self._link, store.canonical_event_bytes(seq, t, wall, kind, text))
        self._pending_events.append((seq, t, wall, kind, text, link))
        self._seq, self._link = seq, link

    def _process_safely(self, item: tuple[Any, ...]) -> None:
        try:
            self._process(item)
        except Exception as exc:  # a caller's bad event must not stop the recording
            self._callback(self.on_error, f"One {item[2]!r} event could not be recorded: {exc}.")

    def _process(self, item: tuple[Any, ...]) -> None:
        t, wall, kind, payload, prep = item
        if prep is not None:
            try:
                prep(self, payload)
            except Exception as exc:  # never let a bad payload stop the log
                payload["prep_error"] = str(exc)
        # Keys starting with "_" carry writer-side data (texts for the shadow copy): not stored.
        private = {k: payload.pop(k) for k in [k for k in payload if k.startswith("_")]}
        self._chain(t, wall, kind, payload)
        self._update_shadow(kind, payload, private)
        if kind == "keyframe":
            self._events_since_keyframe = 0
            self._last_keyframe_t = t
            self._shadow_dirty = False
            return
        self._events_since_keyframe += 1
        if self._shadow_dirty and (
            self._events_since_keyframe >= self.keyframe_every_events
            or t - self._last_keyframe_t >= self.keyframe_every_seconds
        ):
            kf: dict[str, Any] = {"reason": "periodic"}
            _keyframe_prep(dict(self._shadow))(self, kf)
            kf.pop("_files")
            self._chain(t, wall, "keyframe", kf)
            self._events_since_keyframe = 0
            self._last_keyframe_t = t
            self._shadow_dirty = False

    def _update_shadow(
        self, kind: str, payload: dict[str, Any], private: dict[str, Any]
    ) -> None:
        if kind == "edit":
            try:
                path = payload["path"]
                self._shadow[path] = store.apply_edit(
                    self._shadow.get(path, ""), int(payload["offset"]),
                    int(payload["deleted"]), str(payload["text"]),
                )
                self._shadow_dirty = True
            except (KeyError, TypeError, ValueError):
                pass
        elif kind == "external_change":
            path = payload.get("path")
            if payload.get("deleted"):
                self._shadow.pop(path, None)  # type: ignore[arg-type]
            elif "_text" in private:
                self._shadow[path] = private["_text"]  # type: ignore[index]
            self._shadow_dirty = True
        elif kind == "keyframe" and "_files" in private:
            self._shadow = private["_files"]

    def _open_db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        """Tables and meta, inside the first batch's transaction: a file either is a whole
        session file with its first events, or does not exist as one at all."""
        meta = {
            "format": store.FORMAT_NAME,
            "format_version": str(self.format_version),
            "tool_version": __version__,
            "genesis": store.GENESIS_LINK,
            **self._initial_meta,
        }
        if self.format_version >= 2:
            for sql in store.SCHEMA_V2_SQL.values():
                conn.execute(sql)
        else:
            self._create_schema_v1(conn)
        conn.executemany("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)",
                         list(meta.items()))

    def _create_schema_v1(self, conn: sqlite3.Connection) -> None:
        import sqlite_utils  # imported here: readers (verify, replay) never need it

        db = sqlite_utils.Database(conn)
        db.table("events").create(  # seq becomes the rowid (INTEGER PRIMARY KEY)
            {"seq": int, "t_mono": float, "wall": float, "kind": str, "payload": str,
             "link": str},
            pk="seq", not_null={"t_mono", "wall", "kind", "payload", "link"},
            if_not_exists=True,
        )
        db.table("blobs").create({"sha256": str, "data": bytes, "size": int}, pk="sha256",
                           not_null={"data", "size"}, if_not_exists=True)
        db.table("meta").create({"key": str, "value": str}, pk="key", not_null={"value"},
                          if_not_exists=True)

    def _write_pending(self) -> None:
        if self._conn is None:
            self._conn = self._open_db()
        conn = self._conn
        if self._max_page_count != self._applied_max_page_count:
            conn.execute(f"PRAGMA max_page_count = {int(self._max_page_count or 1073741823)}")
            self._applied_max_page_count = self._max_page_count
        if not self._pending_events and not self._pending_blobs:
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            if self._new_file:
                self._create_schema(conn)
            if self._pending_blobs and self.format_version >= 2:
                conn.executemany("INSERT OR IGNORE INTO blobs(sha256, data, size, base) "
                                 "VALUES (?,?,?,?)", self._pending_blobs)
            elif self._pending_blobs:
                conn.executemany("INSERT OR IGNORE INTO blobs(sha256, data, size) VALUES (?,?,?)",
                                 [b[:3] for b in self._pending_blobs])
            if self.format_version >= 2:
                tail: int | None = self._append_v2(conn)
            else:
                tail = None
                conn.executemany(_INSERT_EVENTS, self._pending_events)
            conn.execute("COMMIT")
        except BaseException:
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise
        self._new_file = False
        self._tail_events = tail
        if self._pending_events:
            last = self._pending_events[-1]
            self._committed_seq, self._committed_link = last[0], last[5]
        self._pending_events = []
        self._pending_blobs = []

    def _append_v2(self, conn: sqlite3.Connection) -> int:
        """Version 2, inside the batch's transaction: append the batch to the tail, moving
        every whole PACK_EVENTS events of tail + batch into packs (the batch's events never
        touch the tail then). Returns the tail's size after the batch."""
        pending = self._pending_events
        if self._tail_events is None:  # a new or resumed file: count what it holds
            self._tail_events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        if self._tail_events + len(pending) < store.PACK_EVENTS:
            conn.executemany(_INSERT_EVENTS, pending)
            return self._tail_events + len(pending)
        rows = conn.execute(
            "SELECT seq, t_mono, wall, kind, payload, link FROM events ORDER BY seq"
        ).fetchall() + pending
        conn.execute("DELETE FROM events")
        whole = len(rows) - len(rows) % store.PACK_EVENTS
        conn.executemany(
            "INSERT INTO packs(first_seq, last_seq, size, data, links) VALUES (?,?,?,?,?)",
            [store.pack_events(rows[i:i + store.PACK_EVENTS])
             for i in range(0, whole, store.PACK_EVENTS)],
        )
        conn.executemany(_INSERT_EVENTS, rows[whole:])
        return len(rows) - whole

    def _try_write(self) -> None:
        try:
            self._write_pending()
        except (OSError, sqlite3.Error, ValueError) as exc:
            message = describe_write_error(self.path, exc)
            if not self._failing:
                self._failing = True
                self.last_error = message
                self._callback(self.on_error, message)
            return
        if self._failing:
            self._failing = False
            self.last_error = None
            self._callback(self.on_recovered)
        waiters, self._pending_waiters = self._pending_waiters, []
        for w in waiters:
            w.set()

    def _callback(self, fn: Callable[..., None] | None, *args: Any) -> None:
        if fn is None:
            return
        with contextlib.suppress(Exception):  # a broken callback must not stop the recording
            fn(*args)

    def _writer(self) -> None:
        stop = False
        while not stop:
            timeout = self.retry_interval if self._failing else None
            try:
                first = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._try_write()
                continue
            batch_end = time.monotonic() + self.flush_interval
            item: Any = first
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    self._pending_waiters.append(item)
                else:
                    self._process_safely(item)
                if stop or isinstance(item, threading.Event):
                    # Drain what is already queued, without waiting, then write now.
                    try:
                        item = self._queue.get_nowait()
                        continue
                    except queue.Empty:
                        break
                remaining = batch_end - time.monotonic()
                try:
                    item = self._queue.get(timeout=max(0.0, remaining)) if remaining > 0 \
                        else self._queue.get_nowait()
                except queue.Empty:
                    break
            self._try_write()
        self._finish()

    def _finish(self) -> None:
        if self._pending_events or self._pending_blobs:
            self._try_write()
        if self._pending_events:
            self._callback(
                self.on_error,
                f"{len(self._pending_events)} recorded events could not be saved to "
                f"{self.path} before it was closed.",
            )
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                # A closed session is one self-contained file that opens read-only anywhere
                # (WAL files need a writable folder for their -shm); resuming turns WAL back on.
                conn.execute("PRAGMA journal_mode=DELETE")
            conn.close()
            self._conn = None
        if self._committed_seq:
            try:
                store.write_sidecar(self.path, self._committed_seq, self._committed_link)
            except OSError as exc:
                self._callback(self.on_error, describe_write_error(store.sidecar_path(self.path),
                                                                   exc))
        for w in self._pending_waiters:
            w.set()
        self._pending_waiters = []


def _machine_prep(terminal_size: tuple[int, int] | None) -> _Prep:
    """session_start's and resumed's ``machine``, filled in on the writer thread: finding it
    out (psutil, ``uname -p`` in a subprocess) took ~25 ms of the TUI's start-up (issue 14)."""

    def prep(rec: SessionRecorder, payload: dict[str, Any]) -> None:
        payload["machine"] = machine_facts(terminal_size)

    return prep


def _keyframe_prep(files: dict[str, str | bytes]) -> _Prep:
    def prep(rec: SessionRecorder, payload: dict[str, Any]) -> None:
        encoded = {p: _content_bytes(c) for p, c in files.items()}
        payload["files"] = {p: rec._add_blob(b, p) for p, b in sorted(encoded.items())}
        payload["snapshot"] = snapshot_digest(encoded)
        payload["_files"] = {p: _content_text(c) for p, c in files.items()}

    return prep


def default_session_path(challenge_id: str, mode: str, home: Path | None = None) -> Path:
    """``<data folder>/sessions/<mode>-<challenge>.tasession`` (TUI_ASSESS_HOME overrides)."""
    from tui_assess.paths import data_home

    folder = (home or data_home()) / "sessions"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{mode}-{challenge_id}{store.SUFFIX}"


__all__ = ["SessionRecorder", "default_session_path", "describe_write_error",
           "machine_facts"]
