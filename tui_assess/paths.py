"""Where tui-assess keeps user data (sessions, workspaces, progress)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_home() -> Path:
    """TUI_ASSESS_HOME when set, otherwise the platform's user data folder."""
    override = os.environ.get("TUI_ASSESS_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("tui-assess", appauthor=False))
