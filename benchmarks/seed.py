"""A benchmark database: a fresh schema made by the real migrations, filled in bulk with a large commons.

Rows go in with SQLAlchemy Core `executemany` in batches; every member shares one argon2 hash, computed
once, because hashing 100,000 passwords through `sign_up` would take longer than the whole benchmark.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, Table, insert, select, text
from sqlalchemy.orm import Session

from aicommons.communities.models import Community, Membership, Visibility
from aicommons.core import migrate
from aicommons.core.config import Settings
from aicommons.core.db import Base, fresh_schema_url, make_engine, make_session_factory, unit_of_work
from aicommons.core.security import hash_password
from aicommons.members import service as members
from aicommons.members.models import Member
from aicommons.members.schemas import SignUp, TokenCreate
from benchmarks import corpus
from benchmarks.config import BenchConfig

BATCH = 5_000
SCHEMA = "bench"
PASSWORD = "benchmark-password-2026"
BENCH_HANDLE = "bench-viewer"
BENCH_COMMUNITIES_EACH = 25


@dataclass(frozen=True)
class Database:
    """Where one benchmark runs: `kind` is sqlite or postgresql, `url` a SQLAlchemy URL."""

    kind: str
    url: str


@dataclass(frozen=True)
class Seeded:
    """How long the commons took to build and load, and how big it is."""

    generate_s: float
    insert_s: float
    rows: dict[str, int]


@dataclass(frozen=True)
class Viewer:
    """A signed-up member with an API token, who belongs to some private communities."""

    handle: str
    token: str


def sqlite_database(directory: Path) -> Database:
    return Database("sqlite", f"sqlite:///{directory / 'aicommons.db'}")


def postgres_database(raw_url: str, schema: str = SCHEMA) -> Database:
    """A PostgreSQL URL confined to `schema`, which is dropped and created anew."""
    return Database("postgresql", fresh_schema_url(Settings(database_url=raw_url).database_url, schema))


def seed(database: Database, config: BenchConfig, console: Console) -> Seeded:
    """Migrate the empty database to head and load the generated commons into it."""
    migrate.upgrade(database.url)
    started = time.perf_counter()
    commons = corpus.build(
        members=config.members, communities=config.communities, password_hash=hash_password(PASSWORD)
    )
    generated = time.perf_counter()
    tables = _tables(commons)
    engine = make_engine(database.url)
    try:
        _load(engine, tables, console)
        _finish(engine)
    finally:
        engine.dispose()
    rows = {table.name: len(batch) for table, batch in tables}
    return Seeded(generated - started, time.perf_counter() - generated, rows)


def _tables(commons: corpus.Commons) -> list[tuple[Table, list[corpus.Row]]]:
    """Each table with its rows, parents before children."""
    by_name = {
        "member": commons.members,
        "community": commons.communities,
        "community_sector": commons.sectors,
        "community_sdg": commons.sdgs,
        "membership": commons.memberships,
    }
    return [(Base.metadata.tables[name], rows) for name, rows in by_name.items()]


def _load(engine: Engine, tables: Sequence[tuple[Table, list[corpus.Row]]], console: Console) -> None:
    columns = (
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        for table, rows in tables:
            task = progress.add_task(table.name, total=len(rows))
            with engine.begin() as connection:
                for start in range(0, len(rows), BATCH):
                    batch = rows[start : start + BATCH]
                    connection.execute(insert(table), batch)
                    progress.advance(task, len(batch))


def _finish(engine: Engine) -> None:
    """On PostgreSQL: move the id sequences past the ids we gave, then do what autovacuum does after a
    bulk load: merge the GIN indexes' pending lists and gather planner statistics."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in ("member", "community"):
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def viewer(database: Database) -> Viewer:
    """Sign up the benchmark's logged-in member, give it a token and a place in some private communities."""
    engine = make_engine(database.url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            form = SignUp(
                handle=BENCH_HANDLE,
                email=f"{BENCH_HANDLE}@example.org",
                password=PASSWORD,
                display_name="Bench Viewer",
            )
            member = members.sign_up(session=session, form=form)
            _, secret = members.create_token(session=session, member=member, form=TokenCreate(name="bench"))
            _join_some(session, member)
    finally:
        engine.dispose()
    return Viewer(BENCH_HANDLE, secret)


def _join_some(session: Session, member: Member) -> None:
    for visibility in (Visibility.PRIVATE, Visibility.PUBLIC):
        ids = session.scalars(
            select(Community.id)
            .where(Community.visibility == visibility, Community.archived_at.is_(None))
            .order_by(Community.id)
            .limit(BENCH_COMMUNITIES_EACH)
        )
        session.add_all(Membership(community_id=community_id, member=member) for community_id in ids)
    session.flush()
