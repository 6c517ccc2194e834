"""The rules of insights: publishing, the network feed and its search, replies and answers,
endorsements, and one community recording that it reused another's insight."""

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, UnaryExpression, and_, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, joinedload, lazyload

from aicommons.communities import service as communities
from aicommons.communities.models import Community, Membership, MembershipStatus, Role, Visibility
from aicommons.communities.permissions import may_see
from aicommons.core import ratelimit
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest, paginate
from aicommons.insights import fulltext, permissions
from aicommons.insights.models import (
    Audience,
    Endorsement,
    Facet,
    Insight,
    InsightTopic,
    Kind,
    Reply,
    Reuse,
)
from aicommons.insights.permissions import Action
from aicommons.insights.schemas import InsightCreate, InsightFilter, ReplyCreate, ReuseCreate
from aicommons.ledger import service as ledger
from aicommons.members.models import GlobalRole, Member
from aicommons.members.notifications import notify

T = TypeVar("T")
POSTING = ratelimit.Limit(10, timedelta(hours=1))
REPLYING = ratelimit.Limit(30, timedelta(hours=1))
NEWEST_FIRST = Insight.id.desc()  # ids grow with time: the newest insight has the highest
# A listed insight needs its community's name, not the community's sectors and goals.
LISTED = (
    joinedload(Insight.community).options(lazyload(Community.sector_rows), lazyload(Community.sdg_rows)),
    joinedload(Insight.author),
    joinedload(Insight.topics),
)
COUNTED = 200  # a feed counts its insights up to here: counting 100,000 would cost more than the page


# --- publishing and reading -------------------------------------------------------------------------


def publish(*, session: Session, author: Member, form: InsightCreate) -> Insight:
    """A new insight in one of the author's communities, filed under its community's sectors if none given."""
    community = communities.get(session=session, slug=form.community, viewer=author)
    _require_open(community)
    permissions.require(Action.POST, author, communities.membership_of(session, community, author))
    ratelimit.hit(session, f"insight:member:{author.id}", POSTING)
    fields = form.model_dump(include={"kind", "title", "body", "audience", "license"})
    insight = Insight(**fields, community=community, author=author, evidence=[str(u) for u in form.evidence])
    insight.topics = _topics(form, community)
    session.add(insight)
    session.flush()
    facts = {"kind": str(insight.kind), "audience": str(insight.audience), "sectors": insight.sectors}
    _record(session, "insights:insight:publish", author, insight, facts | {"sdgs": insight.sdgs})
    return insight


def _topics(form: InsightCreate, community: Community) -> list[InsightTopic]:
    filed = {
        Facet.COMMUNITY: [community.slug],  # so that one community's feed walks an index like a tag's
        Facet.SECTOR: [str(sector) for sector in form.sectors] or community.sectors,
        Facet.SDG: [str(goal) for goal in form.sdgs],
        Facet.TAG: form.tags,
        Facet.RISK: [str(risk) for risk in form.risks],
    }
    return [
        InsightTopic(facet=facet, value=value) for facet, values in filed.items() for value in sorted(values)
    ]


def get(*, session: Session, insight_id: int, viewer: Member | None) -> Insight:
    """The insight, as long as the viewer may read it (otherwise it does not exist for them)."""
    insight = session.get(Insight, insight_id)
    if insight is None or not permissions.may_read(
        insight, viewer, communities.membership_of(session, insight.community, viewer)
    ):
        raise CommonsError(ErrorCode.INSIGHT_NOT_FOUND, f"no insight {insight_id}")
    return insight


@dataclass
class Feed(Page[Insight]):
    """A page of the feed; `more` says that there are more insights than `total` counts, `ranked` that
    a search came best match first."""

    more: bool = False
    ranked: bool = False

    @property
    def pages(self) -> int:
        counted = super().pages
        return counted + 1 if self.more and self.page >= counted else counted


def feed(*, session: Session, viewer: Member | None, filters: InsightFilter, page: PageRequest) -> Feed:
    """The insights the viewer may read, narrowed by the filters: newest first, or best match first."""
    searching = bool(fulltext.words(filters.q))
    query, newest_first = _feed_query(session, viewer, filters, walk_topic=not searching)
    search = fulltext.narrowed(session, query, Insight.id, filters.q)
    if search is None:
        return _counted(session, query.order_by(newest_first), page)
    if search.broad:
        return _uncounted(session, search.query, page)
    return replace(_counted(session, search.query, page), ranked=True)


