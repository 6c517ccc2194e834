"""core.db.DriverStatement: SQLAlchemy's SQL and parameter types, run by the session's own connection."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Table, bindparam, insert, select, text, update

from aicommons.core.db import DriverStatement, bound_insert, unit_of_work
from aicommons.ledger.models import LogRecord

RECORDS = LogRecord.__table__
assert isinstance(RECORDS, Table)
COLUMNS = ("body", "event", "actor_id", "community_id", "created_at")
ADD = DriverStatement(bound_insert(RECORDS, COLUMNS).returning(RECORDS.c.id))
# A literal the statement holds itself (the event) and a parameter named twice (the actor).
RENAME = DriverStatement(
    update(RECORDS)
    .where(RECORDS.c.event == "old:entry:create", RECORDS.c.actor_id == bindparam("actor"))
    .values(event="new:entry:create", community_id=bindparam("actor"))
)


def row(event: str, at: datetime) -> dict[str, object]:
    return {"body": b"{}", "event": event, "actor_id": 7, "community_id": None, "created_at": at}


def test_a_driver_statement_stores_what_sqlalchemy_would(factory):
    at = datetime(2026, 11, 27, 13, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    with unit_of_work(factory) as session:
        driven = ADD.execute(session, row("old:entry:create", at)).rows[0][0]
        (usual,) = session.execute(insert(RECORDS).returning(RECORDS.c.id), row("old:entry:create", at)).one()
    with factory() as session:
        stored = dict(session.execute(text("SELECT id, created_at FROM log_record")).all())
        assert stored[driven] == stored[usual]  # the same bytes in the database (UTC, same format)
        found = session.get(LogRecord, driven)
        assert found is not None and found.created_at == at.astimezone(UTC)


def test_a_driver_statement_binds_its_own_literals_and_repeated_names(factory):
    with unit_of_work(factory) as session:
        ADD.execute(session, row("old:entry:create", datetime.now(UTC)))
        ADD.execute(session, row("other:entry:create", datetime.now(UTC)))
        assert RENAME.execute(session, {"actor": 7}).rowcount == 1
    with factory() as session:
        events = session.execute(select(RECORDS.c.event, RECORDS.c.community_id).order_by(RECORDS.c.id)).all()
    assert [tuple(e) for e in events] == [("new:entry:create", 7), ("other:entry:create", None)]


def test_a_driver_statement_runs_in_the_sessions_transaction(factory):
    with factory() as session:
        ADD.execute(session, row("old:entry:create", datetime.now(UTC)))
        assert session.scalar(select(RECORDS.c.event)) == "old:entry:create"  # its own write, seen
        session.rollback()
    with factory() as session:
        assert session.scalar(select(RECORDS.c.id)) is None
