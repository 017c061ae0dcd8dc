"""Materialising workspaces: the starter, or the starter with a layer (solution, mutant) over it.

Copies go through tui_assess.safecopy: a link in a starter that leads out of it (say to
/etc/shadow) is refused, never followed; so is a starter (or layer) folder that is itself a link
out of the challenge (say to ~/.ssh).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tui_assess.challenge.model import Challenge
from tui_assess.errors import UserError
from tui_assess.safecopy import copy_tree, show
from tui_assess.snapshot import not_workspace


def init_workspace(challenge: Challenge, dest: Path, layer: Path | None = None) -> Path:
    """Copy the starter (and an optional layer over it) into dest, which must be new or empty.

    Refused copies (a link out of the challenge, a fifo, more than the challenge's
    `[limits] disk_mb`) raise UserError and leave dest as it was: new or empty.
    """
    dest = Path(dest)
    existed = dest.exists()
    if existed:
        if not dest.is_dir():
            raise UserError(f"{dest}: exists and is not a folder.")
        if any(dest.iterdir()):
            raise UserError(f"{dest}: folder is not empty; choose a new or empty folder.")
    for folder in (challenge.starter_dir, layer):
        if folder is not None:
            _inside_challenge(challenge, Path(folder))
    budget = challenge.limits.disk_mb * 2**20
    try:
        used = copy_tree(challenge.starter_dir, dest, skip=not_workspace, max_bytes=budget,
                         cap_name="[limits] disk_mb").charged
        if layer is not None:
            copy_tree(layer, dest, skip=not_workspace, max_bytes=budget - used, overlay=True,
                      cap_name="[limits] disk_mb")
    except UserError:
        _empty(dest, remove=not existed)
        raise
    return dest


def _inside_challenge(challenge: Challenge, folder: Path) -> None:
    """A copy follows its source folder itself once; it must still be the challenge's own."""
    real, root = os.path.realpath(folder), os.path.realpath(challenge.path)
    if not real.startswith(root.rstrip("/") + "/"):
        raise UserError(
            f"{show(folder)}: leads outside the challenge folder (to {show(real)}); a challenge's "
            "files must live inside it."
        )


def _empty(folder: Path, remove: bool) -> None:
    """Undo a refused copy: remove folder, or only what is in it."""
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def workspace_files(challenge: Challenge, workspace: Path) -> list[str]:
    """The files to open, in order: the manifest's `files`, else every starter file."""
    if challenge.files:
        return [f for f in challenge.files if (workspace / f).is_file()]
    return sorted(
        p.relative_to(challenge.starter_dir).as_posix()
        for p in challenge.starter_dir.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
