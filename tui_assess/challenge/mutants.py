"""Mutants: known-wrong solutions that the hidden tests must catch.

Two forms, both under `mutants/`:

- `<name>.patch`: a unified diff against the solution (the workspace `starter/` + `solution/`
  make), whose first line is a comment saying in words what is wrong. The reader sees the bug
  as a diff, and nothing is duplicated.
- `<name>/`: files laid over `starter/`, like `solution/` (the older form, still supported).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from tui_assess.challenge.model import Challenge
from tui_assess.challenge.patch import PatchError, apply_patch, parse_patch
from tui_assess.challenge.workspace import init_workspace
from tui_assess.errors import UserError

PATCH_SUFFIX = ".patch"


class MutantError(UserError):
    """A mutant that cannot be made: its patch is malformed or no longer applies."""


@dataclass(frozen=True)
class Mutant:
    name: str
    path: Path

    @property
    def is_patch(self) -> bool:
        return self.path.suffix == PATCH_SUFFIX

    def description(self) -> str:
        """What is wrong, in words: the patch's comment, or the first line of the docstring of
        the first Python file of a folder mutant ('' when there is none)."""
        if self.is_patch:
            try:
                return parse_patch(self.path.read_text(encoding="utf-8")).comment
            except (PatchError, OSError, UnicodeDecodeError):
                return ""
        for f in sorted(self.path.rglob("*.py")):
            try:
                doc = ast.get_docstring(ast.parse(f.read_text(encoding="utf-8")))
            except (SyntaxError, UnicodeDecodeError, OSError):
                continue
            if doc:
                return " ".join(doc.split("\n\n", 1)[0].split())
        return ""


def mutants(challenge: Challenge) -> list[Mutant]:
    """The challenge's mutants, sorted by name."""
    return [Mutant(name, path) for name, path in challenge.mutants.items()]


def materialise_mutant(challenge: Challenge, mutant: Mutant, dest: Path) -> Path:
    """Write the mutant's workspace into dest (new or empty); MutantError when it cannot."""
    if not mutant.is_patch:
        return init_workspace(challenge, dest, mutant.path)
    try:
        patch = parse_patch(mutant.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MutantError(
            f"mutant {mutant.name}: cannot read {mutant.path.name} ({exc})."
        ) from None
    except PatchError as exc:
        raise MutantError(f"mutant {mutant.name}: {mutant.path.name}: {exc}") from None
    init_workspace(challenge, dest, challenge.solution_dir)
    try:
        apply_patch(patch, dest)
    except PatchError as exc:
        raise MutantError(
            f"mutant {mutant.name} no longer applies to the solution: {exc}"
        ) from None
    return dest
