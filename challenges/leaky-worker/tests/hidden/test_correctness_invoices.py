"""The worker still does its job: invoices are right, bad jobs are refused and recorded."""

import pytest

from _jobs import BAD_CONTENTS, invoices


def test_process_returns_the_total_and_stores_the_invoice(new_worker, jobs, db_path):
    w = new_worker()
    for name in jobs.good(10):
        total = w.process(name)
        order_id = "A-" + name.split("-")[1].split(".")[0]
        assert total == jobs.expected[order_id][1], f"process({name}) returned the wrong total"
    assert invoices(db_path) == jobs.expected, "the stored invoices are not the jobs' invoices"
    assert w.processed == 10, f"processed is {w.processed} after 10 jobs"


def test_batch_invoices_match_the_jobs(new_worker, jobs, db_path):
    w = new_worker()
    w.run(jobs.good(100), threads=4)
    assert invoices(db_path) == jobs.expected, "the stored invoices are not the jobs' invoices"


@pytest.mark.parametrize("kind", sorted(BAD_CONTENTS))
def test_malformed_job_raises_job_error_and_writes_nothing(new_worker, jobs, db_path, kind):
    import worker

    w = new_worker()
    (name,) = jobs.bad(1, kinds=[kind])
    with pytest.raises(worker.JobError):
        w.process(name)
    assert invoices(db_path) == {}, f"a malformed job ({kind}) wrote an invoice"
    assert w.processed == 0, f"a malformed job ({kind}) counted as processed"


def test_failed_jobs_do_not_stop_the_batch(new_worker, jobs, db_path):
    w = new_worker()
    w.run(jobs.mixed(60, 40) + ["no-such-job.json"], threads=4)
    assert invoices(db_path) == jobs.expected, "the good jobs of a mixed batch were not all stored"
    assert w.failed == 41, f"failed is {w.failed} after 40 bad jobs and one missing file"
    assert "no-such-job.json" in [job for job, _error in w.errors], (
        "a missing job file is not recorded in errors"
    )
