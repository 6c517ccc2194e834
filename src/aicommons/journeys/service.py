"""Members' journeys through communities: their stage in each, a community's funnel month by month and
the reuse of its insights, derived from the log, the private visits and the current roles."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Table, case, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute, Session

from aicommons.communities import service as communities
from aicommons.communities.models import Community, CommunitySector, Membership, MembershipStatus
from aicommons.core.pagination import Page, PageRequest
from aicommons.journeys import activity, permissions, stages
from aicommons.journeys.models import CommunityVisit, Stage
from aicommons.members.models import Member

DEFAULT_MONTHS = 12
Ranked = TypeVar("Ranked", str, int)


@dataclass(frozen=True)
class Journey:
    """Where a member stands in a community, and what the next stage needs."""

    community: Community
    stage: Stage | None
    next_step: str

    @property
    def community_slug(self) -> str:
        return self.community.slug

    @property
    def community_name(self) -> str:
        return self.community.name


# --- visits and a member's own journeys ---------------------------------------------------------------


def visit(*, session: Session, community: Community, member: Member, now: datetime) -> Journey:
    """Record (privately, off the log) that the member looked at the community; their journey there."""
    record_visit(session=session, community=community, member=member, now=now)
    found = _footprints_of(session, member.id, now)[community.id]
    return _journey(community, found, now)


def record_visit(*, session: Session, community: Community, member: Member, now: datetime) -> None:
    """Insert the first visit or move the last one on, in one statement that concurrent visits agree on."""
    connection = session.connection()
    values = {"community_id": community.id, "member_id": member.id, "first_at": now, "last_at": now}
    connection.execute(_UPSERT_VISIT[connection.dialect.name], values)


def _upsert_visit(insert: Any) -> Any:
    statement = insert(_VISITS)
    later = case(
        (statement.excluded.last_at > _VISITS.c.last_at, statement.excluded.last_at), else_=_VISITS.c.last_at
    )
    return statement.on_conflict_do_update(
        index_elements=["community_id", "member_id"], set_={"last_at": later}
    )


_VISITS = cast(Table, CommunityVisit.__table__)
_UPSERT_VISIT = {"sqlite": _upsert_visit(sqlite_insert), "postgresql": _upsert_visit(postgres_insert)}


def journeys_of(*, session: Session, member: Member, now: datetime, page: PageRequest) -> Page[Journey]:
    """The member's stage in every community they have been seen in and may still see, furthest first."""
    footprints = _footprints_of(session, member.id, now)
    shown = _visible(session, footprints.keys(), member)
    found = sorted(
        (_journey(community, footprints[community.id], now) for community in shown.values()),
        key=lambda journey: (-_rank(journey.stage), journey.community.name),
    )
    return Page(found[page.offset : page.offset + page.size], len(found), page.page, page.size)


def _journey(community: Community, footprint: stages.Footprint, now: datetime) -> Journey:
    stage = footprint.stage(now, footprint.recent[-1])
    return Journey(community, stage, stages.next_step(stage, footprint.recent[-1]))


def _rank(stage: Stage | None) -> int:
    return stage.rank if stage else -1


def _footprints_of(session: Session, member_id: int, now: datetime) -> dict[int, stages.Footprint]:
    """The member's footprint in every community they have a sign of, by community id."""
    rows = activity.activity(session, activity.by_member(member_id), [now])
    found = {row.community_id: row for row in rows}
    visits = _visits(session, CommunityVisit.member_id == member_id, CommunityVisit.community_id)
    roles = _memberships(session, Membership.member_id == member_id, Membership.community_id, {})
    contributed = {community: row.contributed_at for community, row in found.items() if row.contributed_at}
    return {
        community: stages.footprint(
            member_id=member_id,
            community_id=community,
            moments=1,
            activity=found.get(community),
            visited_at=visits.get(community),
            membership=roles.get(community),
            elsewhere_at=min((at for other, at in contributed.items() if other != community), default=None),
        )
        for community in found.keys() | visits.keys() | roles.keys()
    }


def _visits(
    session: Session, condition: ColumnElement[bool], key: InstrumentedAttribute[int]
) -> dict[int, datetime]:
    return {
        owner: first_at
        for owner, first_at in session.execute(select(key, CommunityVisit.first_at).where(condition)).all()
    }


