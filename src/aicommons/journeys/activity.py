"""What the transparency log tells of members' activity in communities, read in grouped queries.

The log is read whole: entries the sequencer placed (`log_entry`) and records still waiting for it
(`log_record`), so a journey moves on the moment the action commits (docs/decisions/0032-…).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Subquery, Table, and_, case, func, select, union_all
from sqlalchemy.orm import Session

from aicommons.communities.models import Role
from aicommons.ledger.entries import parse
from aicommons.ledger.models import LogEntry, LogRecord
from aicommons.members.models import Member

ARRIVALS = ("communities:community:create", "communities:community:register", "communities:member:join")
CONTRIBUTIONS = (
    "insights:insight:publish",
    "insights:reply:create",
    "events:rsvp:set",
    "datasets:dataset:create",
    "datasets:version:publish",
    "problems:submission:create",
)
ROLE_CHANGE = "communities:member:role"
REUSE = "insights:reuse:record"
LEADING_ROLES = frozenset({Role.STEWARD.value, Role.ORGANIZER.value})
CHUNK = 5_000  # members a query names at most (SQLite and PostgreSQL cap the parameters of a statement)
WINDOW = timedelta(days=90)  # "participating": contributions within this long before a moment

LOG_TABLES = (cast(Table, LogEntry.__table__), cast(Table, LogRecord.__table__))
Where = Callable[[Table], Sequence[ColumnElement[bool]]]


def _log(where: Where, *, name: str = "log", body: bool = False) -> Subquery:
    """Placed entries and waiting records as one table: a record is in exactly one of the two. Whether an
    entry is a contribution is worked out once here, not again for each moment asked about."""
    parts = [
        select(
            table.c.event,
            table.c.actor_id,
            table.c.community_id,
            table.c.created_at,
            table.c.event.in_(CONTRIBUTIONS).label("contributing"),
            *([table.c.body] if body else []),
        ).where(*where(table))
        for table in LOG_TABLES
    ]
    return union_all(*parts).subquery(name)


def in_community(community_id: int) -> Where:
    return lambda table: [table.c.community_id == community_id, table.c.actor_id.is_not(None)]


def by_member(member_id: int) -> Where:
    return lambda table: [table.c.actor_id == member_id, table.c.community_id.is_not(None)]


@dataclass(frozen=True)
class Activity:
    """One member's entries in one community: when first seen, joined and contributing, and how much
    they contributed in the 90 days up to each moment asked about."""

    member_id: int
    community_id: int
    seen_at: datetime | None
    joined_at: datetime | None
    contributed_at: datetime | None
    recent: tuple[int, ...]


def activity(session: Session, where: Where, moments: Sequence[datetime]) -> list[Activity]:
    """Every (member, community) pair the entries matching `where` hold, in one grouped query."""
    log = _log(where)
    contributing = log.c.contributing
    recent = [
        func.count(case((and_(contributing, log.c.created_at > at - WINDOW, log.c.created_at <= at), 1)))
        for at in moments
    ]
    query = select(
        log.c.actor_id,
        log.c.community_id,
        func.min(log.c.created_at),
        func.min(case((log.c.event.in_(ARRIVALS), log.c.created_at))),
        func.min(case((contributing, log.c.created_at))),
        *recent,
    ).group_by(log.c.actor_id, log.c.community_id)
    return [
        Activity(member, community, seen_at, joined_at, contributed_at, tuple(recent))
        for member, community, seen_at, joined_at, contributed_at, *recent in session.execute(query).all()
    ]


def contributions_elsewhere(
    session: Session, community_id: int, contributors: Sequence[int]
) -> dict[int, datetime]:
    """When each of the members who contributed in this community first contributed in another one."""
    found: dict[int, datetime] = {}
    for start in range(0, len(contributors), CHUNK):
        chunk = list(contributors[start : start + CHUNK])
        placed = select(Member.id, _first_placed_elsewhere(community_id)).where(Member.id.in_(chunk))
        waiting = (
            select(LogRecord.actor_id, func.min(LogRecord.created_at))
            .where(_elsewhere(LogRecord, community_id), LogRecord.actor_id.in_(chunk))
            .group_by(LogRecord.actor_id)
        )
        for member, at in [*session.execute(placed).all(), *session.execute(waiting).all()]:
            if at is not None:
                found[member] = min(at, found.get(member, at))
    return found


def _first_placed_elsewhere(community_id: int) -> Any:
    """A member's first placed contribution in another community: the log's order is the order of time,
    so walking the member's entries in ix_log_entry_actor stops at the first one that matches."""
    first = select(LogEntry.created_at).where(
        LogEntry.actor_id == Member.id, _elsewhere(LogEntry, community_id)
    )
    return first.order_by(LogEntry.index).limit(1).scalar_subquery()


def _elsewhere(table: type[LogEntry] | type[LogRecord], community_id: int) -> ColumnElement[bool]:
    return and_(table.event.in_(CONTRIBUTIONS), table.community_id != community_id)


def promotions(session: Session, community_id: int) -> dict[int, datetime]:
    """When each member was first made a steward or organizer of the community by a role change."""
    log = _log(lambda t: [t.c.community_id == community_id, t.c.event == ROLE_CHANGE], body=True)
    found: dict[int, datetime] = {}
    for body, at in session.execute(select(log.c.body, log.c.created_at)).all():
        facts = _mapping(parse(body).get("data"))
        member = facts.get("member")
        if isinstance(member, int) and facts.get("role") in LEADING_ROLES:
            found[member] = min(at, found.get(member, at))
    return found


@dataclass(frozen=True)
class Reuse:
    """A community (the reuser) recorded that it reused an insight of another (the origin)."""

    insight: int | None
    origin_id: int
    reuser_id: int


def reuses(session: Session, community_id: int) -> list[Reuse]:
    """Every recorded reuse of this community's insights elsewhere, and of others' insights here."""
    log = _log(lambda t: [t.c.event == REUSE], body=True)
    rows = session.execute(select(log.c.body, log.c.community_id)).all()
    found = [_reuse(parse(body), reuser) for body, reuser in rows]
    return [reuse for reuse in found if reuse and community_id in (reuse.origin_id, reuse.reuser_id)]


def _reuse(entry: dict[str, Any], reuser: int | None) -> Reuse | None:
    """The reuse an entry tells of; its origin may be in the subject or the data, as a number or nested."""
    facts = _mapping(entry.get("data")) | _mapping(entry.get("subject"))
    origin = facts.get("origin", facts.get("origin_community"))
    origin = _mapping(origin).get("community", origin) if isinstance(origin, dict) else origin
    insight = facts.get("insight", _mapping(facts.get("origin")).get("insight"))
    if not isinstance(origin, int) or reuser is None or origin == reuser:
        return None
    return Reuse(insight if isinstance(insight, int) else None, origin, reuser)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