def _counted(session: Session, query: Select[Insight], page: PageRequest) -> Feed:
    """A page, with the insights counted up to COUNTED: the ids of those come in one query, in order,
    and the page is cut from them (a page past them asks again)."""
    ids = query.with_only_columns(Insight.id)
    first = list(session.scalars(ids.limit(COUNTED + 1)))
    end = page.offset + page.size
    shown = first[page.offset : end] if end <= len(first) or len(first) <= COUNTED else None
    if shown is None:
        shown = list(session.scalars(ids.limit(page.size).offset(page.offset)))
    more = len(first) > COUNTED
    return Feed(_listed(session, shown), min(len(first), COUNTED), page.page, page.size, more=more)


def _uncounted(session: Session, query: Select[Insight], page: PageRequest) -> Feed:
    """A page of a search too broad to count: `total` is what the pages so far hold."""
    ids = list(session.scalars(query.with_only_columns(Insight.id).limit(page.size + 1).offset(page.offset)))
    shown = ids[: page.size]
    more = len(ids) > page.size
    return Feed(_listed(session, shown), page.offset + len(shown), page.page, page.size, more=more)


def _listed(session: Session, ids: list[int]) -> list[Insight]:
    """A page's insights in its order, loaded after the page was chosen (the databases sort ids, not
    whole insights), with their community, author and topics in the same query."""
    listed = session.scalars(select(Insight).options(*LISTED).where(Insight.id.in_(ids))).unique()
    found = {insight.id: insight for insight in listed}
    return [found[insight_id] for insight_id in ids]


def _feed_query(
    session: Session, viewer: Member | None, filters: InsightFilter, *, walk_topic: bool
) -> tuple[Select[Insight], UnaryExpression[int]]:
    """The feed's rows, and "newest first" through the index that serves it: the first topic filter's
    when `walk_topic` (walked from its newest insight), or the insights' own (decision 0022). A search
    walks its matches instead, so it checks every topic filter on them."""
    filed = _filed(filters)
    walked = filed[:1] if walk_topic else []
    conditions = _narrowed_by(filters, filed[len(walked) :])
    query = readable(session, select(Insight), viewer).where(*conditions)
    if not walked:
        return query, Insight.id.desc()
    (facet, value), first = walked[0], aliased(InsightTopic, name="filed")
    joined = and_(first.insight_id == Insight.id, first.facet == facet, first.value == value)
    return query.join(first, joined), first.insight_id.desc()


def readable(session: Session, query: Select[T], viewer: Member | None) -> Select[T]:
    """`query` of insights kept to those the viewer may read (permissions.may_read as SQL): network
    insights of public communities, and the insights of the viewer's own communities. The community is
    joined rather than looked up in a subquery, which both planners cost well (decision 0022)."""
    query = query.join(Community, Community.id == Insight.community_id)
    if viewer is not None and viewer.role == GlobalRole.ADMIN:
        return query
    network = and_(Insight.audience == Audience.NETWORK, Community.visibility == Visibility.PUBLIC)
    mine = list(session.scalars(_active_community_ids(viewer))) if viewer is not None else []
    return query.where(or_(network, Insight.community_id.in_(mine)) if mine else network)


def _active_community_ids(member: Member) -> Select[int]:
    return select(Membership.community_id).where(
        Membership.member_id == member.id, Membership.status == MembershipStatus.ACTIVE
    )


def filed_under(facet: Facet, value: str) -> ColumnElement[bool]:
    """The insights of a community (by slug), or filed under a sector, goal, tag or risk domain."""
    topics = select(InsightTopic.insight_id).where(InsightTopic.facet == facet, InsightTopic.value == value)
    return Insight.id.in_(topics)


def _filed(filters: InsightFilter) -> list[tuple[Facet, str]]:
    chosen = {
        Facet.COMMUNITY: filters.community,
        Facet.TAG: filters.tag,
        Facet.RISK: filters.risk,
        Facet.SDG: filters.sdg,
        Facet.SECTOR: filters.sector,
    }
    return [(facet, str(value)) for facet, value in chosen.items() if value is not None]


def _narrowed_by(filters: InsightFilter, filed: list[tuple[Facet, str]]) -> list[ColumnElement[bool]]:
    conditions = [filed_under(facet, value) for facet, value in filed]
    if filters.kind:
        conditions.append(Insight.kind == filters.kind)
    if filters.format:
        conditions.append(Community.format == filters.format)  # the community is joined (see readable)
    return conditions


def postable_communities(*, session: Session, member: Member) -> list[Community]:
    """The open communities the member is active in: where they may post."""
    query = select(Community).where(
        Community.id.in_(_active_community_ids(member)), Community.archived_at.is_(None)
    )
    return list(session.scalars(query.order_by(Community.name)))


