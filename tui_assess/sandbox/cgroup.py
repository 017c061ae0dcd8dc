"""A cgroup for a run's candidate processes, where this user may make one: root, usually.

cgroup v1 (pids + memory controllers) where they are mounted; else cgroup v2 (the unified
hierarchy, as on most current distributions), in which root makes the run's cgroup below the
root cgroup, enabling the pids and memory controllers there. The kernel then counts every task
and every page the candidates use, /dev/shm, memfd and tmpfs pages included. An ordinary user
would need a delegated subtree (a systemd user scope); none is assumed: the monitor counts.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tui_assess.sandbox.monitor import read_small

V1 = Path("/sys/fs/cgroup")
V2_MOUNTS = (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))


@dataclass
class RunCgroup:
    """The run's cgroup(s): `procs_files` are what a candidate writes its pid into."""

    dirs: dict[str, Path] = field(default_factory=dict)
    version: int = 1

    @classmethod
    def create(cls, processes: int, memory_mb: int) -> RunCgroup | None:
        if os.geteuid() != 0:
            return None
        return cls._create_v1(processes, memory_mb) or cls._create_v2(processes, memory_mb)

    @classmethod
    def _create_v1(cls, processes: int, memory_mb: int) -> RunCgroup | None:
        name = f"tui-assess-{uuid.uuid4().hex[:12]}"
        made = cls({}, 1)
        try:
            pids = V1 / "pids"
            if not (pids / "cgroup.procs").exists():
                return None
            d = pids / name
            d.mkdir()
            made.dirs["pids"] = d
            (d / "pids.max").write_text(str(processes))
            mem = V1 / "memory"
            if (mem / "memory.limit_in_bytes").exists():
                m = mem / name
                m.mkdir()
                made.dirs["memory"] = m
                (m / "memory.limit_in_bytes").write_text(str(memory_mb * 2**20))
                swap = m / "memory.memsw.limit_in_bytes"
                if swap.exists():  # absent without swap accounting; the limit above holds
                    swap.write_text(str(memory_mb * 2**20))
        except OSError:
            made.remove()
            return None
        return made

    @classmethod
    def _create_v2(cls, processes: int, memory_mb: int) -> RunCgroup | None:
        root = next((m for m in V2_MOUNTS if (m / "cgroup.subtree_control").exists()), None)
        if root is None:
            return None
        try:
            offered = (root / "cgroup.controllers").read_text().split()
            wanted = [c for c in ("pids", "memory") if c in offered]
            if not wanted:
                return None
            # The root cgroup may hold processes and enable controllers for its children.
            (root / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in wanted))
        except OSError:
            return None
        d = root / f"tui-assess-{uuid.uuid4().hex[:12]}"
        made = cls({}, 2)
        try:
            d.mkdir()
            made.dirs["pids" if "pids" in wanted else "memory"] = d
            if "pids" in wanted:
                (d / "pids.max").write_text(str(processes))
            if "memory" in wanted:
                made.dirs["memory"] = d
                (d / "memory.max").write_text(str(memory_mb * 2**20))
                with contextlib.suppress(OSError):  # absent without swap accounting
                    (d / "memory.swap.max").write_text("0")
        except OSError:
            made.remove()
            return None
        return made

    @property
    def procs_files(self) -> list[str]:
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    @property
    def listing(self) -> str | None:
        """The cgroup.procs file that lists the run's processes (None: no cgroup made)."""
        d = self.dirs.get("pids") or self.dirs.get("memory")
        return str(d / "cgroup.procs") if d is not None else None

    def charged_bytes(self) -> int | None:
        """Memory the kernel charges to the run now, in bytes (None: no memory controller)."""
        m = self.dirs.get("memory")
        if m is None:
            return None
        name = "memory.usage_in_bytes" if self.version == 1 else "memory.current"
        try:
            return int(read_small(str(m / name)))
        except (OSError, ValueError):
            return None

    def peak_memory_mb(self) -> float:
        m = self.dirs.get("memory")
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            return int((m / name).read_text()) / 2**20 if m else 0.0
        except (OSError, ValueError):
            return 0.0

    def memory_limit_hit(self) -> bool:
        """The kernel refused memory to the run or OOM-killed one of its processes."""
        m = self.dirs.get("memory")
        if m is None:
            return False
        if self.version == 2:
            return _event_count(m / "memory.events", ("max", "oom_kill")) > 0
        for name in ("memory.failcnt", "memory.memsw.failcnt"):
            with contextlib.suppress(OSError, ValueError):
                if int((m / name).read_text()) > 0:
                    return True
        return _event_count(m / "memory.oom_control", ("oom_kill",)) > 0

    def pids_limit_hit(self) -> bool:
        d = self.dirs.get("pids")
        return d is not None and _event_count(d / "pids.events", ("max",)) > 0

    def remove(self) -> None:
        for d in set(self.dirs.values()):
            with contextlib.suppress(OSError):
                d.rmdir()


def _event_count(path: Path, keys: tuple[str, ...]) -> int:
    try:
        text = path.read_text()
    except OSError:
        return 0
    total = 0
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key in keys:
            with contextlib.suppress(ValueError):
                total += int(value)
    return total
