"""The rules of communities: who creates, finds, joins, leaves and runs them."""

from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, update
from sqlalchemy.orm import Session

from aicommons.communities import permissions, rewards
from aicommons.communities.models import (
    Community,
    CommunitySdg,
    CommunitySector,
    CommunityStats,
    Format,
    JoinPolicy,
    Membership,
    MembershipStatus,
    Role,
    Visibility,
)
from aicommons.communities.permissions import Action
from aicommons.communities.schemas import CommunityCreate, CommunityFilter, CommunityRegister, CommunityUpdate
from aicommons.core import jobs
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest, paginate
from aicommons.ledger import service as ledger
from aicommons.members import service as members
from aicommons.members.models import GlobalRole, Member

STATS_JOB = "community:stats:refresh"


def create(*, session: Session, creator: Member, form: CommunityCreate) -> Community:
    """A new community with its creator as steward; the creation reward waits until members join."""
    community = _new_community(session, form, creator)
    _record(session, rewards.CREATE, creator, community, _public_facts(community))
    rewards.promise(session, community, rewards.CREATE, [creator.id])
    _add_membership(session, community, creator, Role.STEWARD)
    session.flush()
    return community


def register(*, session: Session, registrar: Member, form: CommunityRegister) -> Community:
    """An existing team as a community: its named steward leads it, the registrar organizes."""
    steward = members.get(session=session, handle=form.steward)
    community = _new_community(session, form, registrar)
    community.registered = True
    community.channels = [channel.model_dump(mode="json") for channel in form.channels]
    facts = _public_facts(community) | {"steward": steward.id}
    _record(session, rewards.REGISTER, registrar, community, facts)
    rewards.promise(session, community, rewards.REGISTER, [registrar.id, steward.id])
    _add_membership(session, community, steward, Role.STEWARD, actor=registrar)
    if steward.id != registrar.id:
        _add_membership(session, community, registrar, Role.ORGANIZER)
    session.flush()
    return community


def _new_community(session: Session, form: CommunityCreate, creator: Member) -> Community:
    if session.scalar(select(Community.id).where(Community.slug == form.slug)):
        raise CommonsError(ErrorCode.SLUG_TAKEN, f"the slug {form.slug!r} is taken")
    fields = form.model_dump(include=set(CommunityCreate.model_fields) - {"sectors", "sdgs"})
    community = Community(**fields, created_by_id=creator.id, member_count=0)
    _set_tags(community, sectors=[str(s) for s in form.sectors], sdgs=form.sdgs)
    session.add(community)
    session.flush()
    return community


def _set_tags(
    community: Community, *, sectors: list[str] | None = None, sdgs: list[int] | None = None
) -> None:
    if sectors is not None:
        community.sector_rows = [CommunitySector(sector=sector) for sector in sectors]
    if sdgs is not None:
        community.sdg_rows = [CommunitySdg(goal=goal) for goal in sdgs]


def get(*, session: Session, slug: str, viewer: Member | None) -> Community:
    """The community with this slug, as long as the viewer may know it exists."""
    community = session.scalar(select(Community).where(Community.slug == slug))
    if community is None or not permissions.may_see(
        community, viewer, membership_of(session, community, viewer)
    ):
        raise CommonsError(ErrorCode.COMMUNITY_NOT_FOUND, f"no community {slug!r}")
    return community


def membership_of(session: Session, community: Community, member: Member | None) -> Membership | None:
    if member is None:
        return None
    return session.scalar(
        select(Membership).where(Membership.community_id == community.id, Membership.member_id == member.id)
    )


def search(
    *, session: Session, viewer: Member | None, filters: CommunityFilter, page: PageRequest
) -> Page[Community]:
    query = select(Community).where(_visible_to(viewer), *_matching(filters, viewer))
    return paginate(session, query.order_by(Community.name, Community.id), page)


def _active_community_ids(member: Member) -> Select[int]:
    return select(Membership.community_id).where(
        Membership.member_id == member.id, Membership.status == MembershipStatus.ACTIVE
    )


