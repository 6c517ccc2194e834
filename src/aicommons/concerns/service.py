"""The rules of concerns: raising one, its lifecycle, corroboration, flags and moderation, responses."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.communities.models import Community, Format, Membership, MembershipStatus, Role, Visibility
from aicommons.concerns import permissions, presentation
from aicommons.concerns.models import (
    Concern,
    Corroboration,
    Flag,
    FlagReason,
    OrganisationResponse,
    Responder,
    Status,
    StatusChange,
)
from aicommons.concerns.people import Person
from aicommons.concerns.permissions import Action, Standing
from aicommons.concerns.redaction import redact
from aicommons.concerns.schemas import (
    ConcernCreate,
    ConcernRead,
    Escalation,
    ResponderCreate,
    ResponseCreate,
    StatusChangeCreate,
    TriageTags,
)
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest, paginate
from aicommons.core.ratelimit import Limit, hit
from aicommons.core.security import new_secret, secret_hash
from aicommons.ledger import service as ledger
from aicommons.members import service as members
from aicommons.members.models import GlobalRole, Member
from aicommons.members.notifications import notify

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.TRIAGED, Status.CLOSED}),
    Status.TRIAGED: frozenset({Status.UNDER_DISCUSSION, Status.ESCALATED, Status.RESOLVED, Status.CLOSED}),
    Status.UNDER_DISCUSSION: frozenset({Status.ESCALATED, Status.RESOLVED, Status.CLOSED}),
    Status.ESCALATED: frozenset({Status.UNDER_DISCUSSION, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset(),
    Status.CLOSED: frozenset(),
}
LIMITS = {  # per person (a member, or an address when nobody is signed in)
    "concern:address": Limit(5, timedelta(hours=1)),
    "concern:member": Limit(10, timedelta(hours=1)),
    "corroboration": Limit(30, timedelta(hours=1)),
    "flag": Limit(20, timedelta(hours=1)),
}
HIDE_AT = 3  # established members or moderators whose flags no moderator has reviewed yet
MODERATING = (GlobalRole.MODERATOR, GlobalRole.ADMIN)
TRACKING_PREFIX = "aict"


@dataclass(frozen=True)
class Flagged:
    """A person's flag on a concern; `new` is False when they had flagged it before."""

    flag: Flag
    new: bool


@dataclass(frozen=True)
class Received:
    """A new concern and its tracking token, which exists only in this answer."""

    concern: Concern
    token: str


def receive(*, session: Session, form: ConcernCreate, person: Person) -> Received:
    """Take a concern from anyone; a signed-in reporter finds it under "mine", anyone by its token."""
    _limit(session, "concern:member" if person.member else "concern:address", person)
    token = new_secret(TRACKING_PREFIX)
    concern = Concern(
        **form.model_dump(),
        reporter_id=person.member.id if person.member else None,
        tracking_hash=secret_hash(token),
    )
    concern.history, concern.responses = [StatusChange(to_status=Status.RECEIVED)], []
    session.add(concern)
    session.flush()
    facts = {"harm": str(concern.harm), "worry": str(concern.worry)}
    _record(session, "concerns:concern:receive", None, concern, facts)
    return Received(concern, token)


def get(*, session: Session, concern_id: int, viewer: Member | None) -> Concern:
    """The concern with this number, as long as the viewer may see it."""
    concern = session.get(Concern, concern_id)
    if concern is None or not permissions.may_see(concern, standing(session, concern, viewer)):
        raise CommonsError(ErrorCode.CONCERN_NOT_FOUND, f"no concern #{concern_id}")
    return concern


def by_token(*, session: Session, token: str) -> Concern:
    """The concern its reporter tracks with this secret."""
    concern = session.scalar(select(Concern).where(Concern.tracking_hash == secret_hash(token)))
    if concern is None:
        raise CommonsError(ErrorCode.CONCERN_NOT_FOUND, "no concern has this tracking link")
    return concern


def browse(*, session: Session, status: Status | None, page: PageRequest) -> Page[Concern]:
    """Concerns everyone may see, newest first."""
    query = select(Concern).where(Concern.hidden_at.is_(None))
    if status is not None:
        query = query.where(Concern.status == status)
    return paginate(session, query.order_by(Concern.id.desc()), page)