# --- replies and answers ----------------------------------------------------------------------------


def reply(*, session: Session, author: Member, insight: Insight, form: ReplyCreate) -> Reply:
    """A reply from anyone who may read the insight; its author hears of it."""
    _require_open(insight.community)
    ratelimit.hit(session, f"insight-reply:member:{author.id}", REPLYING)
    answer = Reply(insight_id=insight.id, author=author, body=form.body)
    session.add(answer)
    _count(session, insight, Insight.reply_count, +1)
    session.flush()
    _record(session, "insights:reply:create", author, insight, subject={"reply": answer.id})
    if insight.author_id is not None and insight.author_id != author.id:
        title = f"{author.display_name} replied to “{insight.title}”"
        notify(session, insight.author_id, kind="reply", title=title, url=f"/insights/{insight.id}#replies")
    return answer


def replies(*, session: Session, insight: Insight, page: PageRequest) -> Page[Reply]:
    """The accepted answer first, then the conversation in order."""
    query = select(Reply).where(Reply.insight_id == insight.id)
    return paginate(session, query.order_by(Reply.accepted_at.is_(None), Reply.id), page)


def accept(*, session: Session, actor: Member, insight: Insight, reply_id: int) -> Reply:
    """The asker marks one reply as the answer to their question (replacing an earlier choice)."""
    permissions.require_accept(insight, actor)
    if insight.kind != Kind.QUESTION:
        raise CommonsError(
            ErrorCode.NOT_A_QUESTION, f"insight {insight.id} is a {insight.kind}, not a question"
        )
    answer = session.scalar(select(Reply).where(Reply.id == reply_id, Reply.insight_id == insight.id))
    if answer is None:
        raise CommonsError(ErrorCode.REPLY_NOT_FOUND, f"insight {insight.id} has no reply {reply_id}")
    if answer.accepted_at is None:
        earlier = update(Reply).where(Reply.insight_id == insight.id, Reply.accepted_at.is_not(None))
        session.execute(earlier.values(accepted_at=None).execution_options(synchronize_session="fetch"))
        answer.accepted_at = utcnow()
        _record(session, "insights:answer:accept", actor, insight, subject={"reply": answer.id})
    session.flush()
    return answer


# --- endorsements -----------------------------------------------------------------------------------


def endorse(*, session: Session, member: Member, insight: Insight) -> Insight:
    """Say that an insight is worth reading (once; a second time changes nothing)."""
    permissions.require_endorse(insight, member)
    if not has_endorsed(session, insight, member):
        session.add(Endorsement(insight_id=insight.id, member_id=member.id))
        _count(session, insight, Insight.endorsement_count, +1)
        _record(session, "insights:endorsement:add", member, insight)
    session.flush()
    return insight


def withdraw_endorsement(*, session: Session, member: Member, insight: Insight) -> Insight:
    endorsement = session.get(Endorsement, (insight.id, member.id))
    if endorsement is not None:
        session.delete(endorsement)
        _count(session, insight, Insight.endorsement_count, -1)
        _record(session, "insights:endorsement:remove", member, insight)
    session.flush()
    return insight


def has_endorsed(session: Session, insight: Insight, member: Member | None) -> bool:
    return member is not None and session.get(Endorsement, (insight.id, member.id)) is not None


# --- reuse across communities -----------------------------------------------------------------------


def record_reuse(*, session: Session, actor: Member, insight: Insight, form: ReuseCreate) -> Reuse:
    """A steward or organizer records that their community used another community's network insight."""
    community = communities.get(session=session, slug=form.community, viewer=actor)
    if community.id == insight.community_id:
        raise CommonsError(ErrorCode.OWN_INSIGHT, f"the insight is {community.slug}'s own")
    _require_open(community)
    permissions.require(Action.RECORD_REUSE, actor, communities.membership_of(session, community, actor))
    permissions.require_reusable(insight)
    if session.scalar(
        select(Reuse.id).where(Reuse.insight_id == insight.id, Reuse.community_id == community.id)
    ):
        raise CommonsError(ErrorCode.ALREADY_REUSED, f"{community.slug} already recorded reusing it")
    reuse = Reuse(
        insight_id=insight.id,
        community=community,
        origin_community_id=insight.community_id,
        sectors=community.sectors,
        origin_sectors=insight.community.sectors,
        note=form.note,
        recorded_by_id=actor.id,
    )
    session.add(reuse)
    _count(session, insight, Insight.reuse_count, +1)
    session.flush()
    _record_reuse(session, actor, reuse)
    return reuse


