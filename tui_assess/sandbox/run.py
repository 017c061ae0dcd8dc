"""SandboxRun: the runner's handle on one run (start, spawn, monitor, stop, close).

Used by the trusted judge's runner (tui_assess.judge.run) and by the terminal pane. It makes the
run folder, starts the supervisor in the best mode this machine allows, watches the candidate
processes from outside with a cheap monitor, captures their output, enforces the limits, and on
`close()` leaves nothing behind: every process of the run is killed and verified gone, and the
run folder is removed, within a time budget.

    with SandboxRun(limits, on_event=print) as run:
        run.copy_in(staged_workspace, "area/work")
        judge = run.start_trusted([sys.executable, "-m", "tui_assess.judge"], env, cwd)
        judge.wait()
    # run.resources(), the CloseReport of run.close()
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

from tui_assess.sandbox import _wire, modes
from tui_assess.sandbox._channel import Channel
from tui_assess.sandbox.cgroup import RunCgroup
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
from tui_assess.sandbox.monitor import (
    RunTracker,
    is_alive,
    kill_verified,
    read_candidates,
    read_stat,
    tree_bytes,
)
from tui_assess.sandbox.spec import (
    CandidateProc,
    CandidateSpec,
    ExitBook,
    SandboxError,
    TrustedProc,
)
from tui_assess.sandbox.view import system_view

SUPERVISOR = Path(__file__).with_name("_supervisor.py")
SAMPLE_INTERVAL_S = 0.05  # 20 Hz: short peaks show up; the kernel's limits cover the rest
EVENT_EVERY_N_SAMPLES = 2  # resource events at 10 Hz
PRECISE_EVERY_N_SAMPLES = 4  # PSS and shared-memory scans at 5 Hz (or when near the limit)
PRECISE_ALWAYS_UP_TO = 4  # ... and the shared-memory scan at every sample while this few
# With the kernel holding the memory limit (a cgroup), PSS only when the cgroup's charge moved
# by this much since the last reading, and at least once a second.
CHARGE_STEP = 2**20
PRECISE_AT_LEAST_EVERY_N_SAMPLES = 20
# Modes whose candidates cannot leave the run's cgroup: the monitor reads them from its list.
# (In the rlimits mode a root candidate is uid 0 without capabilities: it could still write
# the root-owned cgroup.procs of another cgroup.)
CGROUP_LISTED_MODES = ("namespaces", "landlock")
OUTPUT_FLUSH_S = 0.1
START_TIMEOUT_S = 15.0
CLOSE_BUDGET_S = 5.0

EventSink = Callable[[SandboxEvent], None]
StopReason = LimitHit | Literal["cancelled"]
PR_SET_CHILD_SUBREAPER = 36


def base_python() -> str:
    """The interpreter candidates get: the base interpreter behind any venv, resolved."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return os.path.realpath(base)


