"""The monitor's ways of finding a run's processes, each forced where this machine has it.

tests/sandbox_checks.py runs with whichever way a mode and user get (the run's cgroup list as
root in namespaces and landlock; the children lists from the supervisor down elsewhere); here
each way is forced in turn, with the /proc listing kept for kernels without children lists.
"""

from __future__ import annotations

import pytest
from sandbox_checks import CHECKS

from tui_assess.sandbox import monitor, run
from tui_assess.sandbox.cgroup import RunCgroup
from tui_assess.sandbox.modes import unavailable


def cgroup_possible() -> bool:
    made = RunCgroup.create(4, 64)
    if made is None:
        return False
    made.remove()
    return True


@pytest.mark.parametrize("finder", ["cgroup", "children", "listing"])
def test_each_way_of_finding_watches_an_escaped_daemon(
    finder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    mode = next((m for m in ("namespaces", "landlock") if not unavailable(m)), None)
    if mode is None:
        pytest.skip("neither the namespaces nor the landlock mode runs here")
    if finder == "cgroup" and not cgroup_possible():
        pytest.skip("no run cgroup can be made here (root and a pids or memory controller)")
    if finder == "children" and not monitor.HAS_CHILDREN:
        pytest.skip("this kernel has no /proc/PID/task/TID/children")
    if finder != "cgroup":
        monkeypatch.setattr(run, "CGROUP_LISTED_MODES", ())
    if finder == "listing":
        monkeypatch.setattr(monitor, "HAS_CHILDREN", False)
    problems, facts = CHECKS["double_forked_daemon_is_watched"](mode)
    assert not problems, f"{finder}: {problems} ({facts})"
