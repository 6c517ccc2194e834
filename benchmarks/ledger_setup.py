"""What the ledger benchmarks share: a fresh migrated database, the log's signing key, and the sequencer.

Each ledger benchmark gets a database of its own, made by the real migrations: a SQLite file in a
temporary directory, which is also the data directory of the app served over it (so the app and the
benchmark sign with the same key), or the PostgreSQL schema `bench_ledger`, dropped and created anew.
The sequencer is the app's own job worker (`aicommons.app.make_worker`), whose chore between jobs is
`ledger.integrate` in its own unit of work, run in a thread as `aicommons serve` runs it.
"""

import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from aicommons.app import log_identity, make_worker
from aicommons.core import jobs, migrate
from aicommons.core.config import Settings
from aicommons.core.db import make_engine, make_session_factory, unit_of_work
from aicommons.ledger import service as ledger
from benchmarks.seed import Database, postgres_database, sqlite_database

SCHEMA = "bench_ledger"
EVENT = "bench:entry:create"
NOTE = "benchmark payload " * 9  # with the envelope, an entry of about 300 bytes
POLL_SECONDS = 0.01


@dataclass(frozen=True)
class LedgerDb:
    """A migrated, empty database with its engine, session factory and log identity."""

    database: Database
    data_dir: Path
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    log: ledger.LogIdentity


@contextmanager
def ledger_database(kind: str, postgres_url: str, label: str) -> Iterator[LedgerDb]:
    """A fresh database of `kind` for one ledger benchmark, removed afterwards (the schema is kept).

    The disk is flushed first: durable commits wait for the disk, and the gigabytes that earlier
    benchmarks wrote (the search commons, the large log) would otherwise still be going out meanwhile.
    """
    os.sync()
    with tempfile.TemporaryDirectory(prefix=f"aicommons-bench-{label}-{kind}-") as directory:
        data_dir = Path(directory)
        database = sqlite_database(data_dir) if kind == "sqlite" else postgres_database(postgres_url, SCHEMA)
        migrate.upgrade(database.url)
        settings = Settings(data_dir=data_dir, database_url=database.url, run_worker=False)
        engine = make_engine(settings.resolved_database_url)
        try:
            factory = make_session_factory(engine)
            yield LedgerDb(database, data_dir, settings, engine, factory, log_identity(settings))
        finally:
            engine.dispose()


@contextmanager
def sequencer(db: LedgerDb) -> Iterator[None]:
    """The app's job worker in a background thread: it integrates waiting records every half second."""
    with jobs.background_worker(make_worker(db.settings, db.factory, db.log)):
        yield


def tree_size(db: LedgerDb) -> int:
    with unit_of_work(db.factory) as session:
        return ledger.tree_size(session)


def wait_for_size(db: LedgerDb, size: int, *, timeout: float) -> float:
    """Poll until a signed checkpoint covers `size` entries; the perf_counter time it was first seen."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if tree_size(db) >= size:
            return time.perf_counter()
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"the sequencer had not integrated {size:,} entries after {timeout:.0f} s")


def integrate_all(db: LedgerDb) -> int:
    """Integrate every waiting record, batch after batch; the size of the newest checkpoint."""
    while True:
        with unit_of_work(db.factory) as session:
            if ledger.integrate(session, db.log) is None:
                return ledger.tree_size(session)


@dataclass(frozen=True)
class Timed:
    """When threads started and ended (perf_counter), and the CPU seconds this process spent meanwhile."""

    started: float
    ended: float
    cpu_s: float

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def cpu_share(self) -> float:
        """The process's CPU time over the wall time: 1.0 is one core, the ceiling of Python under the GIL."""
        return self.cpu_s / self.seconds


def run_threads(count: int, work: Callable[[int], None]) -> Timed:
    """Run `work(i)` for i in range(count) in threads released together, and time them.

    An exception in any thread is raised here, after every thread has ended.
    """
    barrier = threading.Barrier(count + 1)
    errors: list[BaseException] = []

    def body(number: int) -> None:
        barrier.wait()
        try:
            work(number)
        except BaseException as error:  # reported by the caller, once all threads are done
            errors.append(error)

    threads = [threading.Thread(target=body, args=(n,), name=f"bench-writer-{n}") for n in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    timed = Timed(started, time.perf_counter(), time.process_time() - cpu)
    if errors:
        raise errors[0]
    return timed


def shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` nearly equal whole shares."""
    return [total // parts + (1 if n < total % parts else 0) for n in range(parts)]
