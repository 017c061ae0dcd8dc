"""The hints of a challenge, revealed one at a time (f2)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll


class HintsPanel(VerticalScroll):
    """Shows the hints revealed so far and how many are left."""

    def __init__(self, hints: list[str], shown: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hints = hints
        self.shown = min(shown, len(hints))

    def compose(self) -> ComposeResult:
        # Imported here: the panel mounts after the workspace's first paint, and Markdown's
        # parser is ~25 ms of imports the start-up does not need.
        from textual.widgets import Markdown

        yield Markdown(self.markdown(), id="hints")

    def markdown(self) -> str:
        total = len(self.hints)
        if not total:
            return "This challenge has no hints."
        lines = [f"**Hint {i}.** {h}" for i, h in enumerate(self.hints[: self.shown], start=1)]
        left = total - self.shown
        more = f"*{left} more hint{'s' if left != 1 else ''}: press f2.*"
        lines.append(more if left else "*No more hints.*")
        return "\n\n".join(lines)

    def reveal(self) -> int | None:
        """Show the next hint; its index, or None when there is none left."""
        if self.shown >= len(self.hints):
            return None
        self.shown += 1
        from textual.widgets import Markdown

        self.query_one("#hints", Markdown).update(self.markdown())
        return self.shown - 1