def _memberships(
    session: Session,
    condition: ColumnElement[bool],
    key: InstrumentedAttribute[int],
    promoted: dict[int, datetime],
) -> dict[int, stages.Membership]:
    """Active memberships by `key`; a leader leads since their promotion, or else since they joined."""
    rows = session.execute(
        select(key, Membership.role, Membership.created_at).where(
            condition, Membership.status == MembershipStatus.ACTIVE
        )
    ).all()
    return {
        owner: stages.Membership(joined, promoted.get(owner, joined) if _leads(role) else None)
        for owner, role, joined in rows
    }


def _leads(role: str) -> bool:
    return role in activity.LEADING_ROLES


def _visible(session: Session, community_ids: Iterable[int], viewer: Member | None) -> dict[int, Community]:
    """Those of the communities the viewer may see (and so name), by id."""
    ids = list(community_ids)
    found = session.scalars(select(Community).where(Community.id.in_(ids))).all()
    held = {}
    if viewer is not None:
        rows = session.scalars(
            select(Membership).where(Membership.member_id == viewer.id, Membership.community_id.in_(ids))
        )
        held = {membership.community_id: membership for membership in rows}
    return {
        community.id: community
        for community in found
        if permissions.may_name(community, viewer, held.get(community.id))
    }


# --- a community's dashboard ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StageCount:
    """Members at a stage now (`members`) and members at it or beyond (`reached`): the funnel."""

    stage: Stage
    members: int
    reached: int


@dataclass(frozen=True)
class Step:
    """Of the members who had reached `from_stage`, the share who had also reached `to_stage`."""

    from_stage: Stage
    to_stage: Stage
    share: float | None


@dataclass(frozen=True)
class MonthFigures:
    """The funnel at the end of a month (for this month: now): members at each stage or beyond."""

    month: date
    reached: dict[Stage, int]

    @property
    def steps(self) -> list[Step]:
        return [
            Step(low, high, round(self.reached[high] / self.reached[low], 3) if self.reached[low] else None)
            for low, high in pairwise(Stage)
        ]


@dataclass(frozen=True)
class CommunityReuses:
    """A community on the other side of reuses: named when the viewer may see it, else `slug` is None."""

    slug: str | None
    name: str
    reuses: int


@dataclass(frozen=True)
class SectorReuses:
    sector: str
    reuses: int


@dataclass(frozen=True)
class InsightReuses:
    insight: int
    reuses: int


@dataclass(frozen=True)
class ReuseSummary:
    """How often the community's insights were reused, and by how many communities; the communities that
    reused them, their sectors and the insights, and the communities whose insights it reused (each list
    the MOST first)."""

    reuses: int
    communities: int
    by_community: list[CommunityReuses]
    by_sector: list[SectorReuses]
    insights: list[InsightReuses]
    reused_from: list[CommunityReuses]


@dataclass(frozen=True)
class Dashboard:
    community: Community
    as_of: datetime
    funnel: list[StageCount]
    months: list[MonthFigures]
    reuse: ReuseSummary

    @property
    def community_slug(self) -> str:
        return self.community.slug


def dashboard(
    *,
    session: Session,
    community: Community,
    viewer: Member | None,
    now: datetime,
    months: int = DEFAULT_MONTHS,
) -> Dashboard:
    """The community's funnel now and at the end of each of the last `months` months, and its reuse."""
    permissions.require_dashboard(community, viewer, communities.membership_of(session, community, viewer))
    ends = month_ends(now, months)
    moments = [end for _, end in ends]
    history = [footprint.stages(moments) for footprint in _footprints_in(session, community.id, moments)]
    figures = [
        MonthFigures(first, _reached(Counter(row[number] for row in history)))
        for number, (first, _) in enumerate(ends)
    ]
    now_exact = Counter(row[-1] for row in history)
    funnel = [StageCount(stage, now_exact[stage], figures[-1].reached[stage]) for stage in Stage]
    return Dashboard(community, now, funnel, figures, _reuse(session, community, viewer))


