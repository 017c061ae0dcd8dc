"""pytest plugin streaming per-test outcomes as JSON lines to a file descriptor.

Copied into each run and loaded with `-p _tui_assess_plugin`; stdlib only, so it works with any
interpreter that has pytest. Reads its settings from the environment and removes them before
any candidate code is imported.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

_FD = int(os.environ.pop("TUI_ASSESS_RESULT_FD", "-1"))
_DETAILS = os.environ.pop("TUI_ASSESS_DETAILS", "1") == "1"
_WORKSPACE = os.environ.pop("TUI_ASSESS_WORKSPACE", os.getcwd())
_MAX_MESSAGE = 4000 if _DETAILS else 300

_out = os.fdopen(_FD, "w", buffering=1, encoding="utf-8") if _FD >= 0 else None
os.set_inheritable(_FD, False) if _FD >= 0 else None
_phases: dict[str, dict[str, Any]] = {}


def _emit(obj: dict[str, Any]) -> None:
    if _out is None:
        return
    try:
        _out.write(json.dumps(obj) + "\n")
        _out.flush()
    except (OSError, ValueError):
        pass


def _crash_line(report: Any) -> str:
    """The one-line reason (exception and message), without test source."""
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).splitlines()[0] if crash.message else ""
    text = str(longrepr or "")
    lines = [ln[4:].strip() for ln in text.splitlines() if ln.startswith("E   ")]
    if lines:
        return lines[-1]
    return text.strip().splitlines()[-1] if text.strip() else ""


def _message(report: Any) -> str:
    if report.skipped:
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            return str(longrepr[2]).removeprefix("Skipped: ")
        return getattr(report, "wasxfail", "") or ""
    text = report.longreprtext if _DETAILS else _crash_line(report)
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 20] + "\n... (message cut)"
    return text


def pytest_configure(config: Any) -> None:
    # The workspace comes first on sys.path, so tests import the candidate's modules by name.
    if _WORKSPACE not in sys.path:
        sys.path.insert(0, _WORKSPACE)


def pytest_collectreport(report: Any) -> None:
    if report.failed:
        _emit(
            {
                "event": "collect_error",
                "nodeid": report.nodeid or "<collection>",
                "message": _message(report) if _DETAILS else _crash_line(report),
            }
        )


def pytest_collection_finish(session: Any) -> None:
    _emit({"event": "collected", "count": len(session.items)})


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    _emit({"event": "start", "nodeid": nodeid})


def pytest_runtest_logreport(report: Any) -> None:
    state = _phases.setdefault(report.nodeid, {"status": None, "duration": 0.0, "message": ""})
    state["duration"] += float(getattr(report, "duration", 0.0) or 0.0)
    if report.when == "setup":
        if report.failed:
            state["status"], state["message"] = "error", _message(report)
        elif report.skipped:
            state["status"], state["message"] = "skip", _message(report)
    elif report.when == "call":
        if hasattr(report, "wasxfail"):
            state["status"] = "skip" if report.skipped else "pass"
            state["message"] = _message(report) if report.skipped else ""
        elif report.passed:
            state["status"] = "pass"
        elif report.failed:
            state["status"], state["message"] = "fail", _message(report)
        else:
            state["status"], state["message"] = "skip", _message(report)
    elif report.when == "teardown":
        if report.failed and state["status"] in (None, "pass"):
            state["status"], state["message"] = "error", _message(report)
        _emit(
            {
                "event": "result",
                "nodeid": report.nodeid,
                "status": state["status"] or "error",
                "duration": round(state["duration"], 4),
                "message": state["message"],
            }
        )
        del _phases[report.nodeid]


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    _emit({"event": "finished", "exitstatus": int(exitstatus)})
