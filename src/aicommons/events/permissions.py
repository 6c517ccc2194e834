"""Who may do what with events: the one place the events domain checks authorization."""

from enum import StrEnum

from aicommons.communities import permissions as communities
from aicommons.communities.models import Community, Membership, Role, Visibility
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.members.models import GlobalRole, Member


class Action(StrEnum):
    SCHEDULE = "schedule events"
    EDIT = "edit events"
    CANCEL = "cancel events"
    LINK_OUTCOMES = "link what events produced"
    SEE_ATTENDEES = "see who answered"


ORGANIZERS = frozenset({Role.STEWARD, Role.ORGANIZER})
ALLOWED: dict[Action, frozenset[Role]] = dict.fromkeys(Action, ORGANIZERS)


def may(action: Action, actor: Member | None, membership: Membership | None) -> bool:
    """Admins may do anything; otherwise the actor's active role in the event's community decides."""
    if actor is None:
        return False
    if actor.role == GlobalRole.ADMIN:
        return True
    return communities.active_role(membership) in ALLOWED[action]


def require(action: Action, actor: Member, membership: Membership | None) -> None:
    if not may(action, actor, membership):
        raise CommonsError(ErrorCode.FORBIDDEN, f"you may not {action} in this community")


def may_see(community: Community, viewer: Member | None, membership: Membership | None) -> bool:
    """An event is seen by whoever may see its community."""
    return communities.may_see(community, viewer, membership)


def may_answer(community: Community, member: Member | None, membership: Membership | None) -> bool:
    """Anyone signed in answers a public community's event; a private community's, only its members."""
    if member is None:
        return False
    return community.visibility == Visibility.PUBLIC or communities.active_role(membership) is not None


def require_answer(community: Community, member: Member, membership: Membership | None) -> None:
    if not may_answer(community, member, membership):
        raise CommonsError(ErrorCode.FORBIDDEN, "join the community to answer its events")
