"""Copies and reads of a folder that never leave it (stdlib only).

One walk serves `init` (starter -> workspace), the run copy (workspace -> run folder) and
snapshots (what was tested or recorded). Its rules:

- regular files and folders are taken; a symlink is kept *as a link* only when it resolves to
  something inside the folder (it is rewritten as a relative link, so a copy never points back
  at its source); links that dangle, loop or lead out, devices, fifos and sockets are refused;
- a file name that is not UTF-8 is refused (it could not be shown, recorded or replayed);
- a copy larger than a cap is refused, each file counted in 4 KiB blocks and each entry as at
  least one block (what tmpfs spends on it), so 200k empty files cost as much as 800 MB.

A copy (`copy_tree`) turns each refusal into a UserError naming the path in one sentence. A
snapshot (`read_tree`) skips what a copy refuses, so recording a workspace never fails; a copy
that succeeded and a snapshot of its source hold the same files. Snapshots read an in-tree
link to a file as that file's content under the link's name; links to folders are not read
through (their files are already there under their own names).

Against a tree that changes while it is read (a candidate's process racing the copy): every
folder and file is opened relative to its parent's descriptor with O_NOFOLLOW and its inode is
compared with the one the listing showed, so a file swapped for a link mid-walk is refused,
never followed.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tui_assess.errors import UserError

_T = TypeVar("_T")

BLOCK = 4096
#: Deeper than this is not a workspace; the bound keeps the walk's open descriptors few.
MAX_DEPTH = 128
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a fifo swapped in after the listing must not block the open.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK = 1 << 20

Skip = Callable[[str], bool]
"""Given a relative posix path, True when it is not part of the tree (caches, tool litter)."""


def _never(rel: str) -> bool:
    return False


def show(path: str | os.PathLike[str]) -> str:
    """A path as one printable line: undecodable bytes as \\xNN, control characters escaped."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def blocks(size: int) -> int:
    """Bytes charged for one entry of `size` bytes: whole blocks, at least one."""
    return max(BLOCK, -(-size // BLOCK) * BLOCK)


@dataclass(frozen=True)
class _Dir:
    rel: str
    st: os.stat_result


@dataclass(frozen=True)
class _End:
    rel: str
    st: os.stat_result


@dataclass(frozen=True)
class _File:
    rel: str
    fd: int
    """Open for reading; closed by the walk when the consumer moves on."""
    st: os.stat_result


@dataclass(frozen=True)
class _Link:
    rel: str
    target: str
    """Where it resolves, relative to the root ('' is the root itself)."""
    target_is_dir: bool


_Event = _Dir | _End | _File | _Link


class _Walk:
    """One walk of a folder; `strict` raises UserError on what it refuses, else skips it."""

    def __init__(self, src: Path, skip: Skip | None, strict: bool) -> None:
        self.src = Path(src)
        self.skip = skip or _never
        self.strict = strict
        self.dir_links: list[tuple[str, str, str]] = []  # (rel, target, link text)
        try:
            self.root_real = os.path.realpath(self.src, strict=True)
            # The root itself may be a link: the caller named it, so it is followed once.
            self.root_fd = os.open(self.root_real, _DIR_FLAGS)
        except OSError as exc:
            raise UserError(f"{show(self.src)}: cannot read the folder ({exc.strerror}).") from None

    def close(self) -> None:
        os.close(self.root_fd)

    def path(self, rel: str) -> str:
        return show(self.src / rel) if rel else show(self.src)

    def refuse(self, rel: str, why: str) -> None:
        if self.strict:
            raise UserError(f"{self.path(rel)}: {why}.")

    def events(self) -> Iterator[_Event]:
        stack: list[tuple[int, str, os.stat_result | None, Iterator[os.DirEntry[str]]]] = []
        try:
            fd = os.dup(self.root_fd)
            stack.append((fd, "", None, os.scandir(fd)))
            while stack:
                fd, rel, st, entries = stack[-1]
                entry = next(entries, None)
                if entry is None:
                    stack.pop()
                    os.close(fd)
                    if st is not None:
                        yield _End(rel, st)
                    continue
                child = f"{rel}/{entry.name}" if rel else entry.name
                if self.skip(child):
                    continue
                if not _utf8(entry.name):
                    self.refuse(child, "the file name is not valid UTF-8; rename it")
                    continue
                try:
                    est = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # gone since the listing
                if stat.S_ISLNK(est.st_mode):
                    link = self._link(fd, entry.name, child)
                    if link is not None:
                        yield link
                elif stat.S_ISDIR(est.st_mode):
                    if len(stack) > MAX_DEPTH:
                        self.refuse(child, f"folders nest more than {MAX_DEPTH} deep here")
                        continue
                    sub = self._open(fd, entry.name, child, _DIR_FLAGS, est)
                    if sub is not None:
                        yield _Dir(child, est)
                        stack.append((sub, child, est, os.scandir(sub)))
                elif stat.S_ISREG(est.st_mode):
                    ffd = self._open(fd, entry.name, child, _FILE_FLAGS, est)
                    if ffd is not None:
                        try:
                            yield _File(child, ffd, est)
                        finally:
                            os.close(ffd)
                else:
                    self.refuse(
                        child,
                        f"is {_kind(est.st_mode)}; only files, folders and links inside "
                        "the folder can be copied",
                    )
            self._check_loops()
        finally:
            for fd, *_ in stack:
                os.close(fd)

    def _open(
        self, dir_fd: int, name: str, rel: str, flags: int, seen: os.stat_result
    ) -> int | None:
        """Open an entry without following links; None (or UserError) if it changed."""
        try:
            fd = os.open(name, flags, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None  # removed since the listing: nothing to copy
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                self.refuse(rel, "changed while it was being read; try again")
            else:
                self.refuse(rel, f"cannot be read ({exc.strerror})")
            return None
        st = os.fstat(fd)
        if not _same(st, seen) or stat.S_IFMT(st.st_mode) != stat.S_IFMT(seen.st_mode):
            os.close(fd)
            self.refuse(rel, "changed while it was being read; try again")
            return None
        return fd

    def _link(self, dir_fd: int, name: str, rel: str) -> _Link | None:
        try:
            text = os.readlink(name, dir_fd=dir_fd)
        except OSError:
            return None  # gone since the listing
        try:
            real = os.path.realpath(os.path.join(self.root_real, rel), strict=True)
            target_is_dir = stat.S_ISDIR(os.stat(real).st_mode)
        except OSError as exc:
            shown = f"is a symlink to '{show(text)}'"
            if exc.errno == errno.ELOOP:
                self.refuse(rel, f"{shown} that loops back on itself; remove it")
            elif exc.errno in (errno.ENOENT, errno.ENOTDIR):
                self.refuse(rel, f"{shown}, which does not exist; remove it")
            else:
                self.refuse(rel, f"is a symlink that cannot be followed ({exc.strerror})")
            return None
        if real != self.root_real and not real.startswith(self.root_real.rstrip("/") + "/"):
            self.refuse(
                rel,
                f"is a symlink to '{show(text)}', outside {show(self.src)}; links are copied only "
                "when they point inside the folder, so put the file itself there",
            )
            return None
        target = os.path.relpath(real, self.root_real)
        target = "" if target == "." else target
        if target and self.skip(target):
            return None  # points at what is not part of the tree: neither is the link
        if target_is_dir:
            self.dir_links.append((rel, target, text))
        return _Link(rel, target, target_is_dir)

    def _check_loops(self) -> None:
        """Refuse folder links that make the tree endless when followed.

        Following a folder link L1 leads into its target T1; another folder link L2 lying inside
        T1 is reachable from there. The tree is endless exactly when these edges form a cycle
        (a link inside its own target is the one-link cycle).
        """
        links = self.dir_links
        if not links:
            return

        def inside(rel: str, folder: str) -> bool:
            return folder == "" or rel.startswith(folder + "/")

        def loop(rel: str, text: str) -> None:
            self.refuse(
                rel,
                f"is a symlink to the folder '{show(text)}', and following it leads back here "
                "without end (a loop); remove it",
            )

        for rel, target, text in links:  # the plainest loop first: a link into an ancestor
            if inside(rel, target):
                return loop(rel, text)
        edges = {a: [b for b, (rb, _, _) in enumerate(links) if inside(rb, links[a][1])]
                 for a in range(len(links))}
        state = [0] * len(links)  # 0 unseen, 1 on the current path, 2 done
        for start in range(len(links)):
            if state[start]:
                continue
            path = [(start, iter(edges[start]))]
            state[start] = 1
            while path:
                node, nxt = path[-1]
                following = next(nxt, None)
                if following is None:
                    state[node] = 2
                    path.pop()
                elif state[following] == 1:
                    rel, _, text = links[following]
                    return loop(rel, text)
                elif state[following] == 0:
                    state[following] = 1
                    path.append((following, iter(edges[following])))


def _read_all(fd: int) -> bytes:
    with io.FileIO(fd, closefd=False) as f:  # one buffer sized by fstat, as read_bytes does
        return f.readall()


def _open_inside(root_fd: int, rel: str) -> int | None:
    """Open the regular file at rel under root_fd, no link followed on the way; else None."""
    parts = rel.split("/")
    fd = os.dup(root_fd)
    try:
        for part in parts[:-1]:
            nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nxt
        ffd = os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(ffd).st_mode):
        os.close(ffd)
        return None
    return ffd


def read_tree(src: Path, *, skip: Skip | None = None) -> dict[str, bytes]:
    """Every file of src by relative posix path, for a snapshot; never raises for content.

    Skips what copy_tree refuses; an in-tree link to a file gives that file's content under the
    link's name. A folder that is missing or unreadable reads as empty.
    """
    try:
        walk = _Walk(src, skip, strict=False)
    except UserError:
        return {}
    files: dict[str, bytes] = {}
    try:
        for ev in walk.events():
            if isinstance(ev, _File):
                try:
                    files[ev.rel] = _read_all(ev.fd)
                except OSError:
                    continue
            elif isinstance(ev, _Link) and not ev.target_is_dir and ev.target:
                fd = _open_inside(walk.root_fd, ev.target)
                if fd is None:
                    continue
                try:
                    files[ev.rel] = _read_all(fd)
                except OSError:
                    continue
                finally:
                    os.close(fd)
    finally:
        walk.close()
    return files


@dataclass
class CopyStats:
    files: int = 0
    links: int = 0
    folders: int = 0
    charged: int = 0
    """Bytes counted against the cap (whole blocks, at least one per entry)."""


def copy_tree(
    src: Path,
    dest: Path,
    *,
    skip: Skip | None = None,
    max_bytes: int | None = None,
    overlay: bool = False,
    cap_name: str = "",
) -> CopyStats:
    """Copy src into dest (made if missing) by the rules above; UserError on any refusal.

    `overlay` lays src over what dest already holds (files replaced); otherwise an entry that
    exists in dest is an error. `max_bytes` caps the copy; `cap_name` names the limit in the
    message (e.g. "[limits] disk_mb"). On a refusal dest is left partly written: the caller
    owns it and removes it.
    """
    walk = _Walk(Path(src), skip, strict=True)
    try:
        return _Copy(walk, Path(dest), max_bytes, overlay, cap_name).run()
    finally:
        walk.close()


class _Copy:
    """The writing side of copy_tree: mirrors a strict walk into dest, charging the cap."""

    def __init__(
        self, walk: _Walk, dest: Path, max_bytes: int | None, overlay: bool, cap_name: str
    ) -> None:
        self.walk = walk
        self.dest = dest
        self.max_bytes = max_bytes
        self.overlay = overlay
        self.cap_name = cap_name
        self.stats = CopyStats()

    def run(self) -> CopyStats:
        try:
            self.dest.mkdir(parents=True, exist_ok=True)
            root = os.open(self.dest, _DIR_FLAGS)
        except OSError as exc:
            raise UserError(f"{show(self.dest)}: cannot write the copy ({exc.strerror}).") from None
        fds = [root]
        try:
            for ev in self.walk.events():
                if isinstance(ev, _End):
                    fd = fds.pop()
                    try:
                        # The owner keeps rwx so the copy can always be removed again.
                        os.fchmod(fd, stat.S_IMODE(ev.st.st_mode) & 0o777 | 0o700)
                    finally:
                        os.close(fd)
                    continue
                self.charge(blocks(ev.st.st_size if isinstance(ev, _File) else 0), ev.rel)
                try:
                    self.entry(ev, fds)
                except OSError as exc:
                    where = show(self.dest / ev.rel)
                    raise UserError(f"{where}: cannot write the copy ({exc.strerror}).") from None
        finally:
            for fd in fds:
                os.close(fd)
        return self.stats

    def charge(self, amount: int, rel: str) -> None:
        self.stats.charged += amount
        if self.max_bytes is not None and self.stats.charged > self.max_bytes:
            limit = f"{self.max_bytes / 2**20:g} MB"
            named = f" ({self.cap_name})" if self.cap_name else ""
            raise UserError(
                f"{show(self.walk.src)}: more than the {limit} limit{named} to copy, reached at "
                f"{self.walk.path(rel)} (files count in 4 KiB blocks); remove large or generated "
                "files."
            )

    def entry(self, ev: _Dir | _File | _Link, fds: list[int]) -> None:
        parent = fds[-1]
        name = ev.rel.rsplit("/", 1)[-1]
        if isinstance(ev, _Dir):
            try:
                os.mkdir(name, 0o700, dir_fd=parent)
            except FileExistsError:
                if not self.overlay:
                    raise
            fds.append(os.open(name, _DIR_FLAGS, dir_fd=parent))
            self.stats.folders += 1
        elif isinstance(ev, _Link):
            text = os.path.relpath(ev.target or ".", ev.rel.rpartition("/")[0] or ".")
            self.replace(parent, name, lambda: os.symlink(text, name, dir_fd=parent))
            self.stats.links += 1
        else:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            out = self.replace(parent, name, lambda: os.open(name, flags, 0o600, dir_fd=parent))
            try:
                self.file(ev, out)
            finally:
                os.close(out)
            self.stats.files += 1

    def replace(self, parent: int, name: str, create: Callable[[], _T]) -> _T:
        """create(); with overlay, an entry already there is removed first."""
        try:
            return create()
        except FileExistsError:
            if not self.overlay:
                raise
            os.unlink(name, dir_fd=parent)
            return create()

    def file(self, ev: _File, out: int) -> None:
        listed = blocks(ev.st.st_size)
        size = 0
        while True:
            try:
                chunk = os.read(ev.fd, _CHUNK)
            except OSError as exc:
                where = self.walk.path(ev.rel)
                raise UserError(f"{where}: cannot be read ({exc.strerror}).") from None
            if not chunk:
                break
            size += len(chunk)
            grown = blocks(size) - listed
            if grown > 0:  # the file grew since it was listed: charge the difference
                self.charge(grown, ev.rel)
                listed += grown
            view = memoryview(chunk)
            while view:
                view = view[os.write(out, view):]
        os.fchmod(out, stat.S_IMODE(ev.st.st_mode) & 0o777)  # never setuid, setgid or sticky
        os.utime(out, ns=(ev.st.st_atime_ns, ev.st.st_mtime_ns))
