"""Choosing and describing the sandbox a run gets, and the cgroups it can join."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SUPERVISOR = Path(__file__).with_name("_supervisor.py")
CGROUP_V1 = Path("/sys/fs/cgroup")


@functools.lru_cache(maxsize=1)
def namespaces_available() -> tuple[bool, str]:
    """Whether user+PID+network+mount namespaces work for this user here (probed once)."""
    if sys.platform != "linux":
        return False, "not Linux"
    try:
        proc = subprocess.run(
            [sys.executable, "-I", str(SUPERVISOR), "--probe"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if proc.returncode == 0:
        return True, ""
    return False, (proc.stderr.strip().splitlines() or ["probe failed"])[-1]


def choose_mode(requested: str) -> tuple[str, str]:
    """('namespaces' | 'rlimits', note). TUI_ASSESS_SANDBOX=rlimits forces the fallback."""
    forced = os.environ.get("TUI_ASSESS_SANDBOX", "").strip()
    if forced in ("namespaces", "rlimits"):
        requested = forced
    if requested == "rlimits":
        return "rlimits", "namespaces turned off by request"
    ok, why = namespaces_available()
    if ok:
        return "namespaces", ""
    if requested == "namespaces":
        return "rlimits", f"namespaces were requested but are unavailable ({why})"
    return "rlimits", f"namespaces unavailable ({why})"


@dataclass
class RunCgroup:
    """A per-run cgroup (v1 pids + memory) where this user may create one: root, usually."""

    dirs: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def create(cls, processes: int, memory_mb: int) -> RunCgroup | None:
        name = f"tui-assess-{uuid.uuid4().hex[:12]}"
        made: dict[str, Path] = {}
        try:
            pids = CGROUP_V1 / "pids"
            if not (pids / "pids.max").exists() and not (pids / "cgroup.procs").exists():
                return None
            d = pids / name
            d.mkdir()
            made["pids"] = d
            (d / "pids.max").write_text(str(processes))
            mem = CGROUP_V1 / "memory"
            if (mem / "memory.limit_in_bytes").exists():
                m = mem / name
                m.mkdir()
                made["memory"] = m
                (m / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))
                # Without swap accounting this file is absent; the limit above still holds.
                sw = m / "memory.memsw.limit_in_bytes"
                if sw.exists():
                    sw.write_text(str(memory_mb * 1024 * 1024))
        except OSError:
            cls(made).remove()
            return None
        return cls(made)

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs.values()]

    def pids(self) -> list[int]:
        d = self.dirs.get("pids")
        if d is None:
            return []
        try:
            return [int(x) for x in (d / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def peak_memory_mb(self) -> float:
        m = self.dirs.get("memory")
        try:
            return int((m / "memory.max_usage_in_bytes").read_text()) / 2**20 if m else 0.0
        except (OSError, ValueError):
            return 0.0

    def memory_limit_hit(self) -> bool:
        """The kernel refused memory to the run or OOM-killed one of its processes."""
        m = self.dirs.get("memory")
        if m is None:
            return False
        for name in ("memory.failcnt", "memory.memsw.failcnt"):
            with contextlib.suppress(OSError, ValueError):
                if int((m / name).read_text()) > 0:
                    return True
        with contextlib.suppress(OSError, ValueError):
            for line in (m / "memory.oom_control").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        return False

    def pids_limit_hit(self) -> bool:
        d = self.dirs.get("pids")
        try:
            return bool(d) and "max 0" not in (d / "pids.events").read_text()  # type: ignore[operator]
        except OSError:
            return False

    def remove(self) -> None:
        for d in self.dirs.values():
            try:
                d.rmdir()
            except OSError:
                pass


def guarantees(mode: str, cgroup: RunCgroup | None, is_root: bool) -> dict[str, str]:
    """What the sandbox that ran guarantees, in words a reviewer can check."""
    g: dict[str, str] = {}
    if mode == "namespaces":
        g["network"] = "isolated: the run sees only its own loopback interface"
        g["processes_outlive_run"] = "impossible: PID namespace, the kernel kills all at exit"
    else:
        g["network"] = "NOT isolated: the run can reach the network and the host's loopback"
        g["processes_outlive_run"] = "prevented by a subreaper sweep (SIGKILL of the whole tree)"
    if cgroup and "pids" in cgroup.dirs:
        g["process_limit"] = "kernel: cgroup pids.max"
    elif is_root:
        g["process_limit"] = "monitor only (root is exempt from RLIMIT_NPROC)"
    else:
        g["process_limit"] = "kernel: RLIMIT_NPROC" + (
            " counted inside the user namespace" if mode == "namespaces" else ""
        )
    if cgroup and "memory" in cgroup.dirs:
        g["memory_limit"] = "kernel: cgroup memory limit, plus the monitor"
    else:
        g["memory_limit"] = "RLIMIT_DATA per process, plus the monitor over the whole tree"
    g["cpu_limit"] = "kernel: RLIMIT_CPU per process; wall clock by the runner"
    return g