def become_subreaper() -> None:
    """Orphans of a run whose supervisor died come back to this process, not to init."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


PORT_POOL_SIZE = 8
PORT_RANGE = (20000, 32768)  # below Linux's ephemeral range (32768-60999)


def loopback_port_pool(size: int = PORT_POOL_SIZE) -> list[int]:
    """A few TCP ports free on 127.0.0.1 now, for a landlock run's servers.

    Landlock (ABI 4) allows candidates TCP only on these: the judge binds its servers to them
    (RunClient.ports). Free when picked, not reserved: a clash makes the judge's bind fail
    loudly, never a candidate reach something else.
    """
    import random
    import socket

    pool: list[int] = []
    rng = random.Random()
    while len(pool) < size:
        port = rng.randrange(*PORT_RANGE)
        if port in pool:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        pool.append(port)
    return sorted(pool)


def inode_cap(limits: Limits) -> int:
    """Files a run may create: 256 per MB of disk budget (its tmpfs's inode count)."""
    return max(4096, limits.disk_mb * 256)


def limit_words(limits: Limits, kind: StopReason, detail: str = "") -> str:
    """Plain words for why a run was stopped."""
    if kind == "disk" and detail == "files":
        return (
            f"The candidate created more than {inode_cap(limits)} files and was stopped."
        )
    if kind == "time" and detail == "cpu":
        return (
            f"A process used more than {limits.cpu_limit_seconds:g} seconds of CPU time "
            "and was killed."
        )
    return {
        "time": (
            f"The run went past its {limits.timeout_seconds:g}-second time limit and was stopped."
        ),
        "memory": (
            f"The candidate's processes used more than {limits.memory_mb} MB of memory and were "
            "stopped."
        ),
        "processes": (
            f"The candidate tried to run more than {limits.processes} processes (or threads) at "
            "once (a fork storm?) and was stopped."
        ),
        "output": (
            f"The candidate printed more than {limits.output_kb} KB of output; the rest was "
            "discarded and the run was stopped."
        ),
        "disk": f"The candidate wrote more than {limits.disk_mb} MB to disk and was stopped.",
        "cancelled": "The run was cancelled; its processes were stopped.",
    }[kind]


class _OutputPump:
    """Reads every candidate's stdout+stderr pipe; coalesces chunks; enforces output_kb."""

    def __init__(self, run: SandboxRun) -> None:
        self.run = run
        self.cap = run.limits.output_kb * 1024
        self.kept: dict[str, bytearray] = {}
        self.total = 0
        self.sel = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self.sel.register(self.wake_r, selectors.EVENT_READ, None)
        self.new: list[tuple[int, str]] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="sandbox-output", daemon=True)
        self.thread.start()

    def add(self, fd: int, name: str) -> None:
        with self.lock:
            self.new.append((fd, name))
        os.write(self.wake_w, b"x")

    def text(self, name: str | None = None) -> str:
        with self.lock:
            if name is not None:
                data = bytes(self.kept.get(name, b""))
            else:
                data = b"".join(bytes(v) for v in self.kept.values())
        out = data.decode("utf-8", "replace")
        if self.total > self.cap:
            out += (
                f"\n[tui-assess: output cut at {self.run.limits.output_kb} KB; "
                f"{self.total - self.cap} more bytes discarded]\n"
            )
        return out

    def _loop(self) -> None:
        pending: dict[str, list[bytes]] = {}
        last_flush = time.monotonic()
        while True:
            timeout = OUTPUT_FLUSH_S if pending else None
            for key, _ in self.sel.select(timeout):
                if key.data is None:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self.wake_r, 4096)
                    with self.lock:
                        new, self.new = self.new, []
                    for fd, name in new:
                        self.sel.register(fd, selectors.EVENT_READ, name)
                    if self.done.is_set() and not self._reading():
                        self._flush(pending)
                        return
                    continue
                fd, name = key.fd, key.data
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    self.sel.unregister(fd)
                    os.close(fd)
                    if self.done.is_set() and not self._reading():
                        self._flush(pending)
                        return
                    continue
                self._take(name, chunk, pending)
            now = time.monotonic()
            if pending and now - last_flush >= OUTPUT_FLUSH_S:
                self._flush(pending)
                last_flush = now

    def _reading(self) -> bool:
        return any(k.data is not None for k in self.sel.get_map().values())

    def _take(self, name: str, chunk: bytes, pending: dict[str, list[bytes]]) -> None:
        with self.lock:
            room = self.cap - self.total
            self.total += len(chunk)
            if room > 0:
                part = chunk[:room]
                self.kept.setdefault(name, bytearray()).extend(part)
                pending.setdefault(name, []).append(part)
        if self.total > self.cap:
            # Keep draining (and discarding) so no writer blocks before it is killed.
            self.run.stop("output")

    def _flush(self, pending: dict[str, list[bytes]]) -> None:
        for name, parts in pending.items():
            self.run._emit(CandidateOutput(name, b"".join(parts).decode("utf-8", "replace")))
        pending.clear()

    def finish(self, timeout: float) -> None:
        """Stop once every pipe has reached end-of-file (all writers are dead) or at timeout."""
        self.done.set()
        with contextlib.suppress(OSError):
            os.write(self.wake_w, b"x")
        self.thread.join(timeout)
        if self.thread.is_alive():
            return  # a pipe is still held open by a process we could not kill; say nothing more
        for key in list(self.sel.get_map().values()):
            with contextlib.suppress(OSError):
                os.close(key.fd)
        self.sel.close()
        os.close(self.wake_w)


