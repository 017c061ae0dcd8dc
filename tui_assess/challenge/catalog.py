"""Finding challenges: the bundled set (checkout or installed wheel) and folder paths."""

from __future__ import annotations

from pathlib import Path

from tui_assess.challenge.model import Challenge, load_challenge
from tui_assess.errors import UserError


def bundled_dir() -> Path:
    """The bundled challenges: inside the installed package, or challenges/ in a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "_bundled_challenges"
    if installed.is_dir():
        return installed
    return package.parent / "challenges"


def list_challenges(root: Path | None = None) -> list[Challenge]:
    """Every challenge folder under root (default: the bundled set), sorted by id."""
    base = root or bundled_dir()
    if not base.is_dir():
        return []
    return [
        load_challenge(p)
        for p in sorted(base.iterdir())
        if p.is_dir() and (p / "challenge.toml").is_file()
    ]


def resolve(name: str) -> Challenge:
    """A challenge by bundled slug, or by the path of its folder."""
    as_path = Path(name)
    if as_path.is_dir() or "/" in name or name.startswith("."):
        return load_challenge(as_path)
    candidate = bundled_dir() / name
    if candidate.is_dir():
        return load_challenge(candidate)
    raise UserError(
        f"unknown challenge {name!r}: give a bundled slug (see `tui-assess list`) or a folder path."
    )
