"""Per-run limits: plain data, no behaviour. Every figure covers the run's candidate processes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LimitHit = Literal["time", "memory", "processes", "output", "disk"]
"""Which limit stopped a run: wall clock or CPU, memory, processes, output, disk writes."""


@dataclass(frozen=True)
class Limits:
    """Per-run limits. Every figure applies to the whole run (every process it starts)."""

    timeout_seconds: float = 60.0
    """Wall-clock time for the whole run, collection included."""
    memory_mb: int = 1024
    """Memory summed over the run's candidate processes (PSS, plus shared memory they hold)."""
    processes: int = 64
    """Processes and threads alive at once in the run (the kernel counts both)."""
    output_kb: int = 1024
    """Captured stdout+stderr; past it the rest is discarded and the run is stopped."""
    cpu_seconds: float | None = None
    """CPU time per process (RLIMIT_CPU); defaults to the wall-clock timeout."""
    disk_mb: int = 256
    """Total bytes a run may write (its files, /tmp, $HOME, /dev/shm together)."""
    open_files: int = 1024
    """Open files per process (RLIMIT_NOFILE)."""

    @property
    def cpu_limit_seconds(self) -> float:
        """The CPU time each process may use: cpu_seconds, else the wall-clock timeout."""
        return self.cpu_seconds if self.cpu_seconds is not None else self.timeout_seconds
