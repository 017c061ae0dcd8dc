"""`tui-assess grade`: regrade submitted snapshots in the real sandbox and compare with what
the sessions recorded; results stored and reused; shards; jobs; a resumed interrupted run."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_report_support import record_session

from tui_assess.challenge.model import load_challenge
from tui_assess.report.grade import (
    GradeTask,
    compare_tests,
    grade_sessions,
    in_shard,
    parse_shard,
    run_task,
    safe_relpath,
)
from tui_assess.report.results import ResultsStore
from tui_assess.session import store
from tui_assess.session.verify import verify

FIXTURES = Path(__file__).parent / "fixtures" / "challenges"
TINY = FIXTURES / "tiny-sum"
SOLUTION = "def total(amounts):\n    return sum(amounts)\n"
NO_REFUNDS = "def total(amounts):\n    return sum(a for a in amounts if a > 0)\n"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three sessions (two submit the same files) and one that never ran the hidden tests."""
    folder = tmp_path_factory.mktemp("recorded")
    ch = load_challenge(TINY)
    return {
        "ada": record_session(folder / "ada.tasession", ch, {"orders.py": SOLUTION},
                              candidate="ada"),
        "bob": record_session(folder / "bob.tasession", ch, {"orders.py": NO_REFUNDS},
                              candidate="bob"),
        "cy": record_session(folder / "cy.tasession", ch, {"orders.py": SOLUTION},
                             candidate="cy"),
        "dee": record_session(folder / "dee.tasession", ch, {"orders.py": NO_REFUNDS},
                              candidate="dee", run_hidden=False),
    }


@pytest.fixture
def cohort(recorded: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """A fresh copy per test (each test has its own results file)."""
    out = {}
    for name, path in recorded.items():
        out[name] = tmp_path / path.name
        shutil.copy(path, out[name])
        shutil.copy(path.with_name(path.name + ".link"), tmp_path / (path.name + ".link"))
    return out


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui_assess", *args, "--challenges",
                           str(FIXTURES)], capture_output=True, text=True, timeout=300)


def grade(sessions: list[Path], **kwargs):  # type: ignore[no-untyped-def]
    return grade_sessions(sessions, challenge_dirs=[FIXTURES], **kwargs)


def rechain(path: Path, kind: str, edit) -> None:  # type: ignore[no-untyped-def]
    """Rewrite the payload of the last ``kind`` event and recompute every link after it, as a
    forger with the tool's source would: the file then verifies, and only a regrade can tell."""
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT seq, t_mono, wall, kind, payload, link FROM events "
                        "ORDER BY seq").fetchall()
    target = max(r[0] for r in rows if r[3] == kind)
    link = store.GENESIS_LINK
    for seq, t, wall, k, payload, _ in rows:
        if seq == target:
            payload = store.canonical_json(edit(json.loads(payload)))
        link = store.next_link(link, store.canonical_event_bytes(seq, t, wall, k, payload))
        conn.execute("UPDATE events SET payload = ?, link = ? WHERE seq = ?", (payload, link, seq))
    conn.commit()
    conn.close()
    store.write_sidecar(path, rows[-1][0], link)


def test_every_recorded_result_is_confirmed_and_identical_snapshots_graded_once(
        cohort: dict[str, Path], tmp_path: Path) -> None:
    results = tmp_path / "grades.sqlite"
    run = grade(list(cohort.values()), results=results)
    by = {Path(r.session).stem: r for r in run.rows}
    assert {n: r.status for n, r in by.items()} == {
        "ada": "match", "bob": "match", "cy": "match", "dee": "no-record"}
    assert run.graded == 2  # ada and cy submitted the same files; bob and dee too
    assert by["bob"].regraded is not None and by["bob"].regraded["score"] == 85.0
    assert by["ada"].regraded is not None and by["ada"].regraded["sandbox"] in (
        "namespaces", "landlock", "rlimits")
    assert run.exit_code == 0
    again = grade(list(cohort.values()), results=results)
    assert again.graded == 0 and all(r.cached for r in again.rows)
    assert [r.status for r in again.rows] == [r.status for r in run.rows]