def mine(*, session: Session, member: Member, page: PageRequest) -> Page[Concern]:
    query = select(Concern).where(Concern.reporter_id == member.id)
    return paginate(session, query.order_by(Concern.id.desc()), page)


def moderation_queue(*, session: Session, actor: Member, page: PageRequest) -> Page[Concern]:
    """Hidden concerns and those with flags nobody reviewed yet, the most flagged first."""
    permissions.require_moderator(actor)
    query = select(Concern).where(or_(Concern.flag_count > 0, Concern.hidden_at.is_not(None)))
    order = (Concern.flag_count.desc(), Concern.id.desc())
    return paginate(session, query.order_by(*order), page)


def flag_tally(*, session: Session, concerns: list[Concern]) -> dict[int, dict[str, int]]:
    """The flags no moderator has reviewed yet, by reason, for each of `concerns`."""
    rows = session.execute(
        select(Flag.concern_id, Flag.reason, func.count())
        .where(Flag.concern_id.in_([concern.id for concern in concerns]), Flag.reviewed.is_(False))
        .group_by(Flag.concern_id, Flag.reason)
    )
    tally: dict[int, dict[str, int]] = {}
    for concern_id, reason, count in rows:
        tally.setdefault(concern_id, {})[str(reason)] = int(count)
    return tally


def next_statuses(concern: Concern) -> list[Status]:
    """Where the concern may go from here, in lifecycle order."""
    return [status for status in Status if status in TRANSITIONS[concern.status]]


# --- standing -----------------------------------------------------------------------------------------


def standing(session: Session, concern: Concern, viewer: Member | None) -> Standing:
    """What the viewer is to the concern and may know of the policy community it went to."""
    community = session.get(Community, concern.escalated_to_id) if concern.escalated_to_id else None
    membership = communities.membership_of(session, community, viewer) if community else None
    responder = viewer is not None and _responder(session, concern, viewer) is not None
    return permissions.standing(concern, viewer, community, membership, responder=responder)


def reporter_standing(session: Session, concern: Concern) -> Standing:
    """The standing of whoever holds the concern's tracking link: its reporter, who is told the name of the
    policy community it went to only when that community is public."""
    community = session.get(Community, concern.escalated_to_id) if concern.escalated_to_id else None
    public = community is not None and community.visibility == Visibility.PUBLIC
    return Standing(frozenset({permissions.Part.REPORTER}), community, sees_community=public)


def read(*, session: Session, concern: Concern, viewer: Member | None, tracking: bool = False) -> ConcernRead:
    """The concern as the viewer may read it (`tracking`: as the holder of its tracking link)."""
    held = reporter_standing(session, concern) if tracking else standing(session, concern, viewer)
    return presentation.read(concern, held, sectors(session=session, concern=concern))


def _require(session: Session, action: Action, actor: Member, concern: Concern) -> None:
    permissions.require(action, standing(session, concern, actor))


def sectors(*, session: Session, concern: Concern) -> dict[str, int]:
    """How many of those who have seen it too work in each sector."""
    rows = session.execute(
        select(Corroboration.sector, func.count())
        .where(Corroboration.concern_id == concern.id)
        .group_by(Corroboration.sector)
        .order_by(func.count().desc(), Corroboration.sector)
    )
    return {sector: int(count) for sector, count in rows}


# --- lifecycle ----------------------------------------------------------------------------------------


def move(*, session: Session, actor: Member, concern: Concern, change: StatusChangeCreate) -> Concern:
    """Move a concern along its lifecycle (moderators; a steward of the policy community it went to)."""
    _require(session, Action.MOVE, actor, concern)
    _change_status(session, concern, change.status, change.reason, actor)
    return concern


def _check_transition(concern: Concern, to: Status) -> None:
    if to not in TRANSITIONS[concern.status]:
        raise CommonsError(ErrorCode.BAD_TRANSITION, f"a {concern.status} concern cannot become {to}")


