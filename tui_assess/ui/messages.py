"""Messages that cross from workers (threads) to screens. Posted with post_message (thread-safe)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class RunFinished(Message):
    """A check run ended; result is a CheckResult (status 'cancelled' included)."""

    suite: str
    result: Any
    error: str = ""
    """Set when the run could not happen at all (an exception in the checker)."""


@dataclass
class FilesChangedOnDisk(Message):
    """The poller saw workspace files change outside the app."""

    changed: list[str]
    """Workspace-relative paths whose mtime or size changed (or that vanished)."""
    tree_changed: bool
    """Files were added or removed: the file tree needs a reload."""
    state: dict[str, tuple[int, int]]
    """The poller's scan (path -> (mtime_ns, size)): the known disk state from now on."""