def _visible_to(viewer: Member | None) -> ColumnElement[bool]:
    public = Community.visibility == Visibility.PUBLIC
    if viewer is None:
        return public
    if viewer.role == GlobalRole.ADMIN:
        return Community.id.is_not(None)
    return or_(public, Community.id.in_(_active_community_ids(viewer)))


def _matching(filters: CommunityFilter, viewer: Member | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Community.archived_at.is_not(None) if filters.archived else Community.archived_at.is_(None)
    ]
    if filters.q:
        pattern = "%" + filters.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                func.lower(Community.name).like(pattern, escape="\\"),
                func.lower(Community.description).like(pattern, escape="\\"),
            )
        )
    if filters.format:
        conditions.append(Community.format == filters.format)
    if filters.region:
        conditions.append(Community.region == filters.region)
    if filters.sector:
        conditions.append(
            Community.id.in_(
                select(CommunitySector.community_id).where(CommunitySector.sector == filters.sector)
            )
        )
    if filters.sdg:
        conditions.append(
            Community.id.in_(select(CommunitySdg.community_id).where(CommunitySdg.goal == filters.sdg))
        )
    if filters.mine:
        conditions.append(Community.id.in_(_active_community_ids(viewer)) if viewer else false())
    return conditions


def active_in(
    *, session: Session, member: Member, viewer: Member | None, page: PageRequest
) -> Page[Community]:
    """The communities `member` is active in, as far as `viewer` may see them (a public profile)."""
    query = select(Community).where(Community.id.in_(_active_community_ids(member)), _visible_to(viewer))
    return paginate(session, query.order_by(Community.name, Community.id), page)


def count_by_format(*, session: Session, viewer: Member | None) -> dict[str, int]:
    """How many open (not archived) communities of each format the viewer may see."""
    found = dict(
        session.execute(
            select(Community.format, func.count())
            .where(_visible_to(viewer), Community.archived_at.is_(None))
            .group_by(Community.format)
        ).all()
    )
    return {str(kind): int(found.get(kind, 0)) for kind in Format}


def update_community(
    *, session: Session, actor: Member, community: Community, changes: CommunityUpdate
) -> Community:
    _require(session, Action.EDIT, actor, community)
    _require_open(community)
    values = changes.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    _set_tags(community, sectors=values.pop("sectors", None), sdgs=values.pop("sdgs", None))
    for field, value in values.items():
        setattr(community, field, value)
    changed = sorted(changes.model_fields_set)
    _record(session, "communities:community:update", actor, community, {"fields": changed})
    session.flush()
    return community


def archive(*, session: Session, actor: Member, community: Community) -> Community:
    _require(session, Action.ARCHIVE, actor, community)
    if community.archived_at is None:
        community.archived_at = utcnow()
        _record(session, "communities:community:archive", actor, community)
    session.flush()
    return community


def join(*, session: Session, community: Community, member: Member) -> Membership:
    """Join an open community, ask to join an approval-only one, or accept an invitation."""
    _require_open(community)
    membership = membership_of(session, community, member)
    if membership is not None and membership.status == MembershipStatus.INVITED:
        return _activate(session, membership)
    if membership is not None:
        raise CommonsError(
            ErrorCode.ALREADY_MEMBER, f"you are already {membership.status} in {community.slug}"
        )
    if community.join_policy == JoinPolicy.INVITE:
        raise CommonsError(ErrorCode.COMMUNITY_CLOSED, f"{community.slug} takes members by invitation only")
    status = (
        MembershipStatus.PENDING if community.join_policy == JoinPolicy.APPROVAL else MembershipStatus.ACTIVE
    )
    membership = _add_membership(session, community, member, Role.MEMBER, status=status)
    session.flush()
    return membership


def leave(*, session: Session, community: Community, member: Member) -> None:
    """Leave, withdraw a request to join, or decline an invitation."""
    membership = membership_of(session, community, member)
    if membership is None:
        raise CommonsError(ErrorCode.NOT_MEMBER, f"you are not in {community.slug}")
    _remove(session, community, membership)


