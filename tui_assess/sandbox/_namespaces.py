"""The namespaces mode, one isolation step per function (stdlib only; used by the supervisor).

The run: the supervisor unshares a user namespace (unless it is root) and a mount namespace,
and mounts one tmpfs of disk_mb on area/ and one on private/; the judge lives there too.

A candidate, built like bubblewrap builds a sandbox:

    supervisor ─ A ─ B (PID 1) ─ C (the program)
    A  unshares user, PID, network, IPC and UTS namespaces; the supervisor maps one uid
       (inner 1000 -> the runner's uid, or an unused uid when the runner is root)
    B  PID 1 of the new PID namespace: a new mount namespace, loopback up, a new root on
       tmpfs with read-only binds of what the program needs (site-packages masked), its own
       /tmp, /var/tmp, /dev/shm and $HOME from the run's area, a fresh /proc with the
       dangerous parts covered, a minimal /dev; then pivot_root. It stays as the namespace's
       init: when the program ends B ends, and the kernel kills whatever is left.
    C  takes the candidate uid, drops every capability, sets no_new_privs and the rlimits,
       and execs the program.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import selectors
import signal
import socket
import struct
import threading

import _isolate  # type: ignore[import-not-found]

# Annotations only: importing typing would cost the supervisor's start-up (mypy reads this).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC = 0x20, 0x1000, 0x4000
MS_PRIVATE, MS_SLAVE = 1 << 18, 1 << 19
MNT_DETACH = 2
SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC = 1, 0o2000000
AT_FDCWD, AT_EMPTY_PATH, AT_RECURSIVE = -100, 0x1000, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_IDMAP = 0x1, 0x100000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1

CANDIDATE_ID = 1000  # the candidate's uid and gid inside its user namespace
ROOT_RUN_UID = 2147483646  # the kernel uid candidates get when the runner is root (unused)
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")
PROC_COVERS = ("sys", "sysrq-trigger", "irq", "bus")


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def _b(path: str) -> bytes:
    return os.fsencode(path)


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


# -- the run ---------------------------------------------------------------------------------


def enter_run_namespaces(cfg: dict[str, Any]) -> None:
    """The supervisor's own namespaces and the run's two tmpfs mounts."""
    if cfg["is_root"]:
        unshare(CLONE_NEWNS)
        cfg["_idmap_fd"] = idmap_userns(ROOT_RUN_UID)
    else:
        uid, gid = os.getuid(), os.getgid()
        unshare(CLONE_NEWUSER | CLONE_NEWNS)
        map_ids("self", f"{uid} {uid} 1", f"{gid} {gid} 1", deny_setgroups=True)
    keep_mounts_to_ourselves()
    limits = cfg["limits"]
    disk_mb, files = int(limits["disk_mb"]), int(limits["files"])
    mount_tmpfs(cfg["area"], size_mb=disk_mb, mode=0o755, inodes=files)
    mount_tmpfs(cfg["private"], size_mb=0, mode=0o700, inodes=0)


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def map_ids(pid: str, uid_map: str, gid_map: str, deny_setgroups: bool) -> None:
    """Write a user namespace's uid and gid maps (setgroups denied when unprivileged)."""
    if deny_setgroups:
        try:
            _write(f"/proc/{pid}/setgroups", "deny")
        except FileNotFoundError:
            pass
    _write(f"/proc/{pid}/uid_map", uid_map)
    _write(f"/proc/{pid}/gid_map", gid_map)


def keep_mounts_to_ourselves() -> None:
    """Mounts made from now on never propagate back to the parent namespace."""
    _check(_libc.mount(None, b"/", None, MS_REC | MS_SLAVE, None), "make / a slave")


def mount_tmpfs(path: str, size_mb: int, mode: int, inodes: int, flags: int = 0) -> None:
    opts = f"mode={mode:o}"
    if size_mb:
        opts += f",size={size_mb}m"
    if inodes:
        opts += f",nr_inodes={inodes}"
    _check(
        _libc.mount(b"tmpfs", _b(path), b"tmpfs", MS_NOSUID | MS_NODEV | flags, opts.encode()),
        f"mount tmpfs on {path}",
    )


