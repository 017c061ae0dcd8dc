"""Content hashes of workspaces: what exactly was tested, or recorded.

Files are read with tui_assess.safecopy.read_tree: never through a link that leads out of the
workspace, never from a fifo or device; what a run copy would refuse is left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path, PurePosixPath

from tui_assess.safecopy import read_tree

#: Names never part of a workspace: caches, tool litter and virtual environments (which hold
#: links out of the folder and are rebuilt, not graded), not the candidate's work.
SKIP_NAMES = frozenset(
    {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git", ".venv", "venv"}
)
SKIP_SUFFIXES = (".pyc", ".tasession", ".tasession-wal", ".tasession-shm")


def is_workspace_file(rel: PurePosixPath) -> bool:
    return not (set(rel.parts) & SKIP_NAMES) and not rel.name.endswith(SKIP_SUFFIXES)


def not_workspace(rel: str) -> bool:
    """The skip rule of workspace copies and snapshots (a relative posix path)."""
    return not is_workspace_file(PurePosixPath(rel))


def workspace_skip(generated: Collection[str] = ()) -> Callable[[str], bool]:
    """not_workspace, and also the challenge's generated data (its [seed]'s files): data the
    seed command remakes, not the candidate's work; tests never depend on it, so runs,
    snapshots and session keyframes leave it out (a 6 MB database is not copied per run)."""
    if not generated:
        return not_workspace
    names = frozenset(generated)
    return lambda rel: rel in names or not_workspace(rel)


def read_workspace_bytes(root: Path, generated: Collection[str] = ()) -> dict[str, bytes]:
    """Every workspace file's content by posix relative path (see safecopy.read_tree)."""
    return read_tree(root, skip=workspace_skip(generated))


def snapshot_digest(files: Mapping[str, bytes]) -> str:
    """sha256 over sorted (path, sha256(content)) pairs: equal content gives equal digests."""
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return h.hexdigest()


def digest_tree(root: Path, generated: Collection[str] = ()) -> str:
    """snapshot_digest of a folder on disk."""
    return snapshot_digest(read_workspace_bytes(root, generated))
