"""The workspace's file tree: shown or hidden with f5, folded away again when the window
narrows (the CSS decides the default per width: `-shown` / `-hidden` override it)."""

from __future__ import annotations

from typing import Any

from textual.widgets import DirectoryTree

IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".git", ".mypy_cache", ".ruff_cache"}


class WorkspaceTree(DirectoryTree):
    """The workspace folder, without caches."""

    def filter_paths(self, paths: Any) -> Any:
        return [p for p in paths if p.name not in IGNORED_PARTS and not p.name.endswith(".pyc")]

    def toggle(self) -> bool:
        """Show it when hidden, hide it when shown; True when it is now shown."""
        shown = not self.display
        self.set_class(not shown, "-hidden")
        self.set_class(shown, "-shown")
        return shown

    def fold(self) -> None:
        """Back to the default of the window's width (after a resize)."""
        self.remove_class("-shown", "-hidden")
