"""Which sandbox mode a run gets, what this machine offers, and what each mode guarantees.

The guarantee sentences below are the single source of truth: `SandboxRun.guarantees`, every
`check --json` and the README's sandbox table say the same words (a test compares them).
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from dataclasses import dataclass

MODES = ("namespaces", "landlock", "rlimits")
ROWS = (
    "file_system",
    "network",
    "signals",
    "processes_outlive_run",
    "process_limit",
    "memory_limit",
    "disk",
    "shared_memory",
    "open_files",
    "cpu_limit",
)
ROW_TITLES = {
    "file_system": "file system",
    "network": "network",
    "signals": "signals",
    "processes_outlive_run": "no survivors",
    "process_limit": "process limit",
    "memory_limit": "memory",
    "disk": "disk",
    "shared_memory": "shared memory",
    "open_files": "open files",
    "cpu_limit": "cpu",
}
ENV_FORCE = "TUI_ASSESS_SANDBOX"
LANDLOCK_CREATE_RULESET = 444
LANDLOCK_CREATE_RULESET_VERSION = 1

# Modes whose supervisor side is built; the others are skipped with a note.
BUILT: tuple[str, ...] = MODES


@dataclass(frozen=True)
class Facts:
    """What this machine and user offer a run (decides the guarantee sentences)."""

    is_root: bool
    landlock_abi: int
    cgroup_pids: bool = False
    cgroup_memory: bool = False


@functools.lru_cache(maxsize=1)
def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is absent or disabled."""
    if sys.platform != "linux":
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return max(int(abi), 0)


def requested_order(requested: str) -> tuple[list[str], str]:
    """Modes to try, best first, and a note when the request was overridden or unknown."""
    forced = os.environ.get(ENV_FORCE, "").strip()
    note = ""
    if forced:
        if forced in MODES:
            requested = forced
        else:
            note = f"{ENV_FORCE}={forced!r} is not a mode ({', '.join(MODES)}); ignored"
    if requested not in (*MODES, "auto"):
        raise ValueError(f"unknown sandbox mode {requested!r}")
    first = 0 if requested == "auto" else MODES.index(requested)
    order = list(MODES[first:])
    return order, note


_unavailable: dict[str, str] = {}


def unavailable(mode: str) -> str:
    """Why `mode` cannot run here ("" when it may): decided cheaply, remembered per process."""
    if mode in _unavailable:
        return _unavailable[mode]
    if mode not in BUILT:
        return f"the {mode} mode is not built yet"
    if sys.platform != "linux":
        return "not Linux"
    if mode == "landlock" and landlock_abi() == 0:
        return "the kernel has no Landlock (5.13+, enabled in the LSM list)"
    return ""


def remember_unavailable(mode: str, why: str) -> None:
    """A supervisor could not set `mode` up: skip it for the rest of this process."""
    _unavailable[mode] = why


def _process_limit(facts: Facts, mode: str) -> str:
    if facts.cgroup_pids:
        return "kernel (as root): the run's cgroup pids.max, plus the monitor"
    if facts.is_root:
        return "the monitor only (root is exempt from RLIMIT_NPROC and no cgroup was available)"
    if mode == "namespaces":
        return (
            "kernel: RLIMIT_NPROC counted in the candidate's own user namespace, plus the monitor"
        )
    return "kernel: RLIMIT_NPROC for this user (its other processes count too), plus the monitor"


def _memory(facts: Facts) -> str:
    if facts.cgroup_memory:
        return (
            "kernel (as root): the run's cgroup memory limit, shared memory and tmpfs files "
            "included, plus the monitor"
        )
    return (
        "the monitor: RSS plus the memfd and /dev/shm memory every candidate process holds, "
        "20 times a second, and PSS 5 times a second (at once near the limit); RLIMIT_DATA per "
        "process"
    )


