"""Isolation steps, one small function each (stdlib only; used by the supervisor).

Each function does one thing to the calling process (or to a child it is about to exec) and
raises SetupError or OSError when the kernel refuses. tests/test_sandbox_*.py proves, step by
step, that what a step promises holds.
"""

from __future__ import annotations

import ctypes
import fcntl
import math
import os
import resource
import signal
import termios
import time

# Annotations only: importing typing would cost the supervisor's start-up (mypy reads this).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# libc through the already-loaded C library: ctypes.util.find_library would spawn ldconfig.
_libc = ctypes.CDLL(None, use_errno=True)

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
# noroot, no_setuid_fixup, keep_caps (off), no_cap_ambient_raise: each set and locked.
SECUREBITS_LOCKED_DOWN = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80
SETUP_FAILED = 125
HIGH_FD = 200


class SetupError(Exception):
    """A sandbox step failed; the message is one plain sentence."""


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), 0, 0), "prctl")


# -- the supervisor itself -------------------------------------------------------------------


def die_with_parent(parent_pid: int) -> None:
    """SIGTERM this process when the runner dies (and exit now if it already has).

    SIGTERM, not SIGKILL: the supervisor's loop answers it by killing every process of the
    run first; a candidate's double-forked daemon would not die with it on its own.
    """
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:
        os._exit(SETUP_FAILED)


def become_subreaper() -> None:
    """Orphaned descendants are re-parented to this process instead of to init."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def enter_run(cfg: dict[str, Any]) -> None:
    """Mode-specific set-up of the supervisor before it serves requests."""
    if cfg["mode"] == "namespaces":
        try:
            from _namespaces import enter_run_namespaces  # type: ignore[import-not-found]
        except ImportError as exc:
            raise SetupError(f"the namespaces mode cannot load: {exc}") from exc
        enter_run_namespaces(cfg)
    elif cfg["mode"] == "landlock":
        try:
            from _landlock import check_abi  # type: ignore[import-not-found]
        except ImportError as exc:
            raise SetupError(f"the landlock mode cannot load: {exc}") from exc
        check_abi()


# -- file descriptors ------------------------------------------------------------------------


def free_fd_number(taken: list[int]) -> int:
    """The lowest fd number >= 3 that is not in `taken`."""
    n = 3
    while n in taken:
        n += 1
    return n


def arrange_fds(mapping: dict[int, int], keep: list[int]) -> list[int]:
    """Make each fd `target` a copy of `source`, close every other fd except `keep`.

    Sources are first copied above every target so no dup2 clobbers one still needed; `keep`
    fds move up too (close-on-exec) and their new numbers are returned.
    """
    base = max([HIGH_FD, *mapping.keys()]) + 1
    moved = {t: fcntl.fcntl(s, fcntl.F_DUPFD_CLOEXEC, base) for t, s in mapping.items()}
    kept = [fcntl.fcntl(k, fcntl.F_DUPFD_CLOEXEC, base) for k in keep]
    for target, source in moved.items():
        os.dup2(source, target, inheritable=True)
    keep_set = sorted(set(mapping) | set(kept))
    low = 0
    for fd in keep_set:
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)
    return kept


# -- starting a process ----------------------------------------------------------------------


def resolve_program(argv0: str, env: dict[str, str], python: str) -> str:
    """argv[0] as a path: "python"/"python3" is the candidates' interpreter; else PATH."""
    if argv0 in ("python", "python3"):
        return python
    if "/" in argv0:
        return argv0
    for folder in env.get("PATH", "/usr/bin:/bin").split(":"):
        path = os.path.join(folder or ".", argv0)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    raise SetupError(f"program {argv0!r} not found on the sandbox's PATH")


def fork_exec(
    prepare: Callable[[], None],
    mapping: dict[int, int],
    finish: Callable[[], None],
    argv: list[str],
    env: dict[str, str],
    cwd: str,
    program: str,
) -> int:
    """Fork; in the child run prepare(), arrange fds, finish(), then exec. Returns the pid.

    Any failure before exec comes back as SetupError with the child's own words (read from a
    close-on-exec pipe that reaches end-of-file exactly when exec succeeds).
    """
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        code = SETUP_FAILED
        try:
            os.close(err_r)
            prepare()
            err_w = arrange_fds(mapping, [err_w])[0]
            finish()
            os.chdir(cwd)
            os.execve(program, argv, env)
        except BaseException as exc:  # noqa: BLE001 - report any failure to start
            try:
                os.write(err_w, f"{type(exc).__name__}: {exc}".encode()[:4000])
            finally:
                os._exit(code)
    os.close(err_w)
    chunks = []
    while True:
        try:
            data = os.read(err_r, 4096)
        except InterruptedError:
            continue
        if not data:
            break
        chunks.append(data)
    os.close(err_r)
    if chunks:
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
        raise SetupError(f"could not start {argv[0]}: {b''.join(chunks).decode(errors='replace')}")
    return pid


