"""A small, strict unified-diff reader and applier, for mutants written as patches.

A mutant patch is a unified diff in the form `git diff` prints (paths `a/...` and `b/...`),
preceded by at least one comment line (`# what is wrong, in words`). Applying is strict the way
`git apply` is: every context and removed line must match the file exactly; a hunk may sit at
another line than its header says (the solution grew above it), but never with fuzz. Anything
that does not apply raises PatchError with the file, the hunk and the first line that differs.

Written here rather than taken from a library: the format is small and fixed, and the two
maintained pure-Python appliers either apply with fuzz (`patch-ng`, `whatthepatch`'s callers)
or want the git binary (`unidiff` only parses). No dependency, no subprocess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
NO_NEWLINE = "\\ No newline at end of file"
#: Lines `git diff` prints between file sections; they carry nothing an applier needs.
GIT_HEADER_PREFIXES = (
    "diff --git ",
    "index ",
    "new file mode ",
    "deleted file mode ",
    "old mode ",
    "new mode ",
    "similarity index ",
)
DEV_NULL = "/dev/null"


class PatchError(ValueError):
    """A patch that is malformed or does not apply; the message says where, in plain words."""


@dataclass(frozen=True)
class Hunk:
    old_start: int
    """First line (1-based) of the old text the hunk covers (0 for an empty file)."""
    old: tuple[str, ...]
    """Context and removed lines, in order: what must be in the file."""
    new: tuple[str, ...]
    """Context and added lines, in order: what replaces them."""
    old_eof_newline: bool = True
    new_eof_newline: bool = True


@dataclass(frozen=True)
class FilePatch:
    path: str
    """Relative posix path of the file the hunks change."""
    hunks: tuple[Hunk, ...]
    creates: bool = False
    deletes: bool = False


@dataclass(frozen=True)
class Patch:
    comment: str
    """The leading comment lines, without '#': what the patch does, in words."""
    files: tuple[FilePatch, ...]


def _path(raw: str, prefix: str, lineno: int) -> str | None:
    name = raw.split("\t", 1)[0].rstrip()
    if name == DEV_NULL:
        return None
    if not name.startswith(prefix):
        raise PatchError(
            f"line {lineno}: path {name!r} should start with {prefix!r} (write patches the way "
            "`git diff` prints them)."
        )
    rel = PurePosixPath(name[len(prefix) :])
    if rel.is_absolute() or not rel.parts or ".." in rel.parts:
        raise PatchError(f"line {lineno}: path {name!r} must stay inside the workspace.")
    return rel.as_posix()


def parse_patch(text: str) -> Patch:
    """Parse a mutant patch; raise PatchError for anything malformed."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    comment: list[str] = []
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        comment.append(lines[i][1:].strip())
        i += 1
    words = " ".join(comment).strip()
    if not re.search(r"[A-Za-z]{2,}.*\s.*[A-Za-z]{2,}", words):
        raise PatchError(
            "the first line must be a comment ('# ...') saying in words what is wrong."
        )
    files: list[FilePatch] = []
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith(GIT_HEADER_PREFIXES):
            i += 1
            continue
        if line.startswith("Binary files ") or line.startswith("GIT binary patch"):
            raise PatchError(f"line {i + 1}: binary patches are not supported.")
        if not line.startswith("--- "):
            raise PatchError(f"line {i + 1}: expected a '--- a/FILE' line, found {line[:60]!r}.")
        if i + 1 >= len(lines) or not lines[i + 1].startswith("+++ "):
            raise PatchError(f"line {i + 2}: expected a '+++ b/FILE' line after '---'.")
        old = _path(line[4:], "a/", i + 1)
        new = _path(lines[i + 1][4:], "b/", i + 2)
        if old is None and new is None:
            raise PatchError(f"line {i + 1}: both sides are {DEV_NULL}.")
        if old is not None and new is not None and old != new:
            raise PatchError(f"line {i + 1}: renames are not supported ({old} -> {new}).")
        i += 2
        hunks: list[Hunk] = []
        while i < len(lines) and lines[i].startswith("@@"):
            hunk, i = _parse_hunk(lines, i)
            hunks.append(hunk)
        if not hunks:
            raise PatchError(f"line {i + 1}: a file section without any '@@' hunk.")
        path = new or old
        assert path is not None
        files.append(FilePatch(path, tuple(hunks), creates=old is None, deletes=new is None))
    if not files:
        raise PatchError("the patch changes no file.")
    seen = [f.path for f in files]
    dup = {p for p in seen if seen.count(p) > 1}
    if dup:
        raise PatchError(f"{sorted(dup)[0]} appears twice; put all its hunks in one section.")
    return Patch(words, tuple(files))