def guarantees(mode: str, facts: Facts) -> dict[str, str]:
    """One plain sentence per row: what `mode` guarantees with these facts."""
    abi = facts.landlock_abi
    g = {
        "process_limit": _process_limit(facts, mode),
        "memory_limit": _memory(facts),
        "open_files": "kernel: RLIMIT_NOFILE per process",
        "cpu_limit": "kernel: RLIMIT_CPU per process; wall clock by the runner",
    }
    survivors_fallback = (
        "prevented: the supervisor and the runner are subreapers, and every process seen in "
        "the run is killed by pid and start time"
    )
    monitored_disk = (
        "monitored: the runner sums what the run's folders hold (20 times a second while "
        "that is cheap) and stops the run at disk_mb or at 256 files per MB; RLIMIT_FSIZE per file"
    )
    if mode == "namespaces":
        g.update(
            file_system=(
                "isolated: a new root on tmpfs with read-only system files and interpreter "
                "(site-packages masked); it writes only its own folders"
            ),
            network="isolated: its own loopback only; ports the judge serves are forwarded in",
            signals="isolated: its own PID namespace; nothing outside it can be seen or signalled",
            processes_outlive_run=(
                "impossible: PID namespace; the kernel kills all when the run ends"
            ),
            disk=(
                "kernel: one tmpfs of disk_mb (256 files per MB) holds the run's folders, /tmp, "
                "$HOME and /dev/shm; RLIMIT_FSIZE per file elsewhere"
            ),
            shared_memory=(
                "private: its own IPC namespace and /dev/shm (on the run's tmpfs); memfd "
                "counted by the monitor"
            ),
        )
    elif mode == "landlock":
        g.update(
            file_system=(
                "Landlock: it reads only system files, /proc and the interpreter's stdlib (no "
                "site-packages) and writes only its own folders"
            ),
            network=(
                "Landlock: TCP bind and connect only on the run's port pool; UDP and unix "
                "sockets with a path NOT isolated"
                if abi >= 4
                else "NOT isolated: this kernel's Landlock has no network rules (ABI 4 needed)"
            ),
            signals=(
                "Landlock: it can signal only its own processes and reach no abstract unix "
                "socket outside them"
                if abi >= 6
                else "NOT isolated: it can signal any process of this user (Landlock ABI 6 needed)"
            ),
            processes_outlive_run=survivors_fallback,
            disk=monitored_disk,
            shared_memory="Landlock denies /dev/shm; memfd counted by the monitor",
        )
    else:
        g.update(
            file_system="NOT isolated: it reads and writes whatever this user can",
            network="NOT isolated: it reaches the network and this machine's loopback",
            signals="NOT isolated: it can signal any process of this user",
            processes_outlive_run=survivors_fallback,
            disk=monitored_disk,
            shared_memory=(
                "NOT isolated: /dev/shm is shared with this user; memfd counted by the monitor"
            ),
        )
    return {row: g[row] for row in ROWS}


def all_sentences(mode: str) -> dict[str, set[str]]:
    """Every sentence `guarantees` can give for `mode`, per row (for the README check)."""
    out: dict[str, set[str]] = {row: set() for row in ROWS}
    for is_root in (False, True):
        for abi in range(0, 8):
            for pids in (False, True):
                for mem in (False, True):
                    if (pids or mem) and not is_root:
                        continue  # cgroups are made for root runs only
                    if mode == "landlock" and abi == 0:
                        continue
                    facts = Facts(is_root, abi, pids, mem)
                    for row, text in guarantees(mode, facts).items():
                        out[row].add(text)
    return out


def guarantee_table() -> str:
    """The README's sandbox table: every sentence `guarantees` can give, per row and mode.

    A cell with more than one sentence lists each case (as root, kernel ABI), one per line.
    """
    cells = {mode: all_sentences(mode) for mode in MODES}
    lines = [
        "| guarantee | " + " | ".join(f"`{m}`" for m in MODES) + " |",
        "|---|" + "---|" * len(MODES),
    ]
    for row in ROWS:
        texts = ["<br>".join(sorted(cells[m][row])) for m in MODES]
        lines.append(f"| {ROW_TITLES[row]} | " + " | ".join(texts) + " |")
    return "\n".join(lines) + "\n"
