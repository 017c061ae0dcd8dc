"""Sandbox supervisor: runs one command inside the run's boundaries, then leaves nothing behind.

Started by the runner as `python _supervisor.py CONFIG_JSON` (stdlib only, run as a script, so
it needs nothing importable). Two modes:

namespaces  unshare(user, pid, net, mount): the command runs under a fresh PID 1 ("init") in a
            new PID namespace with its own /proc and a network namespace holding only a
            loopback interface. When init exits the kernel kills every process left in the
            namespace: nothing can escape, setsid() or not.
rlimits     the supervisor becomes a child subreaper, so orphaned (setsid'ed, double-forked)
            descendants are re-parented to it, and sweeps its whole subtree with SIGKILL when
            the command ends. No network isolation.

In both modes the command gets rlimits (CPU, data size, processes, file size, no core dumps)
and runs at lower priority, and the supervisor can join a cgroup (pids/memory) first.

Exit status: the command's exit code, or 128+N when a signal N killed it; 125 when the
sandbox could not be set up (the reason is on stderr, prefixed "tui-assess-sandbox:").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import resource
import signal
import socket
import struct
import sys
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_REC, MS_PRIVATE = 0x4000, 0x40000
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
SETUP_FAILED = 125

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), "prctl")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def enter_namespaces() -> None:
    """New user (identity-mapped), network, PID and mount namespaces; loopback up."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWNS), "unshare")
    try:
        _write("/proc/self/setgroups", "deny")
    except FileNotFoundError:
        pass
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    # Bring up the namespace's own loopback, so tests can serve on 127.0.0.1 inside it.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sh22x", b"lo", 0))
        flags = struct.unpack("16sh", ifr[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | IFF_UP))


def mount_private_proc() -> None:
    """In the new PID namespace: a /proc that shows only the run's processes."""
    _check(_libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    _check(
        _libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
        "mount /proc",
    )


def apply_limits(cfg: dict) -> None:
    """rlimits for the command; inherited by everything it starts."""
    cpu = int(cfg["cpu_seconds"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    data = int(cfg["data_bytes"])
    resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["fsize_bytes"], cfg["fsize_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    nproc = cfg.get("nproc")
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    os.nice(cfg.get("nice", 5))


def descendants(root: int) -> list[int]:
    """Every live descendant of root, read straight from /proc, parents before children.

    Also used by the runner: psutil's children(recursive=True) gives up when a process
    vanishes mid-walk, which happens all the time in a fork storm; this walk skips it.
    """
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            # ppid is the 2nd field after the ')' that closes the command name.
            ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out: list[int] = []
    frontier = [root]
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, ())]
        out.extend(frontier)
    return out


def reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def sweep(root: int, deadline_s: float = 10.0) -> None:
    """SIGKILL every descendant until none is left (orphans come back to us as subreaper)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        pids = descendants(root)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap_all()
        time.sleep(0.005)


def status_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def run_command(cfg: dict, *, is_ns_init: bool) -> int:
    """Fork the command with limits, reap everything, return the command's status."""
    me = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            if cfg.get("pdeathsig", True):
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            os.setpgid(0, 0)
            apply_limits(cfg)
            os.chdir(cfg["cwd"])
            os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])
        except BaseException as exc:  # noqa: BLE001 - report any failure to start
            os.write(2, f"tui-assess-sandbox: cannot start the tests: {exc}\n".encode())
        finally:
            os._exit(SETUP_FAILED)
    code = SETUP_FAILED
    while True:
        try:
            done, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if done == pid:
            code = status_code(status)
            break
    # The command is over: nothing it started may outlive it.
    if not is_ns_init:
        sweep(me)
    return code


def on_term(signum: int, frame: object) -> None:
    sweep(os.getpid())
    os._exit(128 + signum)


def main() -> int:
    cfg = json.loads(sys.argv[1])
    if cfg.get("cgroup_procs"):
        for path in cfg["cgroup_procs"]:
            _write(path, str(os.getpid()))
    # Die with the runner: a killed app must not leave a run behind.
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if cfg["mode"] == "namespaces":
        try:
            enter_namespaces()
        except OSError as exc:
            os.write(2, f"tui-assess-sandbox: namespaces unavailable: {exc}\n".encode())
            return SETUP_FAILED
        init = os.fork()
        if init == 0:
            # PID 1 of the new namespace. Its exit takes down every process left in it.
            try:
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                mount_private_proc()
                code = run_command(cfg, is_ns_init=True)
            except BaseException as exc:  # noqa: BLE001
                os.write(2, f"tui-assess-sandbox: namespace init failed: {exc}\n".encode())
                code = SETUP_FAILED
            os._exit(code)
        def kill_init(signum: int, frame: object) -> None:
            os.kill(init, signal.SIGKILL)

        signal.signal(signal.SIGTERM, kill_init)
        while True:
            try:
                _, status = os.waitpid(init, 0)
                return status_code(status)
            except InterruptedError:
                continue
            except ChildProcessError:
                return SETUP_FAILED
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGTERM, on_term)
    return run_command(cfg, is_ns_init=False)


def probe() -> int:
    """Exit 0 when the namespace mode works here (used once per process by the runner)."""
    try:
        enter_namespaces()
    except OSError as exc:
        os.write(2, f"{exc}\n".encode())
        return 1
    pid = os.fork()
    if pid == 0:
        try:
            mount_private_proc()
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
            os._exit(0 if os.getpid() == 1 else 1)
        except BaseException as exc:  # noqa: BLE001
            os.write(2, f"{exc}\n".encode())
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return status_code(status)


if __name__ == "__main__":
    try:
        sys.exit(probe() if sys.argv[1:] == ["--probe"] else main())
    except OSError as exc:
        if exc.errno == errno.EPERM:
            os.write(2, f"tui-assess-sandbox: not permitted: {exc}\n".encode())
        else:
            os.write(2, f"tui-assess-sandbox: {exc}\n".encode())
        sys.exit(SETUP_FAILED)