def test_an_altered_recorded_result_is_caught_naming_the_test(
        cohort: dict[str, Path], tmp_path: Path) -> None:
    def claim_refunds_pass(p: dict) -> dict:  # type: ignore[type-arg]
        for t in p["tests"]:
            if t["name"] == "test_refunds":
                t["status"] = "pass"
        p["score"], p["status"] = 100.0, "pass"
        return p

    rechain(cohort["bob"], "run_end", claim_refunds_pass)
    assert verify(cohort["bob"]).ok  # a consistent forgery: the chain cannot tell
    proc = cli("grade", str(cohort["bob"]), str(cohort["ada"]), "--results",
               str(tmp_path / "g.sqlite"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "bob.tasession" in x)
    assert line.startswith("MISMATCH") and "test_refunds (recorded pass, regraded fail)" in line
    assert next(x for x in proc.stdout.splitlines() if "ada.tasession" in x).startswith("ok")
    doc = json.loads(cli("grade", str(cohort["bob"]), "--json", "--results",
                         str(tmp_path / "g.sqlite")).stdout)
    assert doc["sessions"][0]["differences"] == [
        {"name": "test_refunds", "recorded": "pass", "regraded": "fail"}]
    assert doc["sessions"][0]["cached"] is True and doc["ok"] is False


def test_a_tampered_file_is_not_graded(cohort: dict[str, Path], tmp_path: Path) -> None:
    conn = sqlite3.connect(cohort["bob"])
    conn.execute("UPDATE events SET payload = replace(payload, '\"fail\"', '\"pass\"') "
                 "WHERE kind = 'run_end'")
    conn.commit()
    conn.close()
    run = grade([cohort["bob"]], results=tmp_path / "g.sqlite")
    assert run.rows[0].status == "tampered" and "event" in run.rows[0].reason
    assert run.graded == 0 and run.exit_code == 1


def test_an_interrupted_run_resumes_where_it_stopped(cohort: dict[str, Path],
                                                     tmp_path: Path) -> None:
    results = tmp_path / "grades.sqlite"
    sessions = [cohort["ada"], cohort["bob"]]

    def stop(row) -> None:  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        grade(sessions, results=results, progress=stop)
    with ResultsStore(results, readonly=True) as db:
        assert len(list(db)) == 1  # the first result was committed before the interruption
    resumed = grade(sessions, results=results)
    assert resumed.graded == 1 and sorted(r.cached for r in resumed.rows) == [False, True]


def test_shards_split_the_work_without_overlap(cohort: dict[str, Path], tmp_path: Path) -> None:
    sessions = list(cohort.values())
    seen: list[str] = []
    for i in (1, 2, 3):
        run = grade(sessions, results=tmp_path / f"s{i}.sqlite", shard=(i, 3))
        seen += [r.session for r in run.rows]
        assert run.skipped == len(sessions) - len(run.rows)
    assert sorted(seen) == sorted(str(s) for s in sessions)
    keys = [f"{n:064x}:x" for n in range(300)]
    sizes = [sum(in_shard(k, (i, 3)) for k in keys) for i in (1, 2, 3)]
    assert sum(sizes) == 300 and min(sizes) > 70  # every key in exactly one, roughly even


def test_jobs_give_the_same_results_as_one_process(cohort: dict[str, Path],
                                                    tmp_path: Path) -> None:
    one = grade(list(cohort.values()), results=tmp_path / "one.sqlite")
    two = grade(list(cohort.values()), results=tmp_path / "two.sqlite", jobs=2)
    assert [(r.session, r.status, r.differences) for r in one.rows] == \
        [(r.session, r.status, r.differences) for r in two.rows]
    pids = {r.regraded["worker"]["pid"] for r in two.rows if r.regraded}
    assert len(two.workers) == len(pids) >= 1
    assert all(w.get("sandbox") for w in two.workers.values())


def test_paths_in_a_session_cannot_escape_the_grading_folder(tmp_path: Path) -> None:
    for bad in ("../evil.py", "/etc/passwd", "a/../../b", "", "a\\..\\b"):
        with pytest.raises(ValueError):
            safe_relpath(bad)
    ch = load_challenge(TINY)
    from tui_assess.report.grade import challenge_files
    from tui_assess.snapshot import snapshot_digest

    files = {"../escaped.py": b"x = 1\n", "orders.py": SOLUTION.encode()}
    task = GradeTask("k", snapshot_digest(files), ch.id, ch.content_hash(), files,
                     challenge_files(ch))
    result = run_task(task)
    assert result["status"] == "error" and "unsafe path" in result["reason"]
    assert not (Path("/tmp") / "escaped.py").exists()


def test_a_failed_grading_is_reported_and_retried_not_stored(
        cohort: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui_assess.challenge import check

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the judge fell over")

    monkeypatch.setattr(check, "run_check", broken)  # a fault injected into this process
    results = tmp_path / "g.sqlite"
    run = grade([cohort["ada"]], results=results)
    assert run.rows[0].status == "failed" and "RuntimeError: the judge fell over" in \
        run.rows[0].reason
    assert run.exit_code == 1
    with ResultsStore(results, readonly=True) as db:
        assert list(db) == []
    monkeypatch.undo()
    again = grade([cohort["ada"]], results=results)
    assert again.rows[0].status == "match" and again.graded == 1


def test_unknown_challenge_and_not_a_session_exit_2(cohort: dict[str, Path],
                                                    tmp_path: Path) -> None:
    junk = tmp_path / "junk.tasession"
    junk.write_bytes(b"nope")
    proc = cli("grade", str(junk), str(cohort["ada"]), "--results", str(tmp_path / "g.sqlite"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "not a tui-assess session file" in proc.stdout
    bad = cli("grade", str(cohort["ada"]), "--shard", "4/3")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_a_folder_stands_for_its_sessions(cohort: dict[str, Path], tmp_path: Path) -> None:
    proc = cli("grade", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert sorted(Path(s["session"]).name for s in doc["sessions"]) == [
        "ada.tasession", "bob.tasession", "cy.tasession", "dee.tasession"]
    assert (tmp_path / "grades.sqlite").is_file()  # beside the sessions
    (tmp_path / "empty").mkdir()
    empty = cli("grade", str(tmp_path / "empty"))
    assert empty.returncode == 2 and empty.stderr.startswith("tui-assess: no session files")


def test_compare_tests_and_parse_shard() -> None:
    a = [{"name": "t", "status": "pass"}, {"name": "t", "status": "fail"},
         {"name": "u", "status": "pass"}]
    b = [{"name": "t", "status": "pass"}, {"name": "t", "status": "pass"}]
    assert compare_tests(a, b) == [{"name": "t", "recorded": "fail", "regraded": "pass"},
                                   {"name": "u", "recorded": "pass", "regraded": "missing"}]
    assert parse_shard("2/5") == (2, 5)
    for bad in ("0/3", "x", "1/0", "3"):
        with pytest.raises(Exception, match="--shard"):
            parse_shard(bad)


def test_dask_local_cluster_gives_the_local_results(cohort: dict[str, Path],
                                                    tmp_path: Path) -> None:
    distributed = pytest.importorskip(
        "distributed", reason="Dask distributed is not installed (pip install '.[dask]')")
    local = grade(list(cohort.values()), results=tmp_path / "local.sqlite")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = grade(list(cohort.values()), results=tmp_path / "dask.sqlite",
                                dask_address=cluster.scheduler_address)
    assert remote.graded == local.graded == 2
    assert [(r.session, r.status, r.differences, (r.regraded or {}).get("score"))
            for r in remote.rows] == [
        (r.session, r.status, r.differences, (r.regraded or {}).get("score")) for r in local.rows]
    assert len(remote.workers) == 2
    assert all(w["sandbox"] in ("namespaces", "landlock", "rlimits")
               for w in remote.workers.values())


USER = "tui-assess-ci"


def as_user(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tui_assess ARGS`` as the ordinary user (skips where that is not set up)."""
    import os

    if os.geteuid() != 0:
        pytest.skip("the suite is not running as root, so it is already unprivileged")
    if subprocess.run(["id", USER], capture_output=True).returncode != 0 or \
            subprocess.run(["runuser", "-u", USER, "--", sys.executable, "-c", "import tui_assess"],
                           capture_output=True, cwd="/").returncode != 0:
        pytest.skip(f"{USER} does not exist or cannot import the project (see .ci/run)")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "TMPDIR": str(home), "TUI_ASSESS_HOME": str(home / "home")}
    return subprocess.run(
        ["runuser", "-u", USER, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
         sys.executable, "-m", "tui_assess", *args, "--challenges", str(FIXTURES)],
        capture_output=True, text=True, cwd=home, timeout=300)


@pytest.fixture
def user_folder(recorded: dict[str, Path]) -> Iterator[Path]:
    """A folder in /tmp owned by the ordinary user, holding ada's and bob's sessions."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="tui-assess-grade-user-"))  # /tmp: traversable by all
    (base / "sessions").mkdir()
    for name in ("ada", "bob"):
        for suffix in ("", ".link"):
            shutil.copy(str(recorded[name]) + suffix,
                        base / "sessions" / (recorded[name].name + suffix))
    subprocess.run(["chown", "-R", USER, str(base)], check=True)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_grade_as_an_ordinary_user(user_folder: Path) -> None:
    """A reviewer is not root: grading works for an ordinary user, results file included."""
    folder = user_folder / "sessions"
    proc = as_user("grade", str(folder / "ada.tasession"), str(folder / "bob.tasession"),
                   "--json", home=user_folder)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert [s["status"] for s in doc["sessions"]] == ["match", "match"]
    assert (folder / "grades.sqlite").stat().st_uid != 0
    assert all(w["sandbox"] in ("namespaces", "landlock", "rlimits")
               for w in doc["workers"].values())


def test_a_session_the_reviewer_may_not_read_is_a_row_not_a_traceback(
        user_folder: Path) -> None:
    locked = user_folder / "locked"
    locked.mkdir(mode=0o700)  # root's: the ordinary user may not look inside
    shutil.copy(user_folder / "sessions" / "ada.tasession", locked / "ada.tasession")
    proc = as_user("grade", str(user_folder / "sessions" / "bob.tasession"),
                   str(locked / "ada.tasession"), home=user_folder)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "cannot be read: Permission denied" in proc.stdout
    assert "bob.tasession" in proc.stdout  # the other session is still graded
    report = as_user("report", str(locked / "ada.tasession"), "--format", "md",
                     home=user_folder)
    assert report.returncode == 2 and report.stderr.count("\n") == 1