def reset_signals() -> None:
    """Default dispositions and an empty mask: what a freshly started program expects."""
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def trusted_child() -> None:
    """The judge's set-up: its own session, dies with the supervisor."""
    reset_signals()
    os.setsid()
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# -- candidate processes ---------------------------------------------------------------------


def candidate_dirs(cfg: dict[str, Any], name: str) -> dict[str, str]:
    """The candidate's private /tmp, $HOME and /dev/shm, carved from the run's area."""
    if not name or "/" in name or name.startswith("."):
        raise SetupError(f"{name!r} is not a usable candidate name")
    base = os.path.join(cfg["area"], f"cand-{name}")
    dirs = {k: os.path.join(base, k) for k in ("tmp", "home", "shm")}
    if cfg["mode"] == "namespaces":
        # The run folder's path as the candidate sees it: only the mountpoints of its binds.
        skeleton = os.path.join(base, "skeleton")
        os.makedirs(skeleton, mode=0o755, exist_ok=True)
        dirs["skeleton"] = skeleton
    for path in dirs.values():
        os.makedirs(path, mode=0o700, exist_ok=True)
        if cfg.get("cand_uid") is not None:
            os.chown(path, cfg["cand_uid"], cfg["cand_uid"])
            os.chown(base, cfg["cand_uid"], cfg["cand_uid"])
    return dirs


class CandidatePlan:
    """Everything one candidate's start needs, computed in the supervisor before fork."""

    def __init__(
        self,
        cfg: dict[str, Any],
        spec: dict[str, Any],
        dirs: dict[str, str],
        mapping: dict[int, int],
        has_tty: bool,
    ) -> None:
        self.cfg, self.spec, self.dirs = cfg, spec, dirs
        self.mapping, self.has_tty = mapping, has_tty
        env = {
            "PATH": f"{cfg['bin_dir']}:/usr/local/bin:/usr/bin:/bin",
            "HOME": dirs["home"],
            # namespaces: its tmp is mounted at /tmp; elsewhere it is the folder itself.
            "TMPDIR": "/tmp" if cfg["mode"] == "namespaces" else dirs["tmp"],
            "LANG": "C.UTF-8",
        }
        if has_tty:
            env["TERM"] = "xterm-256color"
        env.update({str(k): str(v) for k, v in spec.get("env", {}).items()})
        self.env = env
        self.program = resolve_program(spec["argv"][0], env, cfg["python"])


class Launched:
    """A started candidate: the supervisor's child, and the pid callers see."""

    def __init__(
        self, pid: int, shown_pid: int, ns_pid: int = 0, status_fd: int = -1, netns_fd: int = -1
    ) -> None:
        self.pid = pid  # the supervisor's child (what waitpid returns)
        self.shown_pid = shown_pid  # the program's pid, as the runner and the judge see it
        self.ns_pid = ns_pid
        self.status_fd = status_fd
        self.netns_fd = netns_fd


def launch_candidate(plan: CandidatePlan, forwards: list[int], relay_fd: int) -> Launched:
    mode = plan.cfg["mode"]
    if mode == "namespaces":
        from _namespaces import launch_in_namespaces  # type: ignore[import-not-found]

        return launch_in_namespaces(plan, forwards, relay_fd)  # type: ignore[no-any-return]
    pid = fork_exec(
        lambda: prepare_candidate(plan),
        plan.mapping,
        lambda: finish_candidate(plan),
        list(plan.spec["argv"]),
        plan.env,
        plan.spec["cwd"],
        plan.program,
    )
    return Launched(pid, pid)


def prepare_candidate(plan: CandidatePlan) -> None:
    """Before the fds are arranged: signals, session, die-with-parent, cgroups."""
    reset_signals()
    os.setsid()
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    join_cgroups(plan.cfg.get("cgroup_procs", []))


def finish_candidate(plan: CandidatePlan) -> None:
    """After the fds are arranged, just before exec: terminal, limits, privileges."""
    if plan.has_tty:
        take_terminal(0)
    apply_rlimits(plan.cfg["limits"], nproc_limit(plan.cfg))
    if plan.cfg["is_root"]:
        drop_capabilities()
    no_new_privs()  # Landlock requires it of an unprivileged process
    if plan.cfg["mode"] == "landlock":
        from _landlock import restrict_candidate  # type: ignore[import-not-found]

        restrict_candidate(plan)


