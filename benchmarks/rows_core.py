"""Rows measured without a terminal: test feedback, the session log, the sandbox's sampler."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import REPO, Row, Size, alternate, median, percentile, row, skipped

CHECK_CHALLENGE = REPO / "challenges" / "rate-limiter"


def _timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def _check_workspace(tmp: Path) -> tuple[Path, Path, list[str], dict[str, str]]:
    """The challenge's solution as a workspace, its visible tests, and the bare pytest command."""
    ws, tests = tmp / "ws", tmp / "tests"
    shutil.copytree(CHECK_CHALLENGE / "starter", ws)
    shutil.copytree(CHECK_CHALLENGE / "solution", ws, dirs_exist_ok=True)
    shutil.copytree(CHECK_CHALLENGE / "tests" / "visible", tests)
    (tests / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(ws), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    bare = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-s",
            "-c", str(tests / "pytest.ini"), str(tests)]
    return ws, tests, bare, env


def check_rows(size: Size, tmp: Path) -> list[Row]:
    """A visible run (what ctrl+r costs in the TUI, and the `check` command) vs bare pytest."""
    from tui_assess.challenge.catalog import resolve
    from tui_assess.challenge.check import Checks, run_check

    ws, _tests, bare_cmd, env = _check_workspace(tmp)
    challenge = resolve(str(CHECK_CHALLENGE))
    first = run_check(challenge, ws, "visible")  # warms the page cache; proves the run works
    n_tests = len(first.tests)
    checks = Checks()  # the TUI's: each run keeps the next one prepared ahead
    checks.keep_ready(challenge, "visible")

    def warm() -> float:
        # A person reads the last result and edits before ctrl+r: the spare is ready by then.
        assert checks.runs.wait_ready(60), "no run was made ready"
        start = time.perf_counter()
        result = checks(challenge, ws, "visible")
        elapsed = time.perf_counter() - start
        assert result.tests and result.run.start == "warm", result.reason
        return elapsed

    def in_app() -> float:
        start = time.perf_counter()
        result = run_check(challenge, ws, "visible")
        elapsed = time.perf_counter() - start
        assert result.tests, result.reason
        return elapsed

    def bare() -> float:
        return _timed(bare_cmd, ws, env)

    cli_cmd = [sys.executable, "-m", "tui_assess", "check", str(CHECK_CHALLENGE),
               "--workspace", str(ws), "--json"]
    # bytecode cached, as in an installed copy (this shell may say PYTHONDONTWRITEBYTECODE)
    cli_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def bare_alone() -> float:
        checks.runs.wait_ready(60)  # the next spare is made before, never during, the baseline
        return bare()

    try:
        ours, base = alternate(size.pairs, warm, bare_alone)
    finally:
        checks.close()
    cold, base1 = alternate(size.pairs, in_app, bare)
    cli, base2 = alternate(size.pairs, lambda: _timed(cli_cmd, ws, cli_env), bare)
    what = (f"{CHECK_CHALLENGE.name} visible suite ({n_tests} tests) on its solution; "
            f"sandbox {first.run.sandbox}; baseline: bare `python -m pytest` of the same files, "
            "plugin autoload off")
    return [
        row("check_latency", median(ours), "s", median(base), "<= 0.6x",
            "a visible run from a live app, started warm (a run prepared ahead, as ctrl+r "
            "gets it); " + what),
        row("check_cold_latency", median(cold), "s", median(base1), "-",
            "the same run started cold (`run_check`: sandbox, judge and host started for it); "
            + what),
        row("check_cli_latency", median(cli), "s", median(base2), "-",
            "`tui-assess check --json` (interpreter start included); " + what),
    ]


def _jsonl_gzip_bytes(path: Path) -> int:
    from tui_assess.session import Timeline
    from tui_assess.session.export import export_jsonl

    out = io.StringIO()
    with Timeline.open(path) as tl:
        export_jsonl(tl, out)
    return len(gzip.compress(out.getvalue().encode(), 6))


