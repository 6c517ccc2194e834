"""Database engine, declarative base and the one unit of work per request, command or job step."""

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ClauseElement,
    Connection,
    DateTime,
    Engine,
    Insert,
    MetaData,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The base of every table; the naming convention keeps migrations stable on both databases."""

    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs; SQLAlchemy's documented fix is to turn it
    # off and begin each transaction ourselves (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # commits survive a power cut: the log and balances need it
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Take the write lock up front: a transaction that reads, then writes, never meets SQLITE_BUSY."""
    # Straight to the driver: this runs once per transaction, and SQLAlchemy's statement machinery
    # would add a tenth of a millisecond to every write (see benchmarks/README.md, log appends).
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=8)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # Recycling instead of pinging before every checkout saves a round trip per transaction.
    return create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)


def fresh_schema_url(url: str, schema: str) -> str:
    """A PostgreSQL URL confined to `schema`, which is dropped and created anew (tests, benchmarks)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def bound_insert(table: Table, names: Iterable[str]) -> Insert:
    """An INSERT of the columns `names`, each bound to the parameter of the same name."""
    return insert(table).values({name: bindparam(name) for name in names})


@dataclass(frozen=True)
class DriverResult:
    """What the driver answered: the rows returned, the rows changed."""

    rows: list[tuple[Any, ...]]
    rowcount: int


@dataclass(frozen=True)
class _Prepared:
    sql: str
    names: tuple[str, ...]  # the parameters in the driver's order (a name may come twice on SQLite)
    fixed: dict[str, Any]  # the values the statement itself holds (literals compared with)
    processors: dict[str, Callable[[Any], Any]]  # each parameter's type, as SQLAlchemy would bind it
    positional: bool

    def parameters(self, values: Mapping[str, Any], *, bind: bool) -> tuple[Any, ...] | dict[str, Any]:
        merged = self.fixed | dict(values)
        for name, process in self.processors.items() if bind else ():
            merged[name] = process(merged[name])
        return tuple(merged[name] for name in self.names) if self.positional else merged


class DriverStatement:
    """A statement built with SQLAlchemy, compiled once per dialect, run by the session's own database
    connection in the session's transaction.

    For the few writes on the path of every request (the log's record, a token transfer): there,
    SQLAlchemy's work per execution (cache lookup, parameter and result set-up) costs more than the
    database's (docs/decisions/0043-ledger-writes-go-to-the-driver.md). The SQL and the stored values
    are the ones SQLAlchemy would send: each parameter goes through its type's bind processor.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._prepared: dict[str, _Prepared] = {}

    def execute(self, session: Session, values: Mapping[str, Any]) -> DriverResult:
        with self._cursor(session) as (prepared, cursor):
            cursor.execute(prepared.sql, prepared.parameters(values, bind=True))
            rows = cursor.fetchall() if cursor.description is not None else []
            return DriverResult(rows=list(rows), rowcount=cursor.rowcount)

    def execute_many(self, session: Session, rows: Iterable[Mapping[str, Any]], *, as_stored: bool) -> None:
        """Run the statement once per row. `as_stored`: the values were read from the database by a
        DriverStatement and are copied as they are, without their types' bind processing."""
        with self._cursor(session) as (prepared, cursor):
            parameters: list[Any] = [prepared.parameters(row, bind=not as_stored) for row in rows]
            cursor.executemany(prepared.sql, parameters)

    @contextmanager
    def _cursor(self, session: Session) -> Iterator[tuple[_Prepared, Any]]:
        """The statement prepared for the session's dialect, and a cursor of the session's connection."""
        connection = session.connection()
        cursor = connection.connection.cursor()
        try:
            yield self._prepared_for(connection.dialect), cursor
        finally:
            cursor.close()

    def _prepared_for(self, dialect: Dialect) -> _Prepared:
        return self._prepared.get(dialect.name) or self._prepare(dialect)

    def _prepare(self, dialect: Dialect) -> _Prepared:
        compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
        binds = compiled.binds.items()  # by the name the SQL uses
        prepared = _Prepared(
            sql=compiled.string,
            names=tuple(compiled.positiontup or ()),
            fixed={name: bind.value for name, bind in binds if not bind.required},
            processors={
                name: process
                for name, bind in binds
                if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
            },
            positional=dialect.positional,
        )
        self._prepared[dialect.name] = prepared
        return prepared


DOOMED = "aicommons.doomed"  # the key in Session.info of a refused unit of work


def doom(session: Session) -> None:
    """Refuse the session's unit of work: what it did is rolled back at once (so that a page shown after a
    refusal reads the world as it was), and it ends with a rollback, whatever is written after."""
    session.info[DOOMED] = True
    session.rollback()


def end_unit_of_work(session: Session, *, failed: bool = False) -> None:
    """Commit the session's transaction, or roll it back when it failed or was doomed; then close it."""
    try:
        if failed or session.info.get(DOOMED):
            session.rollback()
        else:
            session.commit()
    finally:
        session.close()  # after a failed commit, this rolls back


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends cleanly, roll everything back otherwise or when doomed."""
    session = factory()
    try:
        yield session
    except BaseException:
        end_unit_of_work(session, failed=True)
        raise
    end_unit_of_work(session)
