"""Who may do what with a concern: the one place the concerns domain checks authorization."""

from dataclasses import dataclass
from enum import StrEnum

from aicommons.communities.models import Community, Membership, MembershipStatus, Role
from aicommons.communities.permissions import may_see as may_see_community
from aicommons.concerns.models import Concern
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.members.models import GlobalRole, Member


class Part(StrEnum):
    """What a member is to one concern."""

    MODERATOR = "moderator"  # global role moderator or admin
    STEWARD = "steward"  # a steward of the policy community the concern was escalated to
    RESPONDER = "responder"  # named to answer for the organisation that deploys the AI tool
    REPORTER = "reporter"  # raised it (signed in, or holding its tracking link)


class Action(StrEnum):
    MOVE = "change the status of"
    TRIAGE = "triage"
    MERGE = "merge"
    ESCALATE = "escalate"
    MODERATE = "moderate"
    NAME_RESPONDERS = "name responders for"
    RESPOND = "respond to"


ALLOWED: dict[Action, frozenset[Part]] = {
    Action.MOVE: frozenset({Part.MODERATOR, Part.STEWARD}),
    Action.TRIAGE: frozenset({Part.MODERATOR}),
    Action.MERGE: frozenset({Part.MODERATOR}),
    Action.ESCALATE: frozenset({Part.MODERATOR}),
    Action.MODERATE: frozenset({Part.MODERATOR}),
    Action.NAME_RESPONDERS: frozenset({Part.MODERATOR}),
    Action.RESPOND: frozenset({Part.RESPONDER}),
}


@dataclass(frozen=True)
class Standing:
    """A viewer's parts in a concern, and what they may know of the policy community it went to."""

    parts: frozenset[Part]
    community: Community | None = None
    sees_community: bool = False  # its name and link (a private one only for its members)
    in_community: bool = False  # an active member: reads the brief the community was given

    @property
    def moderator(self) -> bool:
        return Part.MODERATOR in self.parts


def is_moderator(member: Member | None) -> bool:
    return member is not None and member.role in (GlobalRole.MODERATOR, GlobalRole.ADMIN)


def parts_of(
    concern: Concern, viewer: Member | None, membership: Membership | None, *, responder: bool
) -> frozenset[Part]:
    """`membership` is the viewer's in the policy community the concern was escalated to, if any."""
    if viewer is None:
        return frozenset()
    facts = {
        Part.MODERATOR: is_moderator(viewer),
        Part.REPORTER: concern.reporter_id == viewer.id,
        Part.STEWARD: membership is not None and _active(membership) and membership.role == Role.STEWARD,
        Part.RESPONDER: responder,
    }
    return frozenset(part for part, holds in facts.items() if holds)


def standing(
    concern: Concern,
    viewer: Member | None,
    community: Community | None,
    membership: Membership | None,
    *,
    responder: bool,
) -> Standing:
    parts = parts_of(concern, viewer, membership, responder=responder)
    if community is None:
        return Standing(parts)
    sees = may_see_community(community, viewer, membership)
    return Standing(parts, community, sees_community=sees, in_community=_active(membership))


def _active(membership: Membership | None) -> bool:
    return membership is not None and membership.status == MembershipStatus.ACTIVE


def may(action: Action, standing: Standing) -> bool:
    return not ALLOWED[action].isdisjoint(standing.parts)


def require(action: Action, standing: Standing) -> None:
    if not may(action, standing):
        raise CommonsError(ErrorCode.FORBIDDEN, f"you may not {action} this concern")


def require_moderator(member: Member) -> None:
    if not is_moderator(member):
        raise CommonsError(ErrorCode.FORBIDDEN, "only moderators may do this")


def may_see(concern: Concern, standing: Standing) -> bool:
    """A concern hidden pending moderation exists only for moderators and its reporter."""
    return not concern.hidden or not standing.parts.isdisjoint({Part.MODERATOR, Part.REPORTER})


def may_read_brief(standing: Standing) -> bool:
    """The brief given with an escalation stays with the policy community (and the moderators)."""
    return standing.moderator or standing.in_community
