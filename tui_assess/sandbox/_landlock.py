"""The landlock mode: a Landlock domain per candidate, as the kernel's samples/landlock/sandboxer.c
does it (stdlib only, ctypes; used by the supervisor in the candidate's child before exec).

Probe the ABI, handle every access right that ABI knows (so whatever no rule allows is denied),
add rules, then restrict. Landlock only allows, so "everything under /usr but site-packages" is
written as allowing each sibling on the way down to each masked folder.

ABI 1: file system; 2: linking/renaming across folders (REFER); 3: truncate; 4: TCP bind and
connect by port; 5: ioctl on devices; 6: signal and abstract-unix-socket scoping; 7: audit logs.
A Python binding (the `landlock` package) exists, but the supervisor imports nothing outside the
standard library, and the calls are three syscalls and two structs.
"""

from __future__ import annotations

import ctypes
import functools
import os
import stat
import struct

import _isolate  # type: ignore[import-not-found]

# Annotations only: importing typing would cost the supervisor's start-up (mypy reads this).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_libc = ctypes.CDLL(None, use_errno=True)

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH, RULE_NET_PORT = 1, 2

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK = 1 << 8, 1 << 9, 1 << 10, 1 << 11
MAKE_SYM, REFER, TRUNCATE, IOCTL_DEV = 1 << 12, 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ = EXECUTE | READ_FILE | READ_DIR
WRITE = (
    READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SOCK | MAKE_FIFO
    | MAKE_SYM | REFER | TRUNCATE
)
DEVICES = READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV
DEV_NODES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


@functools.lru_cache(maxsize=1)
def abi() -> int:
    """The kernel's Landlock ABI version (0: none, or disabled at boot)."""
    return max(int(_libc.syscall(SYS_CREATE_RULESET, None, 0, CREATE_RULESET_VERSION)), 0)


def check_abi() -> None:
    if abi() == 0:
        raise _isolate.SetupError("the kernel has no Landlock (5.13+, enabled in the LSM list)")


def handled(version: int) -> tuple[int, int, int]:
    """(file system, network, scope) rights this ABI can deny: all of them, best effort."""
    fs = FS_BY_ABI[max(k for k in FS_BY_ABI if k <= version)]
    net = NET_BIND_TCP | NET_CONNECT_TCP if version >= 4 else 0
    scope = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if version >= 6 else 0
    return fs, net, scope


def create_ruleset(version: int) -> tuple[int, int]:
    """A ruleset fd handling every right of this ABI; returns (fd, handled fs rights)."""
    fs, net, scope = handled(version)
    if version >= 6:
        attr = struct.pack("QQQ", fs, net, scope)
    elif version >= 4:
        attr = struct.pack("QQ", fs, net)
    else:
        attr = struct.pack("Q", fs)
    buf = ctypes.create_string_buffer(attr, len(attr))
    fd = _check(_libc.syscall(SYS_CREATE_RULESET, buf, len(attr), 0), "landlock_create_ruleset")
    return fd, fs


def allow_path(ruleset: int, path: str, rights: int, handled_fs: int) -> bool:
    """Allow `rights` beneath `path` (only the file rights if it is a file). False if absent."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= FILE_RIGHTS
        rights &= handled_fs
        if not rights:
            return False
        attr = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd), 12)
        _check(_libc.syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, attr, 0), f"allow {path}")
        return True
    finally:
        os.close(fd)


def allow_port(ruleset: int, port: int, rights: int) -> None:
    attr = ctypes.create_string_buffer(struct.pack("QQ", rights, port), 16)
    _check(_libc.syscall(SYS_ADD_RULE, ruleset, RULE_NET_PORT, attr, 0), f"allow port {port}")


def allow_except(root: str, masks: list[str]) -> list[str]:
    """Paths that together allow everything under `root` but the `masks` below it."""
    inside = [m for m in masks if m == root or m.startswith(root.rstrip("/") + "/")]
    if not inside:
        return [root]
    if root in inside:
        return []
    out: list[str] = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    for name in names:
        out.extend(allow_except(os.path.join(root, name), inside))
    return out


@functools.lru_cache(maxsize=4)
def read_only_paths(view_key: str, system: tuple[str, ...], masks: tuple[str, ...]) -> list[str]:
    """The system folders, minus every masked folder (computed once per run)."""
    out: list[str] = []
    for path in system:
        out.extend(allow_except(os.path.realpath(path), list(masks)))
    return out


def restrict_candidate(plan: Any) -> None:
    """Enter a Landlock domain: read the system, write only the candidate's own folders, TCP
    only on the run's ports, signals and abstract sockets only within its own processes.

    Called in the candidate's child after no_new_privs, just before exec.
    """
    cfg, spec, dirs = plan.cfg, plan.spec, plan.dirs
    version = abi()
    view = cfg["view"]
    ruleset, fs = create_ruleset(version)
    try:
        system = tuple(view["system"])
        for path in read_only_paths(cfg["run_dir"], system, tuple(view["masks"])):
            allow_path(ruleset, path, READ, fs)
        for path in [*view["etc"], "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/hostname"]:
            allow_path(ruleset, path, READ, fs)
        allow_path(ruleset, "/proc", READ, fs)  # other processes' details stay behind ptrace
        for path in DEV_NODES:
            allow_path(ruleset, path, DEVICES, fs)
        allow_path(ruleset, "/dev/pts", DEVICES | READ_DIR, fs)
        allow_path(ruleset, cfg["bin_dir"], READ, fs)
        for path in spec.get("ro", []):
            allow_path(ruleset, path, READ, fs)
        for path in [dirs["tmp"], dirs["home"], *spec.get("rw", [])]:
            allow_path(ruleset, path, WRITE, fs)
        if version >= 4:
            for port in cfg.get("ports", []):
                allow_port(ruleset, port, NET_BIND_TCP | NET_CONNECT_TCP)
            allow_port(ruleset, 0, NET_BIND_TCP)  # an ephemeral port of its own
        _check(_libc.syscall(SYS_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)
