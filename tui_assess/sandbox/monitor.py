"""Watching a run's processes from outside, cheaply.

Walking every process's stat 20 times a second cost 7-20 % of a core (issue 14), and even one
listing of /proc per sample cost 0.4-0.6 % on a machine where processes start all the time.
`RunTracker` reads only the run's own processes: where the run has a cgroup its candidates
cannot leave (namespaces and landlock modes, as root), from its `cgroup.procs` (one small
read); else, only when a process was created anywhere since the last sample, by following
/proc/PID/task/TID/children from the supervisor down (orphans stay in that tree: the
supervisor and a namespace's init are subreapers). /proc is listed only to kill (nothing
missed in a race with a fork) and on kernels without children lists. Members are read every
sample (CPU, threads, resident memory); the expensive PSS and shared-memory scans run only
every few samples or when the cheap figure nears the limit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from dataclasses import dataclass, field

FULL_LISTING_EVERY = 20  # samples between sweeps of the whole tree (or /proc listings)
SWEEP_EVERY = 100  # ... while the run's cgroup lists its candidates
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
SHM_PREFIXES = ("/memfd:", "/dev/shm/", "/SYSV")
READ_SIZE = 65536
# Each thread's children are listed in /proc (CONFIG_PROC_CHILDREN, on in most distributions).
HAS_CHILDREN = os.path.exists(f"/proc/self/task/{os.getpid()}/children")


@dataclass
class Member:
    pid: int
    ppid: int
    start: int  # clock ticks since boot: (pid, start) names one process for its lifetime
    kind: str  # "candidate" | "trusted" | "ours" (supervisor, namespace inits)
    cpu_s: float = 0.0
    threads: int = 1
    rss: int = 0


def read_small(path: str) -> bytes:
    """A small kernel file's content, read with bare syscalls: at 20 Hz, Python's buffered
    file objects cost about twice the read itself (issue 14)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = [os.read(fd, READ_SIZE)]
        while len(chunks[-1]) == READ_SIZE:  # one read returns all of a shorter file
            chunks.append(os.read(fd, READ_SIZE))
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_stat(pid: int) -> tuple[int, str, int, float, int] | None:
    """(ppid, state, start ticks, cpu seconds, threads) of a process, or None if it is gone."""
    try:
        stat = read_small(f"/proc/{pid}/stat")
        fields = stat[stat.rfind(b")") + 2 :].split()
        return (
            int(fields[1]),
            fields[0].decode(),
            int(fields[19]),
            (int(fields[11]) + int(fields[12])) / TICKS,
            int(fields[17]),
        )
    except (OSError, ValueError, IndexError):
        return None


def last_pid() -> int | None:
    """The pid most recently created on the machine (/proc/loadavg), None if unreadable."""
    try:
        return int(read_small("/proc/loadavg").split()[4])
    except (OSError, ValueError, IndexError):
        return None


def children(pid: int, threads: int) -> list[int]:
    """Pids whose parent is a thread of `pid` now (empty if it is gone)."""
    try:
        tids = [str(pid)] if threads == 1 else os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    out: list[int] = []
    for tid in tids:
        try:
            out.extend(int(n) for n in read_small(f"/proc/{pid}/task/{tid}/children").split())
        except (OSError, ValueError):
            continue
    return out


def start_ticks(pid: int) -> int | None:
    st = read_stat(pid)
    return st[2] if st else None