def _parse_hunk(lines: list[str], i: int) -> tuple[Hunk, int]:
    m = HUNK_RE.match(lines[i])
    if not m:
        raise PatchError(f"line {i + 1}: malformed hunk header {lines[i][:60]!r}.")
    header_line = i + 1
    old_start = int(m.group(1))
    old_len = 1 if m.group(2) is None else int(m.group(2))
    new_len = 1 if m.group(4) is None else int(m.group(4))
    old: list[str] = []
    new: list[str] = []
    old_eof = new_eof = True
    last = ""
    i += 1
    while i < len(lines) and (len(old) < old_len or len(new) < new_len or lines[i] == NO_NEWLINE):
        line = lines[i]
        if line == NO_NEWLINE:
            if last in (" ", "-"):
                old_eof = False
            if last in (" ", "+"):
                new_eof = False
            i += 1
            continue
        tag, body = (line[:1], line[1:]) if line else (" ", "")
        if tag == " ":
            old.append(body)
            new.append(body)
        elif tag == "-":
            old.append(body)
        elif tag == "+":
            new.append(body)
        else:
            raise PatchError(f"line {i + 1}: a hunk line must start with ' ', '-' or '+'.")
        last = tag
        i += 1
    if len(old) != old_len or len(new) != new_len:
        raise PatchError(
            f"line {header_line}: the hunk header promises -{old_len} +{new_len} lines but the "
            f"hunk has -{len(old)} +{len(new)}."
        )
    return Hunk(old_start, tuple(old), tuple(new), old_eof, new_eof), i


def _find(lines: list[str], want: tuple[str, ...], start: int, lowest: int) -> int | None:
    """Where `want` matches `lines` exactly, nearest to `start` first, never before `lowest`."""
    last = len(lines) - len(want)
    for offset in range(max(last + 1, 1) + abs(start)):
        for at in (start - offset, start + offset) if offset else (start,):
            if lowest <= at <= last and tuple(lines[at : at + len(want)]) == want:
                return at
    return None


def _first_difference(lines: list[str], want: tuple[str, ...], at: int) -> str:
    for k, expected in enumerate(want):
        found = lines[at + k] if at + k < len(lines) else None
        if found != expected:
            shown = "the end of the file" if found is None else repr(found)
            return f"line {at + k + 1} should be {expected!r} but is {shown}"
    return "it matches nowhere after the previous hunk"


def patched_text(original: str | None, fp: FilePatch) -> str | None:
    """The new content of one file (None: deleted); raise PatchError when a hunk fails."""
    if fp.creates:
        if original is not None:
            raise PatchError(f"{fp.path}: the patch creates it, but it already exists.")
        original = ""
    elif original is None:
        raise PatchError(f"{fp.path}: no such file to patch.")
    lines = original.split("\n")
    eof_newline = original.endswith("\n") or original == ""
    if eof_newline:
        lines.pop()
    lowest = 0
    for n, hunk in enumerate(fp.hunks, start=1):
        start = max(hunk.old_start - 1, 0) if hunk.old else hunk.old_start
        at = _find(lines, hunk.old, start, lowest)
        if at is None:
            near = min(max(start, lowest), max(len(lines) - len(hunk.old), 0))
            raise PatchError(
                f"{fp.path}: hunk {n} (at line {hunk.old_start}) does not apply: "
                f"{_first_difference(lines, hunk.old, near)}."
            )
        touches_end = at + len(hunk.old) == len(lines)
        if touches_end and hunk.old and hunk.old_eof_newline != eof_newline:
            raise PatchError(f"{fp.path}: hunk {n} disagrees about the newline at the end.")
        lines[at : at + len(hunk.old)] = hunk.new
        lowest = at + len(hunk.new)
        if touches_end:
            eof_newline = hunk.new_eof_newline
    if fp.deletes:
        if lines:
            raise PatchError(f"{fp.path}: the patch deletes it, but lines would remain.")
        return None
    text = "\n".join(lines)
    return text + "\n" if lines and eof_newline else text


def apply_patch(patch: Patch, root: Path) -> list[str]:
    """Apply every file of the patch under root, all or nothing; return the changed paths."""
    results: dict[str, str | None] = {}
    for fp in patch.files:
        target = root / fp.path
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise PatchError(f"{fp.path}: not a regular file.")
        try:
            original = target.read_text(encoding="utf-8") if target.exists() else None
        except UnicodeDecodeError:
            raise PatchError(f"{fp.path}: not UTF-8 text.") from None
        results[fp.path] = patched_text(original, fp)
    for rel, text in results.items():
        target = root / rel
        if text is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return list(results)


def make_patch(comment: str, before: dict[str, str], after: dict[str, str]) -> str:
    """A mutant patch from two workspaces given as {relative path: text}; for authors' tools."""
    import difflib

    out = [f"# {line}".rstrip() for line in comment.strip().splitlines()]
    for rel in sorted(set(before) | set(after)):
        old, new = before.get(rel), after.get(rel)
        if old == new:
            continue
        a = [] if old is None else old.splitlines(keepends=True)
        b = [] if new is None else new.splitlines(keepends=True)
        diff = list(
            difflib.unified_diff(
                a,
                b,
                DEV_NULL if old is None else f"a/{rel}",
                DEV_NULL if new is None else f"b/{rel}",
            )
        )
        for line in diff:
            if line.endswith("\n"):
                out.append(line[:-1])
            else:
                out.extend([line, NO_NEWLINE])
    return "\n".join(out) + "\n"