def idmap_userns(outer_uid: int) -> int:
    """A user namespace mapping 0 to `outer_uid`: idmapped binds through it show root-owned
    files as owned by that uid (and store its files as root's). Root only."""
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    hold_r, hold_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            os.close(hold_w)
            unshare(CLONE_NEWUSER)
            os.write(ready_w, b"u")
            os.read(hold_r, 1)  # kept alive until its namespace has been opened
        finally:
            os._exit(0)
    try:
        if os.read(ready_r, 1) != b"u":
            raise _isolate.SetupError("a helper process could not make a user namespace")
        map_ids(str(pid), f"0 {outer_uid} 1", f"0 {outer_uid} 1", deny_setgroups=True)
        return os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        for fd in (ready_r, ready_w, hold_r, hold_w):
            os.close(fd)
        os.waitpid(pid, 0)


def idmapped_tree(path: str, userns_fd: int) -> int:
    """A detached copy of the mount at `path`, idmapped through `userns_fd` (root only)."""
    fd = _check(
        _libc.syscall(
            SYS_OPEN_TREE, AT_FDCWD, _b(path), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE
        ),
        f"open_tree {path}",
    )
    attr = ctypes.create_string_buffer(struct.pack("QQQQ", MOUNT_ATTR_IDMAP, 0, 0, userns_fd))
    try:
        _check(
            _libc.syscall(SYS_MOUNT_SETATTR, fd, b"", AT_EMPTY_PATH | AT_RECURSIVE, attr, 32),
            f"idmap {path}",
        )
    except OSError:
        os.close(fd)
        raise
    return fd


# -- one candidate ---------------------------------------------------------------------------


