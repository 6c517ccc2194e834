"""Background jobs: claimed once, run with progress and heartbeats, failed when they fail or fall silent."""

import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from aicommons.core import jobs
from aicommons.core.db import unit_of_work, utcnow
from aicommons.core.jobs import Job, JobState, Worker


def queue(factory, kind: str, count: int = 1, **payload) -> list[int]:
    with unit_of_work(factory) as db:
        return [jobs.enqueue(db, kind, dict(payload)).id for _ in range(count)]


def state(factory, job_id: int) -> Job:
    with factory() as db:
        return db.get(Job, job_id)


def make_worker(factory, handlers, **options) -> Worker:
    settings = {"heartbeat_seconds": 0.05, "timeout_seconds": 30.0} | options
    return Worker(factory, handlers, **settings)


def test_a_job_runs_reports_progress_and_keeps_its_result(factory):
    seen = []

    def double(context: jobs.JobContext):
        context.progress(0.5, "halfway")
        seen.append(state(factory, context.job_id).message)
        return {"answer": context.payload["n"] * 2}

    (job_id,) = queue(factory, "double", n=21)
    assert make_worker(factory, {"double": double}).run_once() == job_id
    done = state(factory, job_id)
    assert (done.state, done.result, done.progress, seen) == (
        JobState.SUCCEEDED,
        {"answer": 42},
        1.0,
        ["halfway"],
    )
    assert done.finished_at >= done.started_at


def test_a_failing_job_is_failed_with_its_error_and_rolls_back_its_step(factory, make_member):
    def broken(context: jobs.JobContext):
        with context.step() as db:
            db.execute(update(Job).where(Job.id == context.job_id).values(message="half-written"))
            raise RuntimeError("the data was bad")

    (job_id,) = queue(factory, "broken")
    make_worker(factory, {"broken": broken}).run_once()
    failed = state(factory, job_id)
    assert failed.state == JobState.FAILED
    assert "the data was bad" in failed.error
    assert failed.message == ""


def test_an_unknown_kind_fails_instead_of_hanging(factory):
    (job_id,) = queue(factory, "nobody-handles-this")
    make_worker(factory, {}).run_once()
    assert "no handler" in state(factory, job_id).error


def test_a_job_is_only_queued_when_its_transaction_commits(factory):
    with pytest.raises(RuntimeError), unit_of_work(factory) as db:
        jobs.enqueue(db, "double", {})
        raise RuntimeError("the request failed")
    assert make_worker(factory, {}).run_once() is None


def test_a_job_whose_heartbeat_stops_is_failed(factory):
    (job_id,) = queue(factory, "slow")
    with unit_of_work(factory) as db:
        jobs.claim(db, "a-worker-that-then-died")
        db.execute(update(Job).values(heartbeat_at=utcnow() - timedelta(seconds=120)))
    make_worker(factory, {}, timeout_seconds=60).run_once()
    dead = state(factory, job_id)
    assert (dead.state, dead.error) == (JobState.FAILED, "heartbeat stopped: the worker died")


def test_a_long_job_keeps_beating_so_it_is_not_failed(factory):
    release = threading.Event()
    (job_id,) = queue(factory, "long")
    worker = make_worker(factory, {"long": lambda _: release.wait(5) and None})
    runner = threading.Thread(target=worker.run_once)
    runner.start()
    first = _wait_for_heartbeat(factory, job_id, after=None)
    second = _wait_for_heartbeat(factory, job_id, after=first)
    with unit_of_work(factory) as db:
        assert jobs.fail_silent_jobs(db, timeout_seconds=5) == 0
    release.set()
    runner.join()
    assert second > first
    assert state(factory, job_id).state == JobState.SUCCEEDED


def _wait_for_heartbeat(factory, job_id, *, after):
    for _ in range(200):
        beat = state(factory, job_id).heartbeat_at
        if beat is not None and (after is None or beat > after):
            return beat
        threading.Event().wait(0.02)
    raise AssertionError("no heartbeat")


def test_concurrent_workers_never_take_the_same_job(factory):
    job_ids = queue(factory, "count", 40)
    ran: list[tuple[str, int]] = []
    lock = threading.Lock()

    def record(context: jobs.JobContext):
        with lock:
            ran.append((threading.current_thread().name, context.job_id))

    workers = [make_worker(factory, {"count": record}, name=f"w{n}") for n in range(4)]
    threads = [threading.Thread(target=_drain, args=(w,), name=w.name) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(job_id for _, job_id in ran) == job_ids
    with factory() as db:
        assert set(db.scalars(select(Job.state))) == {JobState.SUCCEEDED}


def _drain(worker: Worker) -> None:
    misses = 0
    while misses < 3:
        misses = misses + 1 if worker.run_once() is None else 0


def test_the_worker_command_runs_the_queue_in_its_own_process(settings, factory, new_stats_job):
    job_id = new_stats_job()
    env = {
        "AICOMMONS_DATABASE_URL": settings.resolved_database_url,
        "AICOMMONS_DATA_DIR": str(settings.data_dir),
    }
    result = subprocess.run(
        [sys.executable, "-m", "aicommons", "worker", "--burst"],
        env=env | {"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Queue empty after 1 job(s)" in result.stdout
    finished = state(factory, job_id)
    assert (finished.state, finished.result["members"]) == (JobState.SUCCEEDED, 1)