def session_rows(size: Size, tmp: Path) -> list[Row]:
    """The simulated session's size vs gzip of its own JSONL export, and seeks into it."""
    from benchmarks.bench_session import simulate_session
    from tui_assess.session import Timeline

    path = tmp / "session.tasession"
    runs = max(2, int(round(100 * size.session_hours / 2)))
    sim = simulate_session(path, hours=size.session_hours, runs=runs)
    hours = size.session_hours
    file_bytes = path.stat().st_size
    gz = _jsonl_gzip_bytes(path)
    # The same scripted session written in the format-1 layout, in the same run.
    v1 = tmp / "session-v1.tasession"
    simulate_session(v1, hours=hours, runs=runs, format_version=1)
    v1_bytes = v1.stat().st_size
    what = (f"bench_session's {hours:g}-hour session ({sim['edit']} edits, {sim['run']} runs, "
            f"{sim['sample']} resource samples, 3 files)")
    rows = [row("log_bytes_per_hour", file_bytes / hours / 1e6, "MB/h", gz / hours / 1e6,
                "<= 1.5 MB/h",
                f"{what}, session format 2; the same session as format 1 in the same run: "
                f"{v1_bytes / hours / 1e6:.3g} MB/h; baseline: gzip -6 of its own JSONL export")]
    rnd = random.Random(2)
    with Timeline.open(path) as tl:
        assert tl.state_at()["report.py"] == sim["expected_final"]
        moments = [rnd.uniform(0, tl.duration) for _ in range(size.seeks)]
        seeks, scans = [], []
        for i, moment in enumerate(moments):
            t0 = time.perf_counter()
            tl.state_at(seconds=moment)
            seeks.append((time.perf_counter() - t0) * 1000)
            if i < max(3, size.seeks // 10):  # the baseline is slow: a tenth of the moments
                t0 = time.perf_counter()
                _replay_from_start(tl, tl.seq_at(moment))
                scans.append((time.perf_counter() - t0) * 1000)
    screen = _screen_seeks(path, size, tmp)
    rows.append(row("replay_seek_p99_ms", percentile(screen, 99) * 1000, "ms",
                    percentile(seeks, 99), "<= 50 ms",
                    f"`tui-assess replay` of that session in a pty (bench_replay.py): a click on "
                    f"the timeline bar until the header shows the event, {len(screen)} seeks; "
                    "baseline: `Timeline.state_at` alone, below the screen (next row)"))
    rows.append(row("replay_state_at_p99_ms", percentile(seeks, 99), "ms", percentile(scans, 99),
                    "-",
                    f"`Timeline.state_at` at {len(seeks)} random moments; baseline: replaying "
                    f"every edit from the first keyframe ({len(scans)} moments)"))
    return rows


def _screen_seeks(session: Path, size: Size, tmp: Path) -> list[float]:
    """Seconds from a click on the replay's timeline bar to the event drawn (bench_replay)."""
    from benchmarks import bench_replay
    from tui_assess.session import Timeline

    # bench_replay drives its own copy of bench_tui's Pty at the replay's terminal size.
    bench_replay.bench_tui.COLS, bench_replay.bench_tui.ROWS = bench_replay.COLS, bench_replay.ROWS
    with Timeline.open(session) as tl:
        return bench_replay.interactions(session, tl, size.replay_moves, tmp)["seek"]


def _replay_from_start(tl: object, seq: int) -> dict[str, str]:
    """state_at without the later keyframes: the first keyframe, then every edit after it."""
    from tui_assess.session.timeline import Timeline

    assert isinstance(tl, Timeline)
    first = tl._keyframes[0]
    files = tl.event(first).payload.get("files", {})
    state = {p: tl.blob_text(h, first) for p, h in files.items()}
    for s, kind, payload in tl._conn.execute(
        "SELECT seq, kind, payload FROM events WHERE seq > ? AND seq <= ? "
        "AND kind IN ('edit', 'external_change') ORDER BY seq", (first, seq)):
        tl._apply(state, kind, json.loads(payload), s)
    return state


def recorder_row(size: Size, tmp: Path) -> Row:
    """record() under a typing burst vs appending the same event as a JSON line to a file."""
    from tui_assess.session import SessionRecorder

    rec = SessionRecorder.create(tmp / "burst.tasession", challenge_id="bench",
                                 challenge_hash="0" * 64, mode="practice",
                                 files={"a.py": "x" * 4000})
    plain = open(tmp / "burst.jsonl", "w")  # noqa: SIM115 - closed below
    ours: list[float] = []
    base: list[float] = []
    perf = time.perf_counter_ns
    t = time.time()
    for i in range(size.record_events):
        t0 = perf()
        rec.edit("a.py", i, 0, "x")
        t1 = perf()
        plain.write(json.dumps({"t": t, "kind": "edit", "payload": {
            "path": "a.py", "offset": i, "deleted": 0, "text": "x"}}) + "\n")
        plain.flush()
        t2 = perf()
        ours.append((t1 - t0) / 1e6)
        base.append((t2 - t1) / 1e6)
        if i % 10 == 9:
            time.sleep(0.002)  # bursts of ten keys; the writer thread commits meanwhile
    rec.close()
    plain.close()
    return row("recorder_event_p99_ms", percentile(ours, 99), "ms", percentile(base, 99),
               "<= 1 ms",
               f"`record()` of {size.record_events} edits in bursts of 10 (writer thread "
               "committing meanwhile); baseline: the same event as a JSON line written and "
               "flushed to a file")


def _sleepers(n: int) -> subprocess.Popen[bytes]:
    """n unrelated sleeping processes (one parent forking n - 1 children), as on a busy laptop."""
    code = ("import os, signal, time\n"
            f"for _ in range({n - 1}):\n"
            "    if os.fork() == 0:\n"
            "        time.sleep(3600); os._exit(0)\n"
            "print('ready', flush=True)\n"
            "time.sleep(3600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            start_new_session=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc


def sampler_rows(size: Size) -> list[Row]:
    """The runner's CPU while the sandbox watches one sleeping test process, vs the old walk."""
    from benchmarks.bench_sandbox import full_walk_cost, monitor_cost
    from tui_assess.sandbox.modes import MODES, unavailable

    mode = next((m for m in MODES if not unavailable(m)), None)
    names = ("sampler_overhead_pct", "sampler_overhead_pct_crowded")
    if mode is None:
        return [skipped(n, "% of a core", "no sandbox mode here", "<= 1 %") for n in names]
    rows = []
    for name, extra in zip(names, (0, size.background_procs), strict=True):
        crowd = _sleepers(extra) if extra else None
        try:
            procs = sum(1 for p in os.listdir("/proc") if p.isdigit())
            walk, watch = alternate(1, lambda: full_walk_cost(size.sampler_s),
                                    lambda: monitor_cost(mode, size.sampler_s, procs=1))
        finally:
            if crowd is not None:
                os.killpg(crowd.pid, signal.SIGKILL)
                crowd.wait()
        crowded = f", {extra} unrelated sleeping processes added" if extra else ""
        rows.append(row(name, watch[0], "% of a core", walk[0], "<= 1 %",
                        f"CPU of the whole runner process over {size.sampler_s:g} s while the "
                        f"monitor ({mode}) watches one sleeping candidate at 20 Hz; "
                        f"{procs} processes on the machine{crowded}; baseline: reading every "
                        "process's /proc stat at 20 Hz (the monitor before issue 14)"))
    return rows


def groups() -> dict[str, Callable[[Size, Path], list[Row]]]:
    """Named groups of rows (`--only`), each given the run size and a scratch folder."""
    return {
        "check": lambda size, tmp: check_rows(size, tmp),
        "session": lambda size, tmp: [*session_rows(size, tmp), recorder_row(size, tmp)],
        "sampler": lambda size, _tmp: sampler_rows(size),
    }
