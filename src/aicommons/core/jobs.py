"""Background jobs: a table of work, workers that claim it safely, heartbeats and failure on silence."""

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from aicommons.core.db import Base, UTCDateTime, unit_of_work, utcnow
from aicommons.core.errors import CommonsError, ErrorCode

log = logging.getLogger(__name__)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(String(16), default=JobState.QUEUED)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(200), default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    worker: Mapped[str | None] = mapped_column(String(120), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    state: JobState
    progress: float
    message: str
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None


@dataclass
class JobContext:
    """What a running job gets: its payload, a way to report progress, and units of work."""

    job_id: int
    payload: dict[str, Any]
    factory: sessionmaker[Session]

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress (0..1); it also counts as a heartbeat."""
        with unit_of_work(self.factory) as session:
            session.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.state == JobState.RUNNING)
                .values(progress=min(max(fraction, 0.0), 1.0), message=message[:200], heartbeat_at=utcnow())
            )

    @contextmanager
    def step(self) -> Iterator[Session]:
        """One transaction of the job's work."""
        with unit_of_work(self.factory) as session:
            yield session


Handler = Callable[[JobContext], dict[str, Any] | None]


def enqueue(
    session: Session, kind: str, payload: dict[str, Any], *, submitted_by_id: int | None = None
) -> Job:
    """Queue a job inside the caller's transaction: it exists only if the caller commits."""
    job = Job(kind=kind, payload=payload, submitted_by_id=submitted_by_id, state=JobState.QUEUED)
    session.add(job)
    session.flush()
    return job


def get(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise CommonsError(ErrorCode.JOB_NOT_FOUND, f"job {job_id} does not exist")
    return job


def fail_silent_jobs(session: Session, *, timeout_seconds: float) -> int:
    """Fail every running job whose heartbeat is older than the timeout; returns how many."""
    cutoff = utcnow() - timedelta(seconds=timeout_seconds)
    result = session.execute(
        update(Job)
        .where(Job.state == JobState.RUNNING, Job.heartbeat_at < cutoff)
        .values(state=JobState.FAILED, error="heartbeat stopped: the worker died", finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim(session: Session, worker: str) -> Job | None:
    """Take the oldest queued job for `worker`; two workers never take the same one."""
    candidate = session.scalar(
        select(Job.id)
        .where(Job.state == JobState.QUEUED)
        .order_by(Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if candidate is None:
        return None
    now = utcnow()
    taken = session.execute(
        update(Job)
        .where(Job.id == candidate, Job.state == JobState.QUEUED)
        .values(state=JobState.RUNNING, worker=worker, started_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(taken, "rowcount", 0):
        return None
    return session.get(Job, candidate, populate_existing=True)


class Worker:
    """Claims and runs jobs one at a time, beating while each runs; between jobs it does its chores."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        handlers: Mapping[str, Handler],
        *,
        heartbeat_seconds: float,
        timeout_seconds: float,
        name: str | None = None,
        chores: Sequence[Callable[[], object]] = (),
    ) -> None:
        self.factory = factory
        self.handlers = handlers
        self.chores = chores
        self.heartbeat_seconds = heartbeat_seconds
        self.timeout_seconds = timeout_seconds
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"

    def run_once(self) -> int | None:
        """Do the chores, fail silent jobs, then run the next queued job if any; returns its id."""
        for chore in self.chores:
            chore()
        with unit_of_work(self.factory) as session:
            fail_silent_jobs(session, timeout_seconds=self.timeout_seconds)
        with unit_of_work(self.factory) as session:
            job = claim(session, self.name)
            ticket = (job.id, job.kind, dict(job.payload)) if job else None
        if ticket is None:
            return None
        self._run(*ticket)
        return ticket[0]

    def run_until(self, stop: threading.Event, *, poll_seconds: float = 0.5) -> None:
        """Work until `stop` is set, sleeping `poll_seconds` whenever the queue is empty."""
        while not stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # a database hiccup must not kill the worker
                log.exception("job worker loop failed; retrying")
                ran = None
            if ran is None:
                stop.wait(poll_seconds)

    def _run(self, job_id: int, kind: str, payload: dict[str, Any]) -> None:
        context = JobContext(job_id=job_id, payload=payload, factory=self.factory)
        beating = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job_id, beating), daemon=True)
        beat.start()
        try:
            handler = self.handlers.get(kind)
            if handler is None:
                raise LookupError(f"no handler for job kind {kind!r}")
            result = handler(context)
        except Exception as exc:
            log.warning("job %s (%s) failed: %s", job_id, kind, exc)
            self._finish(
                job_id, JobState.FAILED, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
            )
        else:
            self._finish(job_id, JobState.SUCCEEDED, result=result or {})
        finally:
            beating.set()
            beat.join()

    def _beat(self, job_id: int, done: threading.Event) -> None:
        while not done.wait(self.heartbeat_seconds):
            with unit_of_work(self.factory) as session:
                session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.state == JobState.RUNNING)
                    .values(heartbeat_at=utcnow())
                )

    def _finish(
        self, job_id: int, state: JobState, *, result: dict[str, Any] | None = None, error: str = ""
    ) -> None:
        with unit_of_work(self.factory) as session:
            values: dict[str, Any] = {"state": state, "finished_at": utcnow(), "error": error or None}
            if state is JobState.SUCCEEDED:
                values |= {"progress": 1.0, "result": result}
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.state == JobState.RUNNING, Job.worker == self.name)
                .values(**values)
            )


@contextmanager
def background_worker(worker: Worker) -> Iterator[threading.Event]:
    """Run `worker` in a daemon thread for the duration of the block."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_until, args=(stop,), name="aicommons-worker", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=30)