def take_terminal(fd: int) -> None:
    """Make the pty on `fd` this (new session's) controlling terminal."""
    fcntl.ioctl(fd, termios.TIOCSCTTY, 0)


def join_cgroups(procs_files: list[str]) -> None:
    """Move this process into the run's cgroups (pids, memory): everything it starts follows."""
    for path in procs_files:
        with open(path, "w") as f:
            f.write(str(os.getpid()))


def apply_rlimits(limits: dict[str, Any], nproc: int | None) -> None:
    """rlimits for the candidate; inherited by everything it starts."""
    cpu = math.ceil(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    data = max(int(limits["memory_mb"]), 256) * 2 * 2**20
    resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    fsize = int(limits["disk_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    files = int(limits["open_files"])
    if hard != resource.RLIM_INFINITY:
        files = min(files, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if nproc is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    os.nice(5)


def nproc_limit(cfg: dict[str, Any]) -> int | None:
    """RLIMIT_NPROC for a candidate: None as root (root is exempt; cgroups count instead).

    In namespaces mode the kernel counts the candidate's own user namespace: the run's limit
    plus its init. Otherwise it counts every task of this user, so today's count is added.
    """
    processes = int(cfg["limits"]["processes"])
    if cfg["is_root"]:
        return None
    if cfg["mode"] == "namespaces":
        return processes + 3
    return user_tasks(os.getuid()) + processes + 2


def user_tasks(uid: int) -> int:
    """Processes and threads this user runs now: RLIMIT_NPROC counts them all."""
    count = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid != uid:
                continue
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            count += int(stat[stat.rfind(b")") + 2 :].split()[17])
        except (OSError, ValueError, IndexError):
            continue
    return count


def no_new_privs() -> None:
    """No setuid, setgid or file-capability gains through exec, ever again."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def cap_last() -> int:
    with open("/proc/sys/kernel/cap_last_cap") as f:
        return int(f.read())


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities() -> None:
    """No capability, now or after exec: bounding and ambient sets emptied, root locked out.

    Securebits are set and locked first, so uid 0 gains nothing from exec either.
    """
    prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED_DOWN)
    for cap in range(cap_last() + 1):
        prctl(PR_CAPBSET_DROP, cap)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


# -- ending processes ------------------------------------------------------------------------


def parents() -> dict[int, int]:
    """pid -> ppid for every process, from one pass over /proc."""
    out: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            out[int(name)] = int(stat[stat.rfind(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return out


def tree(roots: list[int], ppid_of: dict[int, int]) -> list[int]:
    """Every process below `roots` (roots excluded), parents before children."""
    children: dict[int, list[int]] = {}
    for pid, ppid in ppid_of.items():
        children.setdefault(ppid, []).append(pid)
    out: list[int] = []
    frontier = list(roots)
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, ())]
        out.extend(frontier)
    return out


def kill_trees(
    roots: list[int], deadline_s: float, reap: Callable[[], None], spare_root: bool = False
) -> None:
    """SIGKILL the roots and everything below them until nothing is left (bounded).

    Orphans come back to the supervisor (a subreaper), so one more pass finds them. `reap`
    collects the dead (the supervisor's, which reports each exit it files).
    """
    end = time.monotonic() + deadline_s
    roots = list(roots)
    while time.monotonic() < end:
        below = tree(roots, parents())
        # Zombies are dead already: reaping them is their parents' (or our) business.
        victims = [p for p in (below if spare_root else roots + below) if _alive(p)]
        if not victims:
            return
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        reap()
        time.sleep(0.002)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] not in (b"Z", b"X")


def read_program_status(fd: int, fallback: int) -> int:
    """The return code the candidate's init wrote for its program (namespaces mode)."""
    try:
        data = os.read(fd, 64)
    except OSError:
        return fallback
    try:
        return int(data.decode().strip())
    except ValueError:
        return fallback


def remove_run_dir(cfg: dict[str, Any]) -> None:
    """Remove the run folder when the runner cannot (it died): the run's own tmpfs mounts first."""
    import shutil

    for path in (cfg["area"], cfg["private"]):
        _libc.umount2(os.fsencode(path), 2)  # MNT_DETACH; fails harmlessly outside namespaces
    shutil.rmtree(cfg["run_dir"], ignore_errors=True)
