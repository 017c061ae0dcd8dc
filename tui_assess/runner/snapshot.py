"""Content hashes of workspaces: what exactly was tested, or recorded."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

#: Names never part of a workspace snapshot: caches and tool litter, not the candidate's work.
SKIP_NAMES = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git"})
SKIP_SUFFIXES = (".pyc", ".tasession", ".tasession-wal", ".tasession-shm")


def is_workspace_file(rel: Path) -> bool:
    return not (set(rel.parts) & SKIP_NAMES) and not rel.name.endswith(SKIP_SUFFIXES)


def iter_workspace(root: Path) -> Iterable[tuple[str, Path]]:
    """(posix relative path, path) of every workspace file, sorted."""
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not p.is_symlink() and is_workspace_file(rel):
            yield rel.as_posix(), p


def snapshot_digest(files: Mapping[str, bytes]) -> str:
    """sha256 over sorted (path, sha256(content)) pairs: equal content gives equal digests."""
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return h.hexdigest()


def digest_tree(root: Path) -> str:
    """snapshot_digest of a folder on disk."""
    return snapshot_digest({rel: p.read_bytes() for rel, p in iter_workspace(root)})