def rss_bytes(pid: int) -> int:
    try:
        return int(read_small(f"/proc/{pid}/statm").split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def pss_bytes(pid: int) -> int:
    """Proportional set size: pages shared after fork are counted once across the tree."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return rss_bytes(pid)


def shm_objects(pid: int) -> tuple[dict[tuple[int, int], int], set[int]]:
    """Shared-memory objects a process holds open ((dev, inode) -> bytes) and the inodes it maps.

    memfd and /dev/shm files are memory that RSS does not show until mapped; the monitor adds
    those that are held but not mapped (mapped ones are already in PSS).
    """
    held: dict[tuple[int, int], int] = {}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return held, set()
    for fd in fds:
        path = f"/proc/{pid}/fd/{fd}"
        try:
            target = os.readlink(path)
            if not target.startswith(SHM_PREFIXES):
                continue
            st = os.stat(path)
        except OSError:
            continue
        held[(st.st_dev, st.st_ino)] = st.st_blocks * 512
    mapped: set[int] = set()
    if held:
        try:
            with open(f"/proc/{pid}/maps", "rb") as f:
                for line in f:
                    parts = line.split(None, 5)
                    if len(parts) == 6 and parts[5].startswith((b"/memfd:", b"/dev/shm/")):
                        mapped.add(int(parts[4]))
        except (OSError, ValueError):
            pass
    return held, mapped


def tree_bytes(root: str, budget: int = 1_000_000) -> tuple[int, int]:
    """(bytes allocated, entries) under root, without following links; stops at `budget` entries."""
    total = entries = 0
    stack = [root]
    while stack and entries < budget:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    entries += 1
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total, entries


@dataclass
class RunTracker:
    """The run's processes: the supervisor and everything below it, classified by kind."""

    supervisor: int
    # The run's cgroup.procs, where every candidate is and none can leave (None: list /proc).
    cgroup_procs: str | None = None
    members: dict[int, Member] = field(default_factory=dict)
    strangers: set[int] = field(default_factory=set)
    roots: dict[int, str] = field(default_factory=dict)  # pid -> kind, as the supervisor said
    ever: dict[int, int] = field(default_factory=dict)  # pid -> start of every member seen
    lock: threading.Lock = field(default_factory=threading.Lock)
    _listed_at_pid: int | None = None  # last_pid() when /proc was last listed
    _since_listing: int = 0
    _in_cgroup: set[int] = field(default_factory=set)  # members last read from cgroup.procs

    def __post_init__(self) -> None:
        st = read_stat(self.supervisor)
        if st is not None:
            self._add(Member(self.supervisor, st[0], st[2], "ours"))

    def _add(self, m: Member) -> None:
        self.members[m.pid] = m
        self.ever[m.pid] = m.start

    def register(self, pid: int, kind: str) -> None:
        """The supervisor reported `pid` as a root of `kind` (trusted, candidate, ours)."""
        with self.lock:
            self.roots[pid] = kind
            m = self.members.get(pid)
            if m is None:
                st = read_stat(pid)
                if st is None or not self._descends(pid, st[0]):
                    # Gone already, or not below the supervisor: never track (or kill) a
                    # process the run does not own, whatever a message says.
                    self.roots.pop(pid, None)
                    return
                self.strangers.discard(pid)
                m = Member(pid, st[0], st[2], kind)
                self._add(m)
            m.kind = kind
            # Anything already classified below it follows it.
            for child in self._below(pid):
                self.members[child].kind = "candidate" if kind == "ours" else kind

    def _descends(self, pid: int, ppid: int) -> bool:
        """`pid` (whose parent is `ppid`) is the supervisor's descendant."""
        for _ in range(64):
            if ppid == self.supervisor or ppid in self.members:
                return True
            st = read_stat(ppid)
            if st is None or ppid <= 1:
                return False
            ppid = st[0]
        return False

    def _below(self, pid: int) -> list[int]:
        out, frontier = [], [pid]
        while frontier:
            frontier = [m.pid for m in self.members.values() if m.ppid in frontier]
            out.extend(frontier)
        return out

    def refresh(self, full: bool = False) -> list[Member]:
        """Bring the member list up to date; return the live candidate members.

        With the run's cgroup the candidates come from its list at every sample. Without
        one, while no process was created anywhere since the last look (the kernel's last pid
        is unchanged), no new member can exist and no pid can have been reused: nothing is
        read; else the run's tree is followed from the supervisor through its own and the
        candidates' processes (their children lists), or /proc is listed where the kernel
        has no children lists. Every SWEEP_EVERY samples (cgroup) or FULL_LISTING_EVERY the
        whole tree (the trusted side too) is followed and members that ended are dropped.
        Only the run's processes are read, however many the machine has (issue 14: listing
        /proc cost 0.4-0.6 % of a core at 20 Hz on this shared machine). `full` always lists
        /proc (the kill sweep: nothing missed in a race with a fork).
        """
        if full:
            return self._list_proc()
        self._since_listing += 1
        sweep = self._since_listing >= (
            SWEEP_EVERY if self.cgroup_procs is not None else FULL_LISTING_EVERY
        )
        listed = self._cgroup_pids() if self.cgroup_procs is not None else None
        if listed is not None:
            if sweep:
                self._sweep()
            return self._refresh_from_cgroup(listed)
        newest = last_pid()
        if not sweep and newest is not None and newest == self._listed_at_pid:
            with self.lock:
                return [m for m in self.members.values() if m.kind == "candidate"]
        if not HAS_CHILDREN:
            return self._list_proc()
        self._listed_at_pid = newest
        if sweep:
            self._since_listing = 0
        self._walk(everything=sweep)
        with self.lock:
            return [m for m in self.members.values() if m.kind == "candidate"]

    def _sweep(self) -> None:
        self._since_listing = 0
        if HAS_CHILDREN:
            self._walk(everything=True)
        else:
            self._list_proc()

    def _list_proc(self) -> list[Member]:
        newest = last_pid()
        try:
            listed = {int(n) for n in os.listdir("/proc") if n.isdigit()}
        except OSError:
            return []
        self._listed_at_pid, self._since_listing = newest, 0
        with self.lock:
            for pid in list(self.members):
                if pid not in listed:
                    del self.members[pid]
            self.strangers &= listed
            new = sorted(listed - self.strangers - self.members.keys())
            pending: dict[int, tuple[int, str, int, float, int]] = {}
            for pid in new:
                st = read_stat(pid)
                if st is not None:
                    pending[pid] = st
            # Parents usually have lower pids; loop until nothing more resolves.
            progress = True
            while pending and progress:
                progress = False
                for pid, st in list(pending.items()):
                    kind = self._kind_of_child(pid, st[0])
                    if kind is None and st[0] in pending:
                        continue
                    del pending[pid]
                    progress = True
                    if kind is None:
                        self.strangers.add(pid)
                    else:
                        self._add(Member(pid, st[0], st[2], kind, st[3], st[4]))
            self.strangers.update(pending)
            return [m for m in self.members.values() if m.kind == "candidate"]

    def _cgroup_pids(self) -> set[int] | None:
        assert self.cgroup_procs is not None
        try:
            return {int(n) for n in read_small(self.cgroup_procs).split()}
        except (OSError, ValueError):
            return None

    def _refresh_from_cgroup(self, listed: set[int]) -> list[Member]:
        """Members from the cgroup's list: every process in it is the run's (the namespace
        inits the supervisor announced are "ours"), those gone from it have ended."""
        with self.lock:
            for pid in self._in_cgroup - listed:
                self.members.pop(pid, None)
            for pid in sorted(listed - self.members.keys()):
                st = read_stat(pid)
                if st is None:
                    listed.discard(pid)
                    continue
                kind = self._kind_of_child(pid, st[0]) or "candidate"
                self.strangers.discard(pid)
                self._add(Member(pid, st[0], st[2], kind, st[3], st[4]))
            self._in_cgroup = listed
            return [m for m in self.members.values() if m.kind == "candidate"]

    def _walk(self, everything: bool) -> None:
        """Follow the children lists from the supervisor down. A process cannot leave this
        tree: orphans go to the nearest subreaper (the supervisor, a namespace's init, or one
        of the candidate's own), all inside it; one that forks and exits between two reads is
        found at the next look (its parent's exit changed the last pid). Not `everything`:
        only below the supervisor's own and the candidates' processes (where candidates
        appear), nothing dropped; `everything`: the trusted side too, and members that were
        not found (ended) are dropped, except those the cgroup lists."""
        with self.lock:
            sup, st = self.members.get(self.supervisor), read_stat(self.supervisor)
            if sup is None or st is None:
                return
            sup.threads = st[4]
            found = {self.supervisor}
            frontier = [sup]
            while frontier:
                below: list[Member] = []
                for parent in frontier:
                    for pid in children(parent.pid, parent.threads):
                        if pid in found:
                            continue
                        m = self.members.get(pid)
                        if m is not None and not everything:
                            found.add(pid)
                            if m.kind != "trusted":
                                below.append(m)
                            continue
                        st = read_stat(pid)
                        if st is None:
                            continue
                        found.add(pid)
                        if m is None or m.start != st[2]:
                            kind = self._kind_of_child(pid, st[0]) or "candidate"
                            m = Member(pid, st[0], st[2], kind, st[3], st[4])
                            self._add(m)
                            self.strangers.discard(pid)
                        m.threads = st[4]
                        if everything or m.kind != "trusted":
                            below.append(m)
                frontier = below
            if everything:
                for pid in list(self.members):
                    if pid not in found and pid not in self._in_cgroup:
                        del self.members[pid]

    def _kind_of_child(self, pid: int, ppid: int) -> str | None:
        if pid in self.roots:
            return self.roots[pid]
        parent = self.members.get(ppid)
        if parent is None:
            return None
        if ppid == self.supervisor:
            # Not a root it announced (yet): an orphan re-parented to the subreaper.
            return "candidate"
        return "candidate" if parent.kind == "ours" else parent.kind

    def all_members(self) -> list[tuple[int, int]]:
        """(pid, start) of every member alive at the last refresh, supervisor included."""
        with self.lock:
            return [(m.pid, m.start) for m in self.members.values()]


@dataclass
class Reading:
    """One sample of the candidates: what the monitor compares against the limits."""

    cpu_s: float
    memory_bytes: int
    tasks: int
    procs: int


def read_candidates(
    members: list[Member], precise: bool, shm: bool | None = None, rss: bool = True
) -> Reading:
    """CPU, memory and task count of candidate processes. `precise`: PSS (else RSS) plus shm
    objects held but not mapped; `shm` (default: as `precise`) scans for those objects with
    RSS too: RSS plus them bounds the precise figure from above, at a fraction of its cost.
    Without `rss` (and not `precise`), only CPU and tasks are read (memory_bytes is 0)."""
    shm = precise if shm is None else shm
    cpu = 0.0
    tasks = 0
    memory = 0
    held: dict[tuple[int, int], int] = {}
    mapped: set[int] = set()
    alive = 0
    for m in members:
        st = read_stat(m.pid)
        if st is None or st[2] != m.start or st[1] in ("Z", "X"):
            continue
        alive += 1
        m.cpu_s, m.threads = st[3], st[4]
        cpu += m.cpu_s
        tasks += m.threads
        if precise:
            memory += pss_bytes(m.pid)
        elif rss:
            memory += rss_bytes(m.pid)
        if shm:
            h, mp = shm_objects(m.pid)
            held.update(h)
            mapped |= mp
    memory += sum(size for (_, ino), size in held.items() if ino not in mapped)
    return Reading(cpu, memory, tasks, alive)


def is_alive(pid: int, start: int) -> bool:
    """The process (pid, start) still exists and is not a zombie."""
    st = read_stat(pid)
    return st is not None and st[2] == start and st[1] not in ("Z", "X")


def kill_verified(pid: int, start: int) -> bool:
    """SIGKILL the process (pid, start) if it is still that process; True if it was signalled.

    A pidfd pins the process first, so a recycled pid is never signalled by mistake.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        if start_ticks(pid) != start:
            return False
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            return True
        return False
    finally:
        os.close(pidfd)
