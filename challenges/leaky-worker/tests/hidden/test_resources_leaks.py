"""Files and database connections are released when each job ends, on success and on failure."""

import pytest

from _jobs import BAD_CONTENTS, fd_count, gc_paused, open_paths
from tui_assess.judge import candidate

SLACK = 2  # file descriptors the interpreter may legitimately open along the way


def test_fd_count_stays_flat_over_300_jobs(new_worker, jobs, tmp_path):
    w = new_worker()
    warmup, batch = jobs.good(20), jobs.good(300)
    with gc_paused():
        w.run(warmup, threads=8)
        before = fd_count()
        w.run(batch, threads=8)
        after = fd_count()
    assert after <= before + SLACK, f"{after - before} file descriptors leaked over 300 jobs"


def test_no_job_file_or_database_left_open_after_run(new_worker, jobs, tmp_path):
    w = new_worker()
    batch = jobs.good(100)
    with gc_paused():
        w.run(batch, threads=4)
        still_open = open_paths(tmp_path)
    assert still_open == [], f"still open after run(): {still_open[:5]}"


def test_failing_jobs_release_their_files_and_connections(new_worker, jobs, tmp_path):
    w = new_worker()
    warmup, batch = jobs.mixed(10, 10), jobs.mixed(60, 120)
    with gc_paused():
        w.run(warmup, threads=8)
        before = fd_count()
        w.run(batch, threads=8)
        after = fd_count()
        still_open = open_paths(tmp_path)
    assert still_open == [], f"still open after failed jobs: {still_open[:5]}"
    assert after <= before + SLACK, f"{after - before} file descriptors leaked"


@pytest.mark.parametrize("kind", sorted(BAD_CONTENTS))
def test_process_releases_resources_when_it_raises(new_worker, jobs, tmp_path, kind):
    import worker

    w = new_worker()
    kept = []  # callers may keep the exceptions (with their tracebacks), as run() does
    with gc_paused():
        before = fd_count()
        for name in jobs.bad(10, kinds=[kind]):
            try:
                w.process(name)
            except worker.JobError as exc:
                kept.append(exc)
        after = fd_count()
        still_open = open_paths(tmp_path)
    assert len(kept) == 10, "malformed jobs must raise JobError"
    assert still_open == [], f"still open after a failed job: {still_open[:5]}"
    assert after <= before + SLACK, f"{after - before} file descriptors leaked by 10 failed jobs"


def test_missing_job_file_releases_the_connection(new_worker, jobs, tmp_path):
    w = new_worker()
    with gc_paused():
        before = fd_count()
        for i in range(20):
            with pytest.raises(Exception):
                w.process(f"no-such-job-{i}.json")
        after = fd_count()
        still_open = open_paths(tmp_path)
    assert still_open == [], f"still open after a missing job: {still_open[:5]}"
    assert after <= before + SLACK, f"{after - before} file descriptors leaked by 20 missing jobs"


def test_no_file_is_left_for_the_garbage_collector(new_worker, jobs, tmp_path):
    w = new_worker()
    batch = jobs.mixed(40, 30)
    warnings, gc = candidate.module("warnings"), candidate.module("gc")  # the worker's process
    caught = []
    with warnings.catch_warnings():
        warnings.simplefilter("always", ResourceWarning)
        warnings.showwarning = lambda message, category, *where: caught.append((message, category))
        w.run(batch, threads=4)
        del w  # drops what the worker still holds (errors and their tracebacks)
        gc.collect()
    unclosed = [
        str(message)
        for message, category in caught
        if issubclass(category, ResourceWarning)
        and (str(tmp_path) in str(message) or "sqlite3.Connection" in str(message))
    ]
    assert unclosed == [], f"{len(unclosed)} objects were closed by the garbage collector: {unclosed[:2]}"