def _change_status(session: Session, concern: Concern, to: Status, reason: str, actor: Member) -> None:
    _check_transition(concern, to)
    before, concern.status, concern.updated_at = concern.status, to, utcnow()
    concern.history.append(
        StatusChange(from_status=before, to_status=to, reason=reason, changed_by_id=actor.id)
    )
    facts = {"from": str(before), "to": str(to), "reason": redact(reason)}
    _record(session, "concerns:concern:status", actor, concern, facts, community_id=concern.escalated_to_id)
    _tell_reporter(session, concern, f"Your concern #{concern.id} is now {to.replace('-', ' ')}", reason)
    session.flush()


def triage(*, session: Session, actor: Member, concern: Concern, tags: TriageTags) -> Concern:
    """Tag a concern with the AI risk taxonomies and the alleged deployer and developer."""
    _require(session, Action.TRIAGE, actor, concern)
    values = tags.model_dump(mode="json")
    for field, value in values.items():
        setattr(concern, field, value)
    concern.updated_at = utcnow()
    _record(session, "concerns:concern:triage", actor, concern, values)
    session.flush()
    return concern


def merge(*, session: Session, actor: Member, concern: Concern, into: int) -> Concern:
    """Close `concern` as a duplicate of concern `into`, which takes over its corroborations."""
    _require(session, Action.MERGE, actor, concern)
    if into == concern.id:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "a concern cannot be merged into itself")
    kept = session.get(Concern, into)
    if kept is None:
        raise CommonsError(ErrorCode.CONCERN_NOT_FOUND, f"no concern #{into}")
    if kept.status == Status.CLOSED:
        raise CommonsError(ErrorCode.BAD_TRANSITION, f"#{into} is closed: merge into a concern that is not")
    _change_status(session, concern, Status.CLOSED, f"duplicate of #{kept.id}", actor)
    concern.merged_into_id = kept.id
    _move_corroborations(session, concern, kept)
    _record(session, "concerns:concern:merge", actor, concern, {"into": kept.id})
    session.flush()
    return kept


def _move_corroborations(session: Session, duplicate: Concern, kept: Concern) -> None:
    """Witnesses of both, and the kept concern's own reporter, count once on the kept one."""
    taken = select(Corroboration.witness).where(Corroboration.concern_id == kept.id).scalar_subquery()
    reporter = f"member:{kept.reporter_id}"
    session.execute(
        delete(Corroboration).where(
            Corroboration.concern_id == duplicate.id,
            or_(Corroboration.witness.in_(taken), Corroboration.witness == reporter),
        )
    )
    session.execute(
        update(Corroboration).where(Corroboration.concern_id == duplicate.id).values(concern_id=kept.id)
    )
    for concern in (duplicate, kept):
        concern.corroboration_count = _count(session, Corroboration, concern)


def escalate(*, session: Session, actor: Member, concern: Concern, form: Escalation) -> Concern:
    """Hand a concern to a policy community, or mark it for the AI Incident Database, or both."""
    _require(session, Action.ESCALATE, actor, concern)
    _check_transition(concern, Status.ESCALATED)
    community = _policy_community(session, form.community, actor) if form.community else None
    concern.escalated_to_id = community.id if community else concern.escalated_to_id
    concern.escalation_note, concern.escalated_at = form.note, utcnow()
    concern.exported_at = concern.escalated_at if form.aiid else concern.exported_at
    _change_status(session, concern, Status.ESCALATED, form.reason, actor)
    facts = {"aiid": form.aiid, "community": _public_slug(community)}
    _record(session, "concerns:concern:escalate", actor, concern, facts, community_id=concern.escalated_to_id)
    if community is not None:
        _tell_stewards(session, community, concern)
    session.flush()
    return concern


def _policy_community(session: Session, slug: str, actor: Member) -> Community:
    community = communities.get(session=session, slug=slug, viewer=actor)
    if community.format != Format.POLICY:
        raise CommonsError(
            ErrorCode.VALIDATION_FAILED,
            f"{slug} is a {community.format} community: choose a policy community",
        )
    if community.archived:
        raise CommonsError(ErrorCode.COMMUNITY_ARCHIVED, f"{slug} is archived")
    return community


def _public_slug(community: Community | None) -> str | None:
    """The log names a public community; a private one only by the entry's community id."""
    return community.slug if community is not None and community.visibility == Visibility.PUBLIC else None


