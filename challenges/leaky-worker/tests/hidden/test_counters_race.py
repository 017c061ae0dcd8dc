"""processed and failed are exact, however many threads share the worker."""

import threading

from _jobs import invoices


def test_processed_count_is_exact_under_threads(new_worker, jobs, db_path):
    w = new_worker()
    w.run(jobs.good(300), threads=8)
    written = len(invoices(db_path))
    assert written == 300, f"{written} invoices were written for 300 good jobs"
    assert w.processed == 300, f"processed = {w.processed}, but 300 invoices were written"


def test_failed_count_and_errors_are_exact(new_worker, jobs):
    w = new_worker()
    good, bad = jobs.good(100), jobs.bad(100)
    batch = good + bad
    jobs.rng.shuffle(batch)
    w.run(batch, threads=8)
    assert (w.processed, w.failed) == (100, 100), (
        f"100 good and 100 bad jobs on 8 threads counted processed={w.processed}, "
        f"failed={w.failed}"
    )
    recorded = sorted(job for job, _error in w.errors)
    assert recorded == sorted(bad), (
        f"errors names {len(recorded)} jobs ({len(set(recorded))} distinct) for 100 bad ones"
    )


def test_counts_accumulate_across_runs(new_worker, jobs):
    w = new_worker()
    w.run(jobs.mixed(100, 20), threads=6)
    w.run(jobs.mixed(100, 20), threads=6)
    assert (w.processed, w.failed) == (200, 40), (
        f"two runs of 100 good and 20 bad jobs counted processed={w.processed}, "
        f"failed={w.failed}; expected 200 and 40"
    )


def test_process_from_many_threads_counts_exactly(new_worker, jobs):
    w = new_worker()
    names = jobs.good(240)
    shares = [names[i::8] for i in range(8)]
    start = threading.Barrier(8)
    problems = []

    def work(share):
        try:
            start.wait(timeout=30)
            for name in share:
                w.process(name)
        except Exception as exc:  # reported below; a thread must not die silently
            problems.append(repr(exc))

    threads = [threading.Thread(target=work, args=(s,)) for s in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "process() hung"
    assert problems == [], f"process() raised from concurrent threads: {problems[:2]}"
    assert w.processed == 240, f"processed = {w.processed} after 240 successful process() calls"