class SandboxRun:
    """One run: its folder, its supervisor, its candidates, its limits. Thread-safe."""

    def __init__(
        self,
        limits: Limits,
        mode: str = "auto",
        *,
        on_event: EventSink | None = None,
        area_dirs: Iterable[str] = ("work", "scratch"),
        held: bool = False,
    ) -> None:
        self.limits = limits
        self._on_event = on_event
        self._lock = threading.Lock()
        self._closed = threading.Event()
        # A run opened ahead (held) is watched, and its time limit counted, from begin() on.
        self._begun = threading.Event()
        if not held:
            self._begun.set()
        self._limit_hit: LimitHit | None = None
        self._reason = ""
        self._cancelled = False
        self._book = ExitBook()
        self._names: dict[str, int] = {}
        self._cpu_done: dict[int, float] = {}
        self._cpu_seen: dict[tuple[int, int], float] = {}
        self._peak_memory = 0.0
        self._max_procs = 0
        self._disk_bytes = 0
        self._peak_disk = 0
        self.is_root = os.geteuid() == 0
        self.t0 = time.monotonic()
        order, force_note = modes.requested_order(mode)
        self.run_dir = Path(tempfile.mkdtemp(prefix="tui-assess-run-"))
        self.private = self.run_dir / "private"
        self.area = self.run_dir / "area"
        self.cgroup: RunCgroup | None = None
        self._supervisor: subprocess.Popen[bytes] | None = None
        self._area_fd = -1  # namespaces: the run's tmpfs, held open for fstatvfs (no lookup)
        self._area_lock = threading.Lock()
        try:
            self.private.mkdir(mode=0o700)
            self.area.mkdir(mode=0o755)
            self.bin_dir = self.run_dir / "bin"
            self.bin_dir.mkdir(mode=0o755)
            (self.run_dir / "root").mkdir(mode=0o755)  # where candidates' new roots are built
            self.python = base_python()
            for name in ("python", "python3"):
                (self.bin_dir / name).symlink_to(self.python)
            self.cgroup = RunCgroup.create(limits.processes + 3, limits.memory_mb)
            self.ports: list[int] = []  # landlock: the run's loopback port pool
            self.mode, self.mode_note = self._start_supervisor(order, force_note)
            self._area_dirs = list(area_dirs)
            for name in self._area_dirs:
                self._host_path(self.area / name).mkdir(parents=True, exist_ok=True)
        except BaseException:
            self._abandon()
            raise
        self.facts = modes.Facts(
            is_root=self.is_root,
            landlock_abi=modes.landlock_abi(),
            cgroup_pids="pids" in (self.cgroup.dirs if self.cgroup else {}),
            cgroup_memory="memory" in (self.cgroup.dirs if self.cgroup else {}),
        )
        self.guarantees = modes.guarantees(self.mode, self.facts)
        self._output = _OutputPump(self)
        self._monitor = threading.Thread(target=self._watch, name="sandbox-monitor", daemon=True)
        self._monitor.start()

    # -- start-up ---------------------------------------------------------------------------

    def _start_supervisor(self, order: list[str], force_note: str) -> tuple[str, str]:
        notes = [force_note] if force_note else []
        for mode in order:
            why = modes.unavailable(mode)
            if not why:
                try:
                    self._launch(mode)
                except SandboxError as exc:
                    why = str(exc)
                    modes.remember_unavailable(mode, why)
                else:
                    return mode, "; ".join(notes)
            notes.append(f"{mode} unavailable: {why}")
        raise SandboxError("no sandbox mode could start: " + "; ".join(notes))

    def _config(self, mode: str, fd: int) -> dict[str, Any]:
        limits = self.limits
        return {
            "mode": mode,
            "ctl_fd": fd,
            "runner_pid": os.getpid(),
            "run_dir": str(self.run_dir),
            "area": str(self.area),
            "private": str(self.private),
            "bin_dir": str(self.bin_dir),
            "python": self.python,
            "is_root": self.is_root,
            "cgroup_procs": self.cgroup.procs_files if self.cgroup else [],
            "view": system_view(),
            "ports": self.ports if mode == "landlock" else [],
            "newroot": str(self.run_dir / "root"),
            "limits": {
                "cpu_seconds": limits.cpu_limit_seconds,
                "memory_mb": limits.memory_mb,
                "processes": limits.processes,
                "disk_mb": limits.disk_mb,
                "open_files": limits.open_files,
                "files": inode_cap(limits),
            },
        }

    def _launch(self, mode: str) -> None:
        if mode == "landlock" and not self.ports:
            self.ports = loopback_port_pool()
        mine, theirs = _wire.pair()
        cfg = self._config(mode, theirs.fileno())
        if mode != "namespaces":
            become_subreaper()
        # The configuration goes in on stdin, not argv: candidates' inits are forks of the
        # supervisor, and their command line is visible inside the sandbox.
        cfg_r, cfg_w = os.pipe2(os.O_CLOEXEC)
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(SUPERVISOR)],
            stdin=cfg_r,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(theirs.fileno(),),
            cwd=self.run_dir,
            start_new_session=True,
        )
        theirs.close()
        os.close(cfg_r)
        with os.fdopen(cfg_w, "wb") as f:
            f.write(json.dumps(cfg).encode())
        mine.settimeout(START_TIMEOUT_S)
        try:
            msg, _ = _wire.recv(mine)
        except OSError:
            msg = None
        if not msg or msg.get("ev") != "ready":
            proc.kill()
            _, err = proc.communicate()
            mine.close()
            why = (msg or {}).get("error") or err.decode(errors="replace").strip() or "no answer"
            raise SandboxError(why.splitlines()[-1])
        mine.settimeout(None)
        self._supervisor = proc
        listing = self.cgroup.listing if self.cgroup and mode in CGROUP_LISTED_MODES else None
        self._tracker = RunTracker(proc.pid, cgroup_procs=listing)
        self._channel = Channel(mine, self._on_message, self._on_supervisor_gone)
        self.supervisor_errors = ""
        threading.Thread(target=self._drain_stderr, args=(proc,), daemon=True).start()

    def _drain_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        # The supervisor writes to stderr only when it fails: keep the last words, and keep
        # its pipe from filling.
        assert proc.stderr is not None
        with contextlib.suppress(OSError, ValueError):
            for line in proc.stderr:
                text = self.supervisor_errors + line.decode(errors="replace")
                self.supervisor_errors = text[-4000:]

    def _host_path(self, path: Path) -> Path:
        """Where the runner reaches a path of the run (inside the supervisor's mounts)."""
        if self.mode == "namespaces" and self._supervisor is not None:
            return Path(f"/proc/{self._supervisor.pid}/root{path}")
        return path

    def host_path(self, path: Path) -> Path:
        """Where this process reaches a path of the run's area or private folder (in namespaces
        mode they live in the supervisor's mount namespace): e.g. a unix socket a candidate
        serves on."""
        return self._host_path(path)

    # -- events from the supervisor ---------------------------------------------------------

    def _on_message(self, msg: dict[str, Any], fds: list[int]) -> None:
        ev = msg.get("ev")
        if ev == "started":
            if msg.get("root"):
                self._tracker.register(int(msg["root"]), "ours" if msg.get("init") else msg["kind"])
            if msg.get("init"):
                self._tracker.register(int(msg["init"]), "ours")
            self._tracker.register(int(msg["pid"]), msg["kind"])
            if msg["kind"] == "candidate":
                with self._lock:
                    self._names[msg["name"]] = int(msg["pid"])
                if fds:
                    self._output.add(fds.pop(0), msg["name"])
                self._emit(CandidateStarted(msg["name"], int(msg["pid"])))
        elif ev == "exited":
            pid, rc = int(msg["pid"]), int(msg["returncode"])
            if msg["kind"] == "candidate":
                with self._lock:
                    self._cpu_done[pid] = float(msg.get("cpu_s", 0.0))
                # Limits the kernel enforced show in how it died: file them before anyone
                # waiting for this exit wakes up.
                self._kernel_limits(rc)
            self._book.exited(pid, rc)
            if msg["kind"] == "candidate":
                self._emit(CandidateExited(msg["name"], pid, rc))
        for fd in fds:
            os.close(fd)

    def _kernel_limits(self, returncode: int = 0) -> None:
        """Limits the kernel enforced (CPU time, cgroup memory and pids, the disk budget)."""
        if returncode == -signal.SIGXCPU:
            self.stop("time", "cpu")
        elif self.cgroup is not None and self.cgroup.memory_limit_hit():
            self.stop("memory")
        elif self.cgroup is not None and self.cgroup.pids_limit_hit():
            self.stop("processes")
        elif not self._closed.is_set():
            used, files = self._disk_used()
            if used >= self.limits.disk_mb * 2**20:
                self.stop("disk")
            elif files >= inode_cap(self.limits):
                self.stop("disk", "files")

    def _on_supervisor_gone(self) -> None:
        # Killed (by a candidate, in the modes that cannot stop it) or ended: the runner now
        # ends every process it has seen itself, by pid and start time.
        if not self._closed.is_set():
            self._kill_members(kinds=("candidate", "trusted", "ours"), budget_s=2.0)
        # Every exit the supervisor saw arrived before its end of the socket closed: whoever
        # still waits was killed with the run (or is being killed by close()).
        self._book.end_all(-signal.SIGKILL)

    def _emit(self, event: SandboxEvent) -> None:
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # noqa: BLE001 - a caller's callback must never break a run
                pass

    # -- the monitor ------------------------------------------------------------------------

    def begin(self) -> None:
        """Start the clock and the monitor of a run opened with `held=True` (made ready ahead,
        nothing of the candidate's in it yet): limits count from now, as for a run just opened."""
        if not self._begun.is_set():
            self.t0 = time.monotonic()
            self._begun.set()

    def _watch(self) -> None:
        self._begun.wait()  # a held run's idle wait costs no sampling
        limits = self.limits
        n = 0
        last_cpu, last_t = 0.0, time.monotonic()
        precise_memory = 0
        small_tree = False
        next_disk = 0.0
        charged_at, precise_n = -1, 0
        cgroup = self.cgroup if self.cgroup and "memory" in self.cgroup.dirs else None
        while not self._closed.is_set():
            members = self._tracker.refresh()
            if cgroup is not None:
                # The kernel holds the memory limit (shared memory included): the monitor's
                # figure is for the record, so PSS is read when the cgroup's charge moved, at
                # 5 Hz, else once a second; between, CPU and tasks only (issue 14).
                charged = cgroup.charged_bytes() if n % PRECISE_EVERY_N_SAMPLES == 0 else 0
                precise = n % PRECISE_EVERY_N_SAMPLES == 0 and (
                    charged is None
                    or abs(charged - charged_at) >= CHARGE_STEP
                    or n - precise_n >= PRECISE_AT_LEAST_EVERY_N_SAMPLES
                )
                reading = read_candidates(members, precise=precise, rss=False)
                if precise:
                    charged_at, precise_n = charged if charged is not None else -1, n
            else:
                # PSS and held shared memory (memfd grows fast, unseen by RSS) at 5 Hz, and at
                # once when the cheap figure nears the limit. For a small tree the cheap figure
                # includes held shared memory at every sample (RSS plus it bounds PSS plus it
                # from above), so a growing memfd is caught at 20 Hz; PSS itself (smaps_rollup,
                # ~0.3 ms for a Python process) only when that bound passes half the limit.
                precise = n % PRECISE_EVERY_N_SAMPLES == 0
                reading = read_candidates(members, precise=precise, shm=precise or small_tree)
                if not precise and (
                    reading.procs <= PRECISE_ALWAYS_UP_TO and not small_tree
                    or reading.memory_bytes > limits.memory_mb * 2**19
                ):
                    reading = read_candidates(members, precise=True)
                    precise = True
            if precise:
                precise_memory = reading.memory_bytes
            small_tree = reading.procs <= PRECISE_ALWAYS_UP_TO
            for m in members:
                self._cpu_seen[(m.pid, m.start)] = m.cpu_s
            now = time.monotonic()
            if now >= next_disk:
                spent = time.monotonic()
                self._disk_bytes, files = self._disk_used()
                spent = time.monotonic() - spent
                # A folder of many files is costly to walk: walk it less often (<= 5 %).
                next_disk = now + (0.0 if self.mode == "namespaces" else spent * 20)
                if files >= inode_cap(limits):
                    self.stop("disk", "files")
            memory_mb = precise_memory / 2**20
            with self._lock:
                self._peak_memory = max(self._peak_memory, memory_mb)
                self._max_procs = max(self._max_procs, reading.tasks)
                self._peak_disk = max(self._peak_disk, self._disk_bytes)
            cpu = self._cpu_total()
            pct = max(0.0, (cpu - last_cpu) / max(now - last_t, 1e-6) * 100)
            last_cpu, last_t = cpu, now
            n += 1
            if n % EVENT_EVERY_N_SAMPLES == 0:
                self._emit(
                    ResourceSample(
                        round(now - self.t0, 3),
                        round(pct, 1),
                        round(memory_mb, 1),
                        reading.procs,
                        round(self._disk_bytes / 2**20, 1),
                    )
                )
            if reading.tasks > limits.processes:
                self.stop("processes")
            if memory_mb > limits.memory_mb:
                self.stop("memory")
            if self._disk_bytes >= limits.disk_mb * 2**20:
                self.stop("disk")
            if now - self.t0 > limits.timeout_seconds:
                self.stop("time")
            self._closed.wait(SAMPLE_INTERVAL_S)

    def _disk_used(self) -> tuple[int, int]:
        """(bytes, files) the run's area holds: the tmpfs's own count where there is one."""
        if self.mode == "namespaces":
            try:
                st = self._area_statvfs()
            except OSError:
                return self._disk_bytes, 0
            return (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_files - st.f_ffree
        return tree_bytes(str(self.area), budget=inode_cap(self.limits) + 1)

    def _area_statvfs(self) -> os.statvfs_result:
        # A path through /proc/PID/root is looked up anew on every call (~0.15 % of a core
        # at 20 Hz): the run's tmpfs is held open instead, until close() lets it go.
        with self._area_lock:
            if self._area_fd < 0 and not self._closed.is_set():
                self._area_fd = os.open(
                    self._host_path(self.area), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
                )
            if self._area_fd >= 0:
                return os.fstatvfs(self._area_fd)
        return os.statvfs(self._host_path(self.area))

    def _release_area(self) -> None:
        with self._area_lock:
            if self._area_fd >= 0:
                os.close(self._area_fd)
                self._area_fd = -1

    def _cpu_total(self) -> float:
        with self._lock:
            return max(sum(self._cpu_seen.values()), sum(self._cpu_done.values()))

    # -- the API ----------------------------------------------------------------------------

    def copy_in(self, src: Path, dest_rel: str) -> None:
        """Copy a (safe, already staged) file or folder into area/ or private/ of the run."""
        rel = Path(dest_rel)
        if rel.is_absolute() or ".." in rel.parts or rel.parts[:1] not in (("area",), ("private",)):
            raise SandboxError(f"{dest_rel!r} is not inside area/ or private/ of the run")
        dest = self._host_path(self.run_dir / rel)
        if src.is_dir():
            shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest, follow_symlinks=False)

    def start_trusted(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        pass_fds: tuple[int, ...] = (),
        *,
        stdout: int | None = None,
        stderr: int | None = None,
        name: str = "judge",
    ) -> TrustedProc:
        """Start the trusted process (the judge) inside the run, not sandboxed.

        Its environment gets TUI_ASSESS_SANDBOX_CTL, which tui_assess.sandbox.client reads to
        spawn candidates. Without `stdout`, its stdout+stderr come back as `proc.stdout`.
        """
        out_r = -1
        if stdout is None:
            out_r, stdout = os.pipe2(os.O_CLOEXEC)
            stderr = stdout if stderr is None else stderr
        elif stderr is None:
            stderr = stdout
        stdin = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        try:
            reply = self._channel.request(
                {
                    "op": "trusted",
                    "name": name,
                    "argv": list(argv),
                    "env": dict(env),
                    "cwd": str(cwd),
                    "pass_fds": list(pass_fds),
                },
                [stdin, stdout, stderr, *pass_fds],
            )
        except BaseException:
            if out_r >= 0:
                os.close(out_r)
            raise
        finally:
            os.close(stdin)
            if out_r >= 0:
                os.close(stdout)
        proc = TrustedProc(name, int(reply["pid"]), self._kill_trusted)
        if out_r >= 0:
            proc.stdout = os.fdopen(out_r, "rb")
        self._tracker.register(proc.pid, "trusted")
        self._book.file(proc)
        return proc

    def spawn(self, spec: CandidateSpec) -> CandidateProc:
        """Start a candidate process inside the sandbox (the runner's side: the pane)."""
        fds = ([spec.tty] if spec.tty is not None else []) + list(spec.pass_fds)
        reply = self._channel.request({"op": "spawn", "spec": spec.to_wire()}, fds)
        proc = CandidateProc(spec.name, int(reply["pid"]), self._kill_candidate)
        self._book.file(proc)
        return proc

    def output(self, name: str | None = None) -> str:
        """Captured output of one candidate (or of all), with a marker where it was cut."""
        return self._output.text(name)

    def stop(self, reason: StopReason, detail: str = "") -> None:
        """Kill every candidate now, and remember why (the first reason wins)."""
        first = self._record_limit(reason, detail)
        if self._closed.is_set():
            return
        if first and reason != "cancelled":
            self._emit(LimitReached(reason, self._reason))
        # Not waiting for the supervisor's reply: this runs on the monitor's and the channel's
        # threads too. The runner kills every candidate it has seen itself, and verifies.
        self._channel.notify({"op": "stop"})
        self._kill_members(kinds=("candidate",), budget_s=2.0)

    def _record_limit(self, reason: StopReason, detail: str = "") -> bool:
        with self._lock:
            if self._limit_hit is not None or self._cancelled:
                return False
            if reason == "cancelled":
                self._cancelled = True
            else:
                self._limit_hit = reason
            self._reason = limit_words(self.limits, reason, detail)
            return True

    def _kill_candidate(self, pid: int) -> None:
        with contextlib.suppress(SandboxError):
            self._channel.request({"op": "kill", "pid": pid}, timeout=5.0)

    def _kill_trusted(self, pid: int) -> None:
        start = self._tracker.ever.get(pid)
        if start is not None:
            kill_verified(pid, start)

    def _kill_members(self, kinds: tuple[str, ...], budget_s: float) -> tuple[int, list[int]]:
        """SIGKILL every member of these kinds until none is alive: (killed, survivors)."""
        end = time.monotonic() + budget_s
        killed: set[tuple[int, int]] = set()
        while True:
            self._tracker.refresh(full=True)
            with self._tracker.lock:
                mine = [
                    (m.pid, m.start)
                    for m in self._tracker.members.values()
                    if m.kind in kinds and m.pid != os.getpid()
                ]
            # Those the supervisor can no longer reap come back to this process (a subreaper
            # in the fallback modes): reap them, so no zombie of the run is left either.
            reap_children([pid for pid, _ in mine])
            alive = [(pid, start) for pid, start in mine if is_alive(pid, start)]
            if not alive:
                return len(killed), []
            for pid, start in alive:
                if kill_verified(pid, start):
                    killed.add((pid, start))
            reap_children([pid for pid, _ in alive])
            if time.monotonic() > end:
                return len(killed), [pid for pid, start in alive if is_alive(pid, start)]
            time.sleep(0.005)

    def resources(self) -> Resources:
        """What the candidates used so far (wall, cpu, peak memory, procs, disk, limit)."""
        with self._lock:
            return Resources(
                wall_s=time.monotonic() - self.t0,
                cpu_s=max(
                    sum(self._cpu_seen.values()), sum(self._cpu_done.values())
                ),
                peak_memory_mb=self._peak_memory,
                max_procs=self._max_procs,
                disk_mb=self._peak_disk / 2**20,
                limit_hit=self._limit_hit,
                reason=self._reason,
            )

    def close(self, budget_s: float = CLOSE_BUDGET_S) -> CloseReport:
        """Kill everything of the run (the trusted side too), verify it is gone, remove the
        run folder. Bounded by `budget_s`; the report says what, if anything, is left."""
        if self._closed.is_set():
            return getattr(self, "_close_report", CloseReport())
        start = time.monotonic()
        end = start + budget_s
        report = CloseReport()
        wall = start - self.t0
        self._kernel_limits()
        with contextlib.suppress(SandboxError):
            self._channel.request({"op": "shutdown"}, timeout=max(0.5, end - time.monotonic()))
        self._closed.set()
        self._begun.set()  # a monitor still held ends now
        # The supervisor has killed everything it knows; end of its socket ends it.
        self._channel.close()
        self._end_supervisor(max(0.2, end - time.monotonic()))
        killed, survivors = self._kill_members(
            kinds=("candidate", "trusted", "ours"), budget_s=max(0.2, end - time.monotonic())
        )
        report.killed = killed
        report.survivors = survivors
        if survivors:
            report.notes.append(
                f"{len(survivors)} process(es) of the run could not be killed: {survivors}"
            )
        self._monitor.join(1.0)
        self._release_area()
        self._output.finish(max(0.2, end - time.monotonic()))
        for handle in self._book.open_handles():
            st = read_stat(handle.pid)
            if handle.returncode is None and (st is None or st[1] in ("Z", "X")):
                self._book.exited(handle.pid, -signal.SIGKILL)
        final = self.resources()
        final.wall_s = wall
        if self.cgroup is not None:
            final.peak_memory_mb = max(final.peak_memory_mb, self.cgroup.peak_memory_mb())
            self.cgroup.remove()
        self._final_resources = final
        report.removed = remove_tree(self.run_dir, end, report.notes)
        report.seconds = time.monotonic() - start
        self._close_report = report
        return report

    def _end_supervisor(self, budget_s: float) -> None:
        proc = self._supervisor
        if proc is None:
            return
        try:
            proc.wait(budget_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(1.0)

    def _abandon(self) -> None:
        """Undo a half-made run (the constructor failed)."""
        self._release_area()
        if self._supervisor is not None:
            self._supervisor.kill()
            self._supervisor.wait()
        if self.cgroup is not None:
            self.cgroup.remove()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    @property
    def final_resources(self) -> Resources:
        """Resources as they were when close() began (after close), else as of now."""
        return getattr(self, "_final_resources", None) or self.resources()

    def __enter__(self) -> SandboxRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reap_children(pids: list[int]) -> None:
    """Reap those of `pids` that are zombies re-parented to this process (a subreaper)."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def remove_tree(path: Path, deadline: float, notes: list[str]) -> bool:
    """Remove the run folder, bounded by `deadline` (monotonic).

    A tmpfs is already gone with its namespace; a folder on disk with very many files may
    not be removable in time: it is renamed out of the way, finished by a detached remover,
    and the notes say so.
    """
    if remove_until(path, deadline):
        return True
    trash = path.with_name(path.name + ".removing")
    try:
        path.rename(trash)
    except OSError:
        trash = path
    remover = "import shutil, sys; shutil.rmtree(sys.argv[1], True)"
    subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", remover, str(trash)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    notes.append(f"the run folder held too much to remove in time; {trash} is being removed")
    return False


def remove_until(path: Path, deadline: float) -> bool:
    """Delete a tree bottom-up until done (True) or past the deadline (False)."""
    stack = [str(path)]
    while stack:
        if time.monotonic() > deadline:
            return False
        folder = stack[-1]
        try:
            it = os.scandir(folder)
        except FileNotFoundError:
            stack.pop()
            continue
        except OSError:
            with contextlib.suppress(OSError):
                os.chmod(folder, 0o700)
            it = os.scandir(folder)
        pushed = False
        with it:
            for n, entry in enumerate(it):
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    pushed = True
                    break
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                if n % 512 == 0 and time.monotonic() > deadline:
                    return False
        if not pushed:
            stack.pop()
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(folder)
    return True