def month_ends(now: datetime, months: int) -> list[tuple[date, datetime]]:
    """The first day of each of the last `months` months (this one last), with the month's last moment
    (for this month: `now`)."""
    now = now.astimezone(UTC)
    this_month = now.year * 12 + now.month - 1
    numbers = range(this_month - months + 1, this_month + 1)
    ends = [_first_day(number + 1) - timedelta(microseconds=1) for number in numbers[:-1]]
    return [(_first_day(number).date(), end) for number, end in zip(numbers, [*ends, now], strict=True)]


def _first_day(month_number: int) -> datetime:
    """The first moment of a month counted from year 0 (`year * 12 + month - 1`)."""
    year, month = divmod(month_number, 12)
    return datetime(year, month + 1, 1, tzinfo=UTC)


def _reached(exact: Counter[Stage | None]) -> dict[Stage, int]:
    return {stage: sum(exact[higher] for higher in Stage if higher.rank >= stage.rank) for stage in Stage}


def _footprints_in(session: Session, community_id: int, moments: list[datetime]) -> list[stages.Footprint]:
    """Every member's footprint in the community: a few grouped queries, whatever the number of members."""
    where = activity.in_community(community_id)
    found = {row.member_id: row for row in activity.activity(session, where, moments)}
    visits = _visits(session, CommunityVisit.community_id == community_id, CommunityVisit.member_id)
    promoted = activity.promotions(session, community_id)
    roles = _memberships(session, Membership.community_id == community_id, Membership.member_id, promoted)
    contributors = [member for member, row in found.items() if row.contributed_at is not None]
    elsewhere = activity.contributions_elsewhere(session, community_id, contributors)
    return [
        stages.footprint(
            member_id=member,
            community_id=community_id,
            moments=len(moments),
            activity=found.get(member),
            visited_at=visits.get(member),
            membership=roles.get(member),
            elsewhere_at=elsewhere.get(member),
        )
        for member in found.keys() | visits.keys() | roles.keys()
    ]


# --- the reuse of a community's insights ----------------------------------------------------------------

PRIVATE = "a private community"
MOST = 20  # rows of each reuse list: the most reused first


def _reuse(session: Session, community: Community, viewer: Member | None) -> ReuseSummary:
    found = activity.reuses(session, community.id)
    outgoing = [reuse for reuse in found if reuse.origin_id == community.id]
    incoming = [reuse for reuse in found if reuse.reuser_id == community.id]
    named = _visible(session, {r.reuser_id for r in outgoing} | {r.origin_id for r in incoming}, viewer)
    sectors = _sectors(session, list(named))
    insights = Counter(reuse.insight for reuse in outgoing if reuse.insight is not None)
    reusers = Counter(reuse.reuser_id for reuse in outgoing)
    return ReuseSummary(
        reuses=len(outgoing),
        communities=len(reusers),
        by_community=_by_community(reusers, named)[:MOST],
        by_sector=_by_sector(outgoing, sectors)[:MOST],
        insights=[InsightReuses(insight, count) for insight, count in _ranked(insights)[:MOST]],
        reused_from=_by_community(Counter(reuse.origin_id for reuse in incoming), named)[:MOST],
    )


def _by_community(counts: Counter[int], named: dict[int, Community]) -> list[CommunityReuses]:
    """Reuses by community, most first; the communities the viewer may not see count as one."""
    shown = sorted(
        ((named[key], count) for key, count in counts.items() if key in named),
        key=lambda item: (-item[1], item[0].name),
    )
    rows = [CommunityReuses(community.slug, community.name, count) for community, count in shown]
    hidden = sum(count for key, count in counts.items() if key not in named)
    return [*rows, CommunityReuses(None, PRIVATE, hidden)] if hidden else rows


def _by_sector(outgoing: list[activity.Reuse], sectors: dict[int, list[str]]) -> list[SectorReuses]:
    """Reuses by the sectors of the reusing communities; those the viewer may not see count as "private"."""
    counts = Counter(sector for reuse in outgoing for sector in sectors.get(reuse.reuser_id, ["private"]))
    return [SectorReuses(sector, count) for sector, count in _ranked(counts)]


def _sectors(session: Session, community_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    rows = session.execute(
        select(CommunitySector.community_id, CommunitySector.sector).where(
            CommunitySector.community_id.in_(community_ids)
        )
    ).all()
    for community_id, sector in rows:
        found.setdefault(community_id, []).append(sector)
    return found


def _ranked(counts: Counter[Ranked]) -> list[tuple[Ranked, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
