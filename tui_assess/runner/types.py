"""Moved to tui_assess.judge.types (re-exported here until runner/ is removed)."""

from tui_assess.judge.types import *  # noqa: F403
from tui_assess.judge.types import __all__  # noqa: F401