def decide(
    *, session: Session, actor: Member, community: Community, handle: str, approve: bool
) -> Membership:
    """Approve or reject a pending request to join."""
    _require(session, Action.DECIDE_REQUESTS, actor, community)
    _require_open(community)
    membership = _membership_by_handle(session, community, handle)
    if membership is None or membership.status != MembershipStatus.PENDING:
        raise CommonsError(ErrorCode.REQUEST_NOT_FOUND, f"{handle} has not asked to join {community.slug}")
    if approve:
        return _activate(session, membership, actor)
    _record(session, "communities:member:reject", actor, community, {"member": membership.member_id})
    session.delete(membership)
    session.flush()
    return membership


def invite(*, session: Session, actor: Member, community: Community, handle: str) -> Membership:
    _require(session, Action.INVITE, actor, community)
    _require_open(community)
    invitee = members.get(session=session, handle=handle)
    existing = membership_of(session, community, invitee)
    if existing is not None and existing.status == MembershipStatus.PENDING:
        return _activate(session, existing, actor)
    if existing is not None:
        raise CommonsError(
            ErrorCode.ALREADY_MEMBER, f"{handle} is already {existing.status} in {community.slug}"
        )
    membership = _add_membership(
        session, community, invitee, Role.MEMBER, status=MembershipStatus.INVITED, actor=actor
    )
    session.flush()
    return membership


def set_role(*, session: Session, actor: Member, community: Community, handle: str, role: Role) -> Membership:
    _require(session, Action.SET_ROLES, actor, community)
    membership = _membership_by_handle(session, community, handle)
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        raise CommonsError(ErrorCode.NOT_MEMBER, f"{handle} is not a member of {community.slug}")
    if membership.role == Role.STEWARD and role != Role.STEWARD:
        _keep_a_steward(session, community)
    membership.role = role
    _record(
        session, "communities:member:role", actor, community, {"member": membership.member_id, "role": role}
    )
    session.flush()
    return membership


def list_members(
    *,
    session: Session,
    viewer: Member | None,
    community: Community,
    status: MembershipStatus,
    page: PageRequest,
) -> Page[Membership]:
    """Active members for anyone who may see the community; requests and invitations for its organizers."""
    if status != MembershipStatus.ACTIVE:
        _require_viewer(session, Action.DECIDE_REQUESTS, viewer, community)
    query = select(Membership).where(Membership.community_id == community.id, Membership.status == status)
    return paginate(session, query.order_by(Membership.role.desc(), Membership.id), page)


def request_stats_refresh(*, session: Session, actor: Member, community: Community) -> jobs.Job:
    _require(session, Action.REFRESH_STATS, actor, community)
    _require_open(community)
    return jobs.enqueue(session, STATS_JOB, {"community_id": community.id}, submitted_by_id=actor.id)


def stats(*, session: Session, community: Community) -> CommunityStats | None:
    return session.get(CommunityStats, community.id)


def refresh_stats(context: jobs.JobContext) -> dict[str, Any]:
    """The statistics job: member figures by role, sector and language for one community."""
    community_id = int(context.payload["community_id"])
    with context.step() as session:
        rows = session.execute(
            select(Membership.role, Member.sectors, Member.languages)
            .join(Member, Member.id == Membership.member_id)
            .where(Membership.community_id == community_id, Membership.status == MembershipStatus.ACTIVE)
        ).all()
        pending = session.scalar(
            select(func.count()).where(
                Membership.community_id == community_id, Membership.status == MembershipStatus.PENDING
            )
        )
    context.progress(0.5, f"counted {len(rows)} member{'s' if len(rows) != 1 else ''}")
    figures = {
        "members": len(rows),
        "pending": pending or 0,
        "by_role": _tally(str(role) for role, _, _ in rows),
        "by_sector": _tally(sector for _, sectors, _ in rows for sector in sectors or []),
        "by_language": _tally(language for _, _, languages in rows for language in languages or []),
    }
    with context.step() as session:
        stats_row = session.get(CommunityStats, community_id) or CommunityStats(community_id=community_id)
        stats_row.figures, stats_row.refreshed_at = figures, utcnow()
        session.merge(stats_row)
    return figures