def _tell_stewards(session: Session, community: Community, concern: Concern) -> None:
    stewards = session.scalars(
        select(Membership.member_id).where(
            Membership.community_id == community.id,
            Membership.role == Role.STEWARD,
            Membership.status == MembershipStatus.ACTIVE,
        )
    )
    for member_id in stewards:
        notify(
            session,
            member_id,
            kind="concern",
            title=f"Concern #{concern.id} was escalated to {community.name}",
            url=f"/concerns/{concern.id}",
        )


# --- corroboration and flags --------------------------------------------------------------------------


def corroborate(*, session: Session, concern: Concern, person: Person, sector: str) -> Corroboration:
    """ "I have seen this too": once per person, never by the concern's own reporter."""
    if person.member is not None and person.member.id == concern.reporter_id:
        raise CommonsError(ErrorCode.ALREADY_CORROBORATED, "you raised this concern yourself")
    _limit(session, "corroboration", person)
    corroboration = Corroboration(concern_id=concern.id, witness=person.key, sector=sector)
    if not _added(session, corroboration):
        raise CommonsError(ErrorCode.ALREADY_CORROBORATED)
    _bump(session, concern, Concern.corroboration_count)
    _record(session, "concerns:corroboration:add", None, concern, {"sector": sector})
    return corroboration


def flag(*, session: Session, concern: Concern, person: Person, reason: FlagReason) -> Flagged:
    """Flag a concern for the moderators; at HIDE_AT flags that count (established members' or
    moderators', never an address's or a throwaway account's) it hides itself until they look at it. A
    second flag by the same person changes nothing."""
    existing = session.scalar(select(Flag).where(Flag.concern_id == concern.id, Flag.flagger == person.key))
    if existing is not None:
        return Flagged(existing, new=False)
    _limit(session, "flag", person)
    flagged = Flag(concern_id=concern.id, flagger=person.key, reason=reason, counts=_counts(session, person))
    if not _added(session, flagged):
        return flag(session=session, concern=concern, person=person, reason=reason)
    _bump(session, concern, Concern.flag_count)
    if flagged.counts and concern.hidden_at is None and _counting_flags(session, concern) >= HIDE_AT:
        _hide_automatically(session, concern)
    return Flagged(flagged, new=True)


def _counts(session: Session, person: Person) -> bool:
    """Whether the person's flag counts toward hiding: a moderator's, or an established member's."""
    member = person.member
    return member is not None and (member.role in MODERATING or members.is_established(session, member))


def _counting_flags(session: Session, concern: Concern) -> int:
    unreviewed = (Flag.concern_id == concern.id, Flag.reviewed.is_(False), Flag.counts.is_(True))
    return session.scalar(select(func.count()).where(*unreviewed)) or 0


def _hide_automatically(session: Session, concern: Concern) -> None:
    concern.hidden_at = utcnow()
    _record(session, "concerns:concern:hide", None, concern, {"automatic": True, "flags": concern.flag_count})
    moderators = session.scalars(select(Member.id).where(Member.role.in_(MODERATING)))
    for member_id in moderators:
        notify(
            session,
            member_id,
            kind="moderation",
            title=f"Concern #{concern.id} was hidden by {concern.flag_count} flags",
            url="/concerns/moderation",
        )
    session.flush()


def hide(*, session: Session, actor: Member, concern: Concern, reason: str) -> Concern:
    """Keep a concern hidden (or hide it); its flags count as reviewed."""
    _require(session, Action.MODERATE, actor, concern)
    concern.hidden_at = concern.hidden_at or utcnow()
    _settle_flags(session, concern)
    _record(session, "concerns:concern:hide", actor, concern, {"automatic": False, "reason": redact(reason)})
    _tell_reporter(session, concern, f"Your concern #{concern.id} is hidden by a moderator", reason)
    session.flush()
    return concern


def restore(*, session: Session, actor: Member, concern: Concern) -> Concern:
    """Show a concern again; its flags count as reviewed."""
    _require(session, Action.MODERATE, actor, concern)
    concern.hidden_at = None
    _settle_flags(session, concern)
    _record(session, "concerns:concern:restore", actor, concern)
    session.flush()
    return concern


