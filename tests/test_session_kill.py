"""kill -9 at random moments: every file verifies and loses at most the last batch."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from multiprocessing.connection import Connection
from pathlib import Path

import sqlite_utils  # noqa: F401  (imported before forking, so children start recording at once)

from tui_assess.session import SessionRecorder, Timeline, verify

KILLS = 15
PARALLEL = 5
#: The writer commits every 50 ms; an fsync on a busy CI disk can take a while longer.
MAX_LOSS_S = 0.3



def child(path: Path, ready: Connection) -> None:
    """The recording process: an exam session typing as fast as it can, with keyframes."""
    rec = SessionRecorder.create(path, challenge_id="kill", challenge_hash="0" * 64,
                                 mode="exam", deadline=time.time() + 60, files={"a.py": ""},
                                 keyframe_every_events=150)
    rec.flush()
    ready.send("ready")
    i = 0
    while True:
        rec.edit("a.py", i, 0, "x")
        i += 1
        if i % 250 == 0:
            rec.keyframe({"a.py": "x" * i, "b.py": str(i)}, reason="manual")
        time.sleep(0.0005)


def test_kill_minus_9_at_random_moments(tmp_path: Path) -> None:
    rnd = random.Random(9)
    # Forked, not spawned: a fresh interpreter per kill would cost more than the test itself.
    ctx = multiprocessing.get_context("fork")
    losses: list[float] = []
    for group in range(KILLS // PARALLEL):
        procs = []
        for k in range(PARALLEL):
            path = tmp_path / f"k{group}-{k}.tasession"
            ours, theirs = ctx.Pipe()
            p = ctx.Process(target=child, args=(path, theirs), daemon=True)
            p.start()
            procs.append((p, path))
            assert ours.poll(10) and ours.recv() == "ready"
        killed = []
        for p, path in sorted(procs, key=lambda _: rnd.random()):
            time.sleep(rnd.uniform(0.02, 0.25))
            kill_wall = time.time()
            assert p.pid is not None
            os.kill(p.pid, signal.SIGKILL)
            p.join()
            assert p.exitcode == -signal.SIGKILL
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
