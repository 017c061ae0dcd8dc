
# ATTACK: patch pytest's internals at import (reports, runtest, hooks, the terminal reporter),
# as the forgery that gave the starter 100/100 when tests and code shared one process. It first
# looks for the judge's interpreter through /proc to import the same pytest.
import glob as _glob
import os as _os
import sys as _sys

for _cmd in _glob.glob("/proc/*/cmdline"):
    try:
        _argv = open(_cmd, "rb").read().split(b"\0")
    except OSError:
        continue
    if b"tui_assess.judge" in b" ".join(_argv):
        _root = _os.path.dirname(_os.path.dirname(_argv[0].decode()))
        _sys.path.extend(_glob.glob(_root + "/lib/python3*/site-packages"))
try:
    import _pytest.python
    import _pytest.reports
    import _pytest.runner
    import _pytest.terminal

    _real = _pytest.reports.TestReport.from_item_and_call

    def _passed(item, call):
        report = _real(item, call)
        report.outcome, report.longrepr = "passed", None
        return report

    _pytest.reports.TestReport.from_item_and_call = staticmethod(_passed)
    _pytest.python.Function.runtest = lambda self: None
    _pytest.runner.call_and_report = lambda *a, **k: None
    _pytest.terminal.TerminalReporter.pytest_runtest_logreport = lambda *a, **k: None
    print("PATCHED pytest in the candidate's process")
except Exception as _exc:  # noqa: BLE001
    print(f"could not patch pytest: {_exc!r}")