def _tally(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _require(session: Session, action: Action, actor: Member, community: Community) -> None:
    permissions.require(action, actor, membership_of(session, community, actor))


def _require_viewer(session: Session, action: Action, viewer: Member | None, community: Community) -> None:
    if viewer is None:
        raise CommonsError(ErrorCode.NOT_AUTHENTICATED)
    _require(session, action, viewer, community)


def _require_open(community: Community) -> None:
    if community.archived:
        raise CommonsError(ErrorCode.COMMUNITY_ARCHIVED, f"{community.slug} is archived")


def _membership_by_handle(session: Session, community: Community, handle: str) -> Membership | None:
    return session.scalar(
        select(Membership)
        .join(Member, Member.id == Membership.member_id)
        .where(Membership.community_id == community.id, Member.handle == handle.lower())
    )


def _add_membership(
    session: Session,
    community: Community,
    member: Member,
    role: Role,
    *,
    status: MembershipStatus = MembershipStatus.ACTIVE,
    actor: Member | None = None,
) -> Membership:
    membership = Membership(community_id=community.id, member=member, role=role, status=status)
    session.add(membership)
    facts = {"member": member.id, "role": str(role)}
    _record(session, MEMBERSHIP_EVENTS[status], actor or member, community, facts)
    if status == MembershipStatus.ACTIVE:
        _now_active(session, community)
    return membership


def _activate(session: Session, membership: Membership, actor: Member | None = None) -> Membership:
    membership.status = MembershipStatus.ACTIVE
    facts = {"member": membership.member_id, "role": str(membership.role)}
    _record(session, "communities:member:join", actor or membership.member, membership.community, facts)
    _now_active(session, membership.community)
    session.flush()
    return membership


def _now_active(session: Session, community: Community) -> None:
    """One more active member: count them, and pay the community's rewards that this makes due."""
    _count_members(session, community, +1)
    rewards.pay_due(session, community)


def _remove(session: Session, community: Community, membership: Membership) -> None:
    if membership.status == MembershipStatus.ACTIVE:
        if membership.role == Role.STEWARD:
            _keep_a_steward(session, community)
        _count_members(session, community, -1)
    facts = {"member": membership.member_id, "was": str(membership.status)}
    _record(session, "communities:member:leave", membership.member, community, facts)
    session.delete(membership)
    session.flush()


MEMBERSHIP_EVENTS = {
    MembershipStatus.ACTIVE: "communities:member:join",
    MembershipStatus.PENDING: "communities:member:request",
    MembershipStatus.INVITED: "communities:member:invite",
}


def _record(
    session: Session, event: str, actor: Member, community: Community, data: dict[str, Any] | None = None
) -> None:
    ledger.record(session, event, actor_id=actor.id, community_id=community.id, data=data or {})


def _public_facts(community: Community) -> dict[str, Any]:
    """What the log tells of a community: its kind, never a private community's name or slug."""
    facts: dict[str, Any] = {"format": str(community.format), "visibility": str(community.visibility)}
    if community.visibility == Visibility.PUBLIC:
        facts |= {"slug": community.slug, "sdgs": community.sdgs}
    return facts


def _keep_a_steward(session: Session, community: Community) -> None:
    stewards = session.scalar(
        select(func.count()).where(
            Membership.community_id == community.id,
            Membership.role == Role.STEWARD,
            Membership.status == MembershipStatus.ACTIVE,
        )
    )
    if (stewards or 0) <= 1:
        raise CommonsError(ErrorCode.LAST_STEWARD, f"name another steward of {community.slug} first")


def _count_members(session: Session, community: Community, change: int) -> None:
    """Keep the member count exact under concurrent joins: the database adds, not Python."""
    session.execute(
        update(Community)
        .where(Community.id == community.id)
        .values(member_count=Community.member_count + change)
        .execution_options(synchronize_session=False)
    )
    session.expire(community, ["member_count"])
