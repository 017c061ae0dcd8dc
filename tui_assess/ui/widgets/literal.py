"""Text shown exactly as written: test ids, file names, data and titles are never markup."""

from __future__ import annotations

from rich.text import Text


def plain(text: str) -> Text:
    """A table cell shown as written (`test_x[a]` keeps its brackets; `[b]` is not bold)."""
    return Text(text, no_wrap=True, end="")
