"""Moved to tui_assess.judge.run (re-exported here until runner/ is removed)."""

from tui_assess.judge.run import EventSink, run_suite
from tui_assess.judge.run import run_suite as run_tests

__all__ = ["EventSink", "run_suite", "run_tests"]
