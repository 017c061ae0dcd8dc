"""Materialising workspaces: the starter, or the starter with a layer (solution, mutant) over it."""

from __future__ import annotations

import shutil
from pathlib import Path

from tui_assess.challenge.model import Challenge
from tui_assess.errors import UserError

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def init_workspace(challenge: Challenge, dest: Path, layer: Path | None = None) -> Path:
    """Copy the starter (and an optional layer over it) into dest, which must be new or empty."""
    dest = Path(dest)
    if dest.exists():
        if not dest.is_dir():
            raise UserError(f"{dest}: exists and is not a folder.")
        if any(dest.iterdir()):
            raise UserError(f"{dest}: folder is not empty; choose a new or empty folder.")
    try:
        shutil.copytree(challenge.starter_dir, dest, ignore=IGNORED, dirs_exist_ok=True)
        if layer is not None:
            shutil.copytree(layer, dest, ignore=IGNORED, dirs_exist_ok=True)
    except OSError as exc:
        raise UserError(f"{dest}: cannot write the workspace ({exc.strerror}).") from None
    return dest


def workspace_files(challenge: Challenge, workspace: Path) -> list[str]:
    """The files to open, in order: the manifest's `files`, else every starter file."""
    if challenge.files:
        return [f for f in challenge.files if (workspace / f).is_file()]
    return sorted(
        p.relative_to(challenge.starter_dir).as_posix()
        for p in challenge.starter_dir.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