def _settle_flags(session: Session, concern: Concern) -> None:
    session.execute(update(Flag).where(Flag.concern_id == concern.id).values(reviewed=True))
    concern.flag_count = 0


# --- the deploying organisation -----------------------------------------------------------------------


def tool_key(name: str) -> str:
    """An AI tool's name as responders are matched to it: lower case, single spaces."""
    return " ".join(name.casefold().split())


def name_responder(*, session: Session, actor: Member, form: ResponderCreate) -> Responder:
    """Let a member answer for the organisation deploying a tool: on one concern, or on every concern about
    the tool."""
    permissions.require_moderator(actor)
    member = members.get(session=session, handle=form.handle)
    if form.concern is not None and session.get(Concern, form.concern) is None:
        raise CommonsError(ErrorCode.CONCERN_NOT_FOUND, f"no concern #{form.concern}")
    key = tool_key(form.ai_tool) if form.ai_tool else None
    responder = Responder(
        member_id=member.id,
        organisation=form.organisation,
        concern_id=form.concern,
        tool_key=key,
        named_by_id=actor.id,
    )
    session.add(responder)
    facts = {
        "responder": member.id,
        "organisation": form.organisation,
        "concern": form.concern,
        "ai_tool": key,
    }
    ledger.record(session, "concerns:responder:name", actor_id=actor.id, data=facts)
    scope = f"concern #{form.concern}" if form.concern else f"concerns about {form.ai_tool}"
    notify(session, member.id, kind="concern", title=f"You can respond to {scope} for {form.organisation}")
    session.flush()
    return responder


def _responder(session: Session, concern: Concern, member: Member) -> Responder | None:
    return session.scalar(
        select(Responder)
        .where(
            Responder.member_id == member.id,
            or_(Responder.concern_id == concern.id, Responder.tool_key == tool_key(concern.ai_tool)),
        )
        .order_by(Responder.id.desc())
        .limit(1)
    )


def respond(
    *, session: Session, actor: Member, concern: Concern, form: ResponseCreate
) -> OrganisationResponse:
    """The deploying organisation's answer, posted by a member a moderator named for it."""
    responder = _responder(session, concern, actor)
    if responder is None:
        raise CommonsError(ErrorCode.FORBIDDEN, "a moderator has not named you to respond to this concern")
    response = OrganisationResponse(
        responder_id=actor.id, organisation=responder.organisation, body=form.body
    )
    concern.responses.append(response)
    concern.updated_at = utcnow()
    _record(session, "concerns:response:post", actor, concern, {"organisation": responder.organisation})
    _tell_reporter(session, concern, f"{responder.organisation} responded to your concern #{concern.id}")
    session.flush()
    return response


# --- shared -------------------------------------------------------------------------------------------


def _limit(session: Session, kind: str, person: Person) -> None:
    hit(session, f"{kind}:{person.key}", LIMITS[kind])


def _added(session: Session, row: Corroboration | Flag) -> bool:
    """Insert a row that may already exist (a double click, two tabs): False when it did."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def _bump(session: Session, concern: Concern, counter: Any) -> int:
    """Add one to a counter of the concern in the database (exact under concurrent requests)."""
    session.execute(
        update(Concern)
        .where(Concern.id == concern.id)
        .values({counter: counter + 1})
        .execution_options(synchronize_session=False)
    )
    session.expire(concern, [counter.key])
    return int(getattr(concern, counter.key))


def _count(session: Session, model: type[Corroboration], concern: Concern) -> int:
    return session.scalar(select(func.count()).where(model.concern_id == concern.id)) or 0


def _tell_reporter(session: Session, concern: Concern, title: str, body: str = "") -> None:
    if concern.reporter_id is not None:
        notify(
            session,
            concern.reporter_id,
            kind="concern",
            title=title,
            body=body,
            url=f"/concerns/{concern.id}",
        )


def _record(
    session: Session,
    event: str,
    actor: Member | None,
    concern: Concern,
    data: dict[str, Any] | None = None,
    *,
    community_id: int | None = None,
) -> None:
    ledger.record(
        session,
        event,
        actor_id=actor.id if actor else None,
        subject={"concern": concern.id},
        community_id=community_id,
        data=data or {},
    )
