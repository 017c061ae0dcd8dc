"""kill -9 at random moments: every file verifies and loses at most the last batch."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from tui_assess.session import SessionRecorder, Timeline, verify

ROOT = Path(__file__).resolve().parents[1]
KILLS = 15
PARALLEL = 5
#: The writer commits every 50 ms; an fsync on a busy CI disk can take a while longer.
MAX_LOSS_S = 0.3

CHILD = """
import sys, time
from pathlib import Path
from tui_assess.session import SessionRecorder
rec = SessionRecorder.create(Path(sys.argv[1]), challenge_id="kill", challenge_hash="0" * 64,
                             mode="exam", deadline=time.time() + 60, files={"a.py": ""},
                             keyframe_every_events=150)
rec.flush()
print("ready", flush=True)
i = 0
while True:
    rec.edit("a.py", i, 0, "x")
    i += 1
    if i % 250 == 0:
        rec.keyframe({"a.py": "x" * i, "b.py": str(i)}, reason="manual")
    time.sleep(0.0005)
"""


def test_kill_minus_9_at_random_moments(tmp_path: Path) -> None:
    rnd = random.Random(9)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    losses: list[float] = []
    for group in range(KILLS // PARALLEL):
        procs = []
        for k in range(PARALLEL):
            path = tmp_path / f"k{group}-{k}.tasession"
            p = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], env=env,
                                 stdout=subprocess.PIPE, text=True)
            procs.append((p, path))
        for p, _ in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        killed = []
        for p, path in sorted(procs, key=lambda _: rnd.random()):
            time.sleep(rnd.uniform(0.05, 0.4))
            kill_wall = time.time()
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            assert p.stdout is not None
            p.stdout.close()
            killed.append((path, kill_wall))
        for path, kill_wall in killed:
            report = verify(path)
            assert report.ok, report.reason
            assert report.sidecar == "missing"
            with Timeline.open(path) as tl:
                edits = tl.kind_counts().get("edit", 0)
                assert tl.state_at()["a.py"] == "x" * edits  # no gaps, nothing half-written
                assert tl.last_event is not None
                losses.append(kill_wall - tl.last_event.wall)
    print(f"kill -9 x{KILLS}: events lost at most {max(losses) * 1000:.0f} ms before the kill")
    assert len(losses) == KILLS
    assert max(losses) < MAX_LOSS_S, f"lost up to {max(losses):.3f} s of events: {losses}"

    # A crashed exam resumes: same deadline, the chain continues, the file verifies.
    first = tmp_path / "k0-0.tasession"
    with Timeline.open(first) as tl:
        recorded_deadline = tl.session_start["deadline"]  # type: ignore[index]
    rec = SessionRecorder.open_or_resume(first, challenge_id="kill", challenge_hash="0" * 64,
                                         mode="exam", deadline=time.time() + 3600)
    assert rec.resumed and rec.deadline == recorded_deadline
    rec.close()
    assert verify(first).ok