def launch_in_namespaces(plan: Any, forwards: list[int], relay_fd: int) -> Any:
    """Start one candidate (A, B, C above); returns _isolate.Launched."""
    cfg = plan.cfg
    view = build_view(plan)
    view.make_nested_mountpoints(cfg["area"])
    trees: dict[str, int] = {}
    try:
        if cfg["is_root"]:
            for target, source in view.writable():
                trees[target] = idmapped_tree(source, cfg["_idmap_fd"])
    except OSError:
        for fd in trees.values():
            os.close(fd)
        raise
    c2p_r, c2p_w = os.pipe2(os.O_CLOEXEC)
    p2c_r, p2c_w = os.pipe2(os.O_CLOEXEC)
    st_r, st_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    a = os.fork()
    if a == 0:
        try:
            os.close(c2p_r)
            os.close(p2c_w)
            os.close(st_r)
            os.close(err_r)
            candidate_a(plan, view, trees, forwards, relay_fd, c2p_w, p2c_r, st_w, err_w)
        except BaseException as exc:  # noqa: BLE001 - report any failure, then die
            _report(err_w, exc)
        os._exit(_isolate.SETUP_FAILED)
    for fd in (c2p_w, p2c_r, st_w, err_w, *trees.values()):
        os.close(fd)
    try:
        lines = _Lines(c2p_r)
        netns_fd = -1
        if lines.next() == "u":
            # A waits for its map here: its network namespace (the candidate's) is open to us
            # now, whereas B and C may be gone by the end of a short-lived program.
            netns_fd = os.open(f"/proc/{a}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            if cfg["is_root"]:
                ids = f"{CANDIDATE_ID} {ROOT_RUN_UID} 1"
                map_ids(str(a), ids, ids, deny_setgroups=False)
            else:
                uid, gid = os.getuid(), os.getgid()
                uid_map, gid_map = f"{CANDIDATE_ID} {uid} 1", f"{CANDIDATE_ID} {gid} 1"
                map_ids(str(a), uid_map, gid_map, deny_setgroups=True)
            os.write(p2c_w, b"m")
        said = {}
        for _ in range(2):
            line = lines.next()
            if line[:2] in ("b ", "c "):
                said[line[0]] = int(line[2:])
        error = _read_all(err_r)
        if error or set(said) != {"b", "c"}:
            _reap(a)
            raise _isolate.SetupError(
                f"could not start {plan.spec['argv'][0]}: {error or 'the sandbox set-up died'}"
            )
    except BaseException:
        os.close(st_r)
        if netns_fd >= 0:
            os.close(netns_fd)
        raise
    finally:
        for fd in (c2p_r, p2c_w, err_r):
            os.close(fd)
    return _isolate.Launched(a, said["c"], said["b"], st_r, netns_fd)


class _Lines:
    """Newline-separated messages from a pipe (the set-up steps of A, B and C)."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buf = fd, b""

    def next(self) -> str:
        while b"\n" not in self.buf:
            data = os.read(self.fd, 256)
            if not data:
                return ""
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def _read_all(fd: int) -> str:
    chunks: list[bytes] = []
    while True:
        data = os.read(fd, 4096)
        if not data:
            return b"".join(chunks).decode(errors="replace")
        chunks.append(data)


def _reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _report(fd: int, exc: BaseException) -> None:
    try:
        os.write(fd, f"{type(exc).__name__}: {exc}".encode()[:4000])
    except OSError:
        pass


def candidate_a(
    plan: Any,
    view: View,
    trees: dict[str, int],
    forwards: list[int],
    relay_fd: int,
    c2p: int,
    p2c: int,
    st: int,
    err: int,
) -> None:
    """A: new user, PID, network, IPC, UTS namespaces; waits for its map; forks B; waits."""
    _isolate.reset_signals()
    os.setsid()
    _isolate.prctl(_isolate.PR_SET_PDEATHSIG, signal.SIGKILL)
    _isolate.join_cgroups(plan.cfg.get("cgroup_procs", []))
    # The new root's tmpfs belongs to the run's namespace (mounted before the candidate's user
    # namespace exists), so B can fill it as the runner's uid, which that namespace does not map.
    unshare(CLONE_NEWNS)
    keep_mounts_to_ourselves()
    mount_root_tmpfs(plan.cfg["newroot"])
    unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
    os.write(c2p, b"u\n")
    if os.read(p2c, 1) != b"m":
        raise _isolate.SetupError("the supervisor did not map the candidate's uid")
    b = os.fork()
    if b == 0:
        try:
            candidate_b(plan, view, trees, forwards, relay_fd, c2p, st, err)
        except BaseException as exc:  # noqa: BLE001
            _report(err, exc)
        os._exit(_isolate.SETUP_FAILED)
    os.write(c2p, f"b {b}\n".encode())
    # A only waits: it dies with the supervisor, and B (PID 1) dies with A.
    _isolate.arrange_fds({}, [])
    while True:
        try:
            _, status = os.waitpid(b, 0)
            break
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def candidate_b(
    plan: Any,
    view: View,
    trees: dict[str, int],
    forwards: list[int],
    relay_fd: int,
    c2p: int,
    st: int,
    err: int,
) -> None:
    """B: PID 1. Builds the new root, lets C go, then reaps until C ends."""
    _isolate.prctl(_isolate.PR_SET_PDEATHSIG, signal.SIGKILL)
    unshare(CLONE_NEWNS)
    keep_mounts_to_ourselves()
    loopback_up()
    sethostname("sandbox")
    for port in forwards:
        hand_listener_to_relay(relay_fd, port)
    go_r, go_w = os.pipe2(os.O_CLOEXEC)
    said_r, said_w = os.pipe2(os.O_CLOEXEC)
    c = os.fork()
    if c == 0:
        try:
            os.close(go_w)
            os.close(said_r)
            candidate_c(plan, c2p, said_w, go_r, err)
        except BaseException as exc:  # noqa: BLE001
            _report(err, exc)
        os._exit(_isolate.SETUP_FAILED)
    os.close(go_r)
    os.close(said_w)
    try:
        # C must read its pid from the parent's /proc before the pivot replaces it.
        if os.read(said_r, 1) != b"s":
            raise _isolate.SetupError("the candidate process died while starting")
        os.close(said_r)
        build_root(plan.cfg, view, trees)
    except BaseException:
        os.kill(c, signal.SIGKILL)
        raise
    os.write(go_w, b"g")
    # From here B only reaps: every fd but the status pipe is closed, so the candidate's
    # output pipe reaches end-of-file exactly when the candidate's processes are gone.
    st = _isolate.arrange_fds({}, [st])[0]
    status = 0
    while True:
        try:
            pid, wstatus = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == c:
            status = wstatus
            break
    rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    os.write(st, f"{rc}\n".encode())
    os._exit(0)


def candidate_c(plan: Any, c2p: int, said: int, go: int, err: int) -> None:
    """C: reports its pid as the runner sees it, waits for its root, becomes the program."""
    # /proc is still the parent's (B waits for `said` before it pivots): /proc/self names
    # this process as the runner sees it.
    outer = int(os.readlink("/proc/self"))
    os.write(c2p, f"c {outer}\n".encode())
    os.write(said, b"s")
    os.close(said)
    if os.read(go, 1) != b"g":
        os._exit(_isolate.SETUP_FAILED)
    os.close(go)
    os.close(c2p)
    _isolate.reset_signals()
    os.setsid()
    cfg = plan.cfg
    become_candidate_user(cfg["is_root"])
    _isolate.drop_capabilities()
    _isolate.no_new_privs()
    err = _isolate.arrange_fds(plan.mapping, [err])[0]
    try:
        if plan.has_tty:
            _isolate.take_terminal(0)
        _isolate.apply_rlimits(cfg["limits"], _isolate.nproc_limit(cfg))
        os.chdir(plan.spec["cwd"])
        os.execve(plan.program, list(plan.spec["argv"]), plan.env)
    except BaseException as exc:  # noqa: BLE001 - the error pipe moved: report through it
        _report(err, exc)
        os._exit(_isolate.SETUP_FAILED)


def become_candidate_user(is_root: bool) -> None:
    """The candidate's uid and gid inside its namespace; no supplementary groups."""
    if is_root:
        os.setgroups([])
    os.setresgid(CANDIDATE_ID, CANDIDATE_ID, CANDIDATE_ID)
    os.setresuid(CANDIDATE_ID, CANDIDATE_ID, CANDIDATE_ID)


def loopback_up() -> None:
    """The new network namespace's loopback, up: 127.0.0.1 works, nothing else exists."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sh22x", b"lo", 0))
        flags = struct.unpack("16sh", ifr[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | IFF_UP))


def sethostname(name: str) -> None:
    data = name.encode()
    _check(_libc.sethostname(data, len(data)), "sethostname")


# -- the candidate's view of the file system -------------------------------------------------


class View:
    """What the candidate's new root holds, as (target path, operation) steps."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, str, Any]] = []

    def add(self, target: str, op: str, arg: Any = None) -> None:
        self.steps.append((os.path.normpath(target), op, arg))

    def ordered(self) -> list[tuple[str, str, Any]]:
        """Parents before children: /tmp before a folder bound somewhere below it."""
        return sorted(self.steps, key=lambda s: s[0].count("/") if s[0] != "/" else 0)

    def writable(self) -> list[tuple[str, str]]:
        return [(t, a) for t, op, a in self.steps if op == "bind-rw"]

    def make_nested_mountpoints(self, own: str) -> None:
        """Create the mountpoints of nested steps in the source folders of their parents.

        The run folder's path is a read-only skeleton (a folder of the candidate's own under
        `own`) holding only the mountpoints of the run's binds, itself mounted inside the
        candidate's /tmp. The supervisor makes them up front: through an idmapped bind (root
        runs) only the candidate's uid could.
        """
        binds = [(t, a) for t, op, a in self.steps if op in ("bind-ro", "bind-rw")]
        binds.sort(key=lambda s: -len(s[0]))
        for target, op, arg in self.steps:
            for parent, source in binds:
                if target == parent or not target.startswith(parent.rstrip("/") + "/"):
                    continue
                inside = source + target[len(parent) :]
                if not os.path.lexists(inside):
                    if not source.startswith(own):
                        raise _isolate.SetupError(f"{target} cannot be mounted inside {parent}")
                    if op in ("bind-ro", "bind-rw") and not os.path.isdir(arg):
                        os.makedirs(os.path.dirname(inside), exist_ok=True)
                        with open(inside, "w"):
                            pass
                    else:
                        os.makedirs(inside, exist_ok=True)
                break


def build_view(plan: Any) -> View:
    """Everything the candidate sees: read-only system, its own writable folders."""
    cfg, spec, dirs = plan.cfg, plan.spec, plan.dirs
    sys_view = cfg["view"]
    v = View()
    for path in sys_view["system"]:
        if os.path.islink(path):
            v.add(path, "symlink", os.readlink(path))
        elif os.path.isdir(path):
            v.add(path, "bind-ro", path)
    for path in sys_view["etc"]:
        if os.path.islink(path):
            v.add(path, "symlink", os.readlink(path))
        elif os.path.exists(path):
            v.add(path, "bind-ro", path)
    v.add("/etc/passwd", "file", etc_passwd(dirs["home"]))
    v.add("/etc/group", "file", f"root:x:0:\ncandidate:x:{CANDIDATE_ID}:\nnogroup:x:65534:\n")
    v.add("/etc/hosts", "file", "127.0.0.1 localhost sandbox\n::1 localhost sandbox\n")
    v.add("/etc/hostname", "file", "sandbox\n")
    for path in sys_view["masks"]:
        v.add(path, "mask")
    v.add(cfg["bin_dir"], "bind-ro", cfg["bin_dir"])
    v.add(cfg["run_dir"], "bind-ro", dirs["skeleton"])
    v.add("/tmp", "bind-rw", dirs["tmp"])
    v.add("/var/tmp", "bind-rw", dirs["tmp"])
    v.add(dirs["home"], "bind-rw", dirs["home"])
    v.add("/dev", "dev")
    v.add("/dev/shm", "bind-rw", dirs["shm"])
    for path in spec.get("rw", []):
        v.add(path, "bind-rw", path)
    for path in spec.get("ro", []):
        v.add(path, "bind-ro", path)
    v.add("/proc", "proc")
    return v


def etc_passwd(home: str) -> str:
    return (
        "root:x:0:0:root:/root:/bin/sh\n"
        f"candidate:x:{CANDIDATE_ID}:{CANDIDATE_ID}:candidate:{home}:/bin/bash\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )


def build_root(cfg: dict[str, Any], view: View, trees: dict[str, int]) -> None:
    """Mount the view on a new tmpfs root, then pivot_root into it (old root detached)."""
    root = cfg["newroot"]
    # The tmpfs came from the run's namespace, so here it is locked, and pivot_root refuses a
    # locked mount: a bind of it made in this namespace is not.
    _check(_libc.mount(_b(root), _b(root), None, MS_BIND | MS_REC, None), "bind the new root")
    for target, op, arg in view.ordered():
        place = root + target
        if op == "symlink":
            os.makedirs(os.path.dirname(place), exist_ok=True)
            os.symlink(arg, place)
        elif op == "file":
            os.makedirs(os.path.dirname(place), exist_ok=True)
            with open(place, "w") as f:
                f.write(arg)
        elif op in ("bind-ro", "bind-rw"):
            if target in trees:
                _mountpoint(place, is_dir=True)
                move_tree(trees[target], place)
            else:
                bind(arg, place, read_only=op == "bind-ro")
        elif op == "mask":
            _mountpoint(place, is_dir=True)
            mount_tmpfs(place, size_mb=1, mode=0o755, inodes=16, flags=MS_RDONLY)
        elif op == "dev":
            make_dev(place)
        elif op == "proc":
            mount_proc(place)
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
    _check(_libc.mount(None, _b(root), None, flags, None), "make the new root read-only")
    pivot_into(root)


def mount_root_tmpfs(root: str) -> None:
    """The new root and its /dev, each a small tmpfs (filled by B, then made read-only)."""
    mount_tmpfs(root, size_mb=4, mode=0o755, inodes=0)
    os.mkdir(f"{root}/dev", 0o755)
    flags, opts = MS_NOSUID | MS_NOEXEC, b"mode=755,size=64k"
    _check(_libc.mount(b"tmpfs", _b(f"{root}/dev"), b"tmpfs", flags, opts), "mount /dev")


def _mountpoint(place: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(place, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(place), exist_ok=True)
        if not os.path.exists(place):
            with open(place, "w"):
                pass


def bind(source: str, place: str, read_only: bool) -> None:
    """Bind `source` at `place` (with everything mounted below it); read-only if asked."""
    _mountpoint(place, is_dir=os.path.isdir(source))
    _check(_libc.mount(_b(source), _b(place), None, MS_BIND | MS_REC, None), f"bind {source}")
    if read_only:
        make_read_only(place)


def make_read_only(place: str) -> None:
    """Read-only, recursively; other flags (nosuid, nodev: locked in a user namespace) kept."""
    attr = ctypes.create_string_buffer(struct.pack("QQQQ", MOUNT_ATTR_RDONLY, 0, 0, 0))
    _check(
        _libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, _b(place), AT_RECURSIVE, attr, 32),
        f"make {place} read-only",
    )


def move_tree(fd: int, place: str) -> None:
    _check(
        _libc.syscall(SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, _b(place), MOVE_MOUNT_F_EMPTY_PATH),
        f"mount an idmapped folder on {place}",
    )
    os.close(fd)


def make_dev(place: str) -> None:
    """A minimal /dev (on its tmpfs from mount_root_tmpfs): a few device nodes, bound since a
    user namespace cannot mknod, a new devpts instance, and the usual links."""
    for node in DEV_NODES:
        if os.path.exists(f"/dev/{node}"):
            bind(f"/dev/{node}", f"{place}/{node}", read_only=False)
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{i}", f"{place}/{name}")
    os.symlink("/proc/self/fd", f"{place}/fd")
    os.mkdir(f"{place}/pts")
    _check(
        _libc.mount(
            b"devpts", _b(f"{place}/pts"), b"devpts", MS_NOSUID | MS_NOEXEC,
            b"newinstance,ptmxmode=0666,mode=620",
        ),
        "mount /dev/pts",
    )
    os.symlink("pts/ptmx", f"{place}/ptmx")


def mount_proc(place: str) -> None:
    """A fresh /proc for the new PID namespace, its kernel knobs covered read-only, and no
    more user namespaces for anything in it (so no way around the read-only mounts)."""
    _mountpoint(place, is_dir=True)
    _check(
        _libc.mount(b"proc", _b(place), b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
        "mount /proc",
    )
    _write(f"{place}/sys/user/max_user_namespaces", "0")
    for name in PROC_COVERS:
        path = f"{place}/{name}"
        if os.path.exists(path):
            _check(_libc.mount(_b(path), _b(path), None, MS_BIND | MS_REC, None), f"cover {path}")
            make_read_only(path)


def pivot_into(root: str) -> None:
    """The new root becomes / for this mount namespace; the old one is detached."""
    os.chdir(root)
    _check(_libc.syscall(155, b".", b"."), "pivot_root")  # SYS_pivot_root on x86_64
    _check(_libc.umount2(b".", MNT_DETACH), "detach the old root")
    os.chdir("/")


# -- port forwarding -------------------------------------------------------------------------


def hand_listener_to_relay(relay_fd: int, port: int) -> None:
    """Listen on 127.0.0.1:port in this network namespace; the relay accepts for us."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(64)
        socket.send_fds(
            socket.socket(fileno=os.dup(relay_fd)), [str(port).encode()], [s.fileno()]
        )


def listener_in(netns_fd: int, port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:port inside another network namespace.

    Made on a short-lived thread: the network namespace is per thread, and an unprivileged
    supervisor may enter a candidate's but not return to the machine's.
    """
    made: list[Any] = []

    def enter_and_listen() -> None:
        try:
            _check(_libc.setns(netns_fd, CLONE_NEWNET), "enter a candidate's network")
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen(64)
            made.append(s)
        except OSError as exc:
            made.append(exc)

    thread = threading.Thread(target=enter_and_listen)
    thread.start()
    thread.join()
    if isinstance(made[0], OSError):
        raise made[0]
    return made[0]  # type: ignore[no-any-return]


class TcpRelay:
    """A process that accepts on listeners inside candidates' network namespaces and relays
    each connection to the same port on the judge's 127.0.0.1 (threads; it never forks)."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid, self.sock = pid, sock

    @classmethod
    def start(cls) -> TcpRelay:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                _isolate.reset_signals()
                # A peer that has gone must be an error on that connection, not the relay's
                # death: with SIGPIPE at its default, the first write to a connection the
                # candidate had closed (a slow answer arriving after its timeout) killed the
                # relay, and every judge-side server after it was unreachable.
                signal.signal(signal.SIGPIPE, signal.SIG_IGN)
                _isolate.prctl(_isolate.PR_SET_PDEATHSIG, signal.SIGKILL)
                keep = _isolate.arrange_fds({}, [theirs.fileno()])
                relay_main(socket.socket(fileno=keep[0]))
            finally:
                os._exit(0)
        theirs.close()
        return cls(pid, mine)

    def listen_in(self, netns_fd: int, port: int) -> None:
        s = listener_in(netns_fd, port)
        try:
            socket.send_fds(self.sock, [str(port).encode()], [s.fileno()])
        finally:
            s.close()

    def stop(self) -> None:
        self.sock.close()
        _reap(self.pid)


def relay_main(ctl: socket.socket) -> None:
    while True:
        data, fds, _, _ = socket.recv_fds(ctl, 64, 4)
        if not data:
            return
        for fd in fds:
            listener = socket.socket(fileno=fd)
            port = int(data.decode())
            threading.Thread(target=_accept_loop, args=(listener, port), daemon=True).start()


def _accept_loop(listener: socket.socket, port: int) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_pipe_pair, args=(conn, port), daemon=True).start()


def _pipe_pair(conn: socket.socket, port: int) -> None:
    try:
        upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        conn.close()
        return
    upstream.settimeout(None)
    sel = selectors.DefaultSelector()
    sel.register(conn, selectors.EVENT_READ, upstream)
    sel.register(upstream, selectors.EVENT_READ, conn)
    open_ends = 2
    with conn, upstream:
        while open_ends:
            for key, _ in sel.select():
                src: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                if data:
                    try:
                        key.data.sendall(data)
                    except OSError:
                        return
                    continue
                sel.unregister(src)
                open_ends -= 1
                try:
                    key.data.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