def _record_reuse(session: Session, actor: Member, reuse: Reuse) -> None:
    """On the log under the reusing community, which is where the member acted."""
    ledger.record(
        session,
        "insights:reuse:record",
        actor_id=actor.id,
        community_id=reuse.community_id,
        subject={"insight": reuse.insight_id, "origin_community": reuse.origin_community_id},
        data={"sectors": reuse.sectors, "origin_sectors": reuse.origin_sectors},
    )


def reuses(*, session: Session, insight: Insight, page: PageRequest) -> Page[Reuse]:
    query = (
        select(Reuse).where(Reuse.insight_id == insight.id).order_by(Reuse.created_at.desc(), Reuse.id.desc())
    )
    return paginate(session, query, page)


def reused_by(
    *, session: Session, viewer: Member | None, community: Community, page: PageRequest
) -> Page[Reuse]:
    """What a community took from others, as far as the viewer may read those insights."""
    query = readable(session, select(Reuse).join(Insight, Insight.id == Reuse.insight_id), viewer)
    query = query.where(Reuse.community_id == community.id)
    return paginate(session, query.order_by(Reuse.created_at.desc(), Reuse.id.desc()), page)


def named_community(session: Session, reuse: Reuse, viewer: Member | None) -> Community | None:
    """The reusing community, or None when the viewer may not know that it exists (a private one)."""
    community = reuse.community
    membership = communities.membership_of(session, community, viewer)
    return community if may_see(community, viewer, membership) else None


def reusing_communities(*, session: Session, actor: Member | None, insight: Insight) -> list[Community]:
    """Where the actor may record reusing this insight: communities they steward or organize, but its own
    and those that already recorded it."""
    if actor is None or not permissions.reaches_network(insight):
        return []
    recorded = select(Reuse.community_id).where(Reuse.insight_id == insight.id)
    led = select(Membership.community_id).where(
        Membership.member_id == actor.id,
        Membership.status == MembershipStatus.ACTIVE,
        Membership.role.in_([Role.STEWARD, Role.ORGANIZER]),
    )
    query = select(Community).where(
        Community.id.in_(led),
        Community.id != insight.community_id,
        Community.id.not_in(recorded),
        Community.archived_at.is_(None),
    )
    return list(session.scalars(query.order_by(Community.name)))


@dataclass(frozen=True)
class Reach:
    """How far a community's insights travelled, and how much it took from others."""

    reused_insights: int
    reused_by_communities: int
    reused_by_sectors: list[str]
    reused_from_others: int


def reach(*, session: Session, community: Community) -> Reach:
    """Counted from every reuse record: the numbers name no community."""
    travelled = session.execute(
        select(Reuse.insight_id, Reuse.community_id, Reuse.sectors).where(
            Reuse.origin_community_id == community.id
        )
    ).all()
    taken = session.scalar(select(func.count()).where(Reuse.community_id == community.id)) or 0
    return Reach(
        reused_insights=len({row.insight_id for row in travelled}),
        reused_by_communities=len({row.community_id for row in travelled}),
        reused_by_sectors=sorted({sector for row in travelled for sector in row.sectors}),
        reused_from_others=taken,
    )


def travelled_sectors(*, session: Session, insight: Insight) -> list[str]:
    """Every sector an insight reached: its community's and those of the communities that reused it."""
    rows = session.scalars(select(Reuse.sectors).where(Reuse.insight_id == insight.id))
    return sorted({*insight.community.sectors, *(sector for sectors in rows for sector in sectors)})


# --- shared -----------------------------------------------------------------------------------------


def _require_open(community: Community) -> None:
    if community.archived:
        raise CommonsError(ErrorCode.COMMUNITY_ARCHIVED, f"{community.slug} is archived")


def _count(session: Session, insight: Insight, counter: InstrumentedAttribute[int], change: int) -> None:
    """The database adds, not Python, so that concurrent endorsements or replies all count."""
    session.execute(
        update(Insight)
        .where(Insight.id == insight.id)
        .values({counter: counter + change})
        .execution_options(synchronize_session=False)
    )
    session.expire(insight, [counter.key])


def _record(
    session: Session,
    event: str,
    actor: Member,
    insight: Insight,
    data: dict[str, Any] | None = None,
    *,
    subject: dict[str, Any] | None = None,
) -> None:
    """On the log: ids, kinds and tags only, never what people wrote (it may be a community's own)."""
    ledger.record(
        session,
        event,
        actor_id=actor.id,
        community_id=insight.community_id,
        subject={"insight": insight.id, **(subject or {})},
        data=data or {},
    )
