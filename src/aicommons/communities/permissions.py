"""Who may do what in a community: the one place the communities domain checks authorization."""

from enum import StrEnum

from aicommons.communities.models import Community, Membership, MembershipStatus, Role, Visibility
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.members.models import GlobalRole, Member


class Action(StrEnum):
    EDIT = "edit"
    ARCHIVE = "archive"
    DECIDE_REQUESTS = "decide requests"
    INVITE = "invite"
    SET_ROLES = "set roles"
    REFRESH_STATS = "refresh statistics"


ALLOWED: dict[Action, frozenset[Role]] = {
    Action.EDIT: frozenset({Role.STEWARD}),
    Action.ARCHIVE: frozenset({Role.STEWARD}),
    Action.SET_ROLES: frozenset({Role.STEWARD}),
    Action.DECIDE_REQUESTS: frozenset({Role.STEWARD, Role.ORGANIZER}),
    Action.INVITE: frozenset({Role.STEWARD, Role.ORGANIZER}),
    Action.REFRESH_STATS: frozenset({Role.STEWARD, Role.ORGANIZER}),
}


def active_role(membership: Membership | None) -> Role | None:
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        return None
    return membership.role


def may(action: Action, actor: Member | None, membership: Membership | None) -> bool:
    """Admins may do anything; otherwise the actor's active role in the community decides."""
    if actor is None:
        return False
    if actor.role == GlobalRole.ADMIN:
        return True
    return active_role(membership) in ALLOWED[action]


def require(action: Action, actor: Member, membership: Membership | None) -> None:
    if not may(action, actor, membership):
        raise CommonsError(ErrorCode.FORBIDDEN, f"you may not {action} in this community")


def may_see(community: Community, viewer: Member | None, membership: Membership | None) -> bool:
    """A private community exists only for its members and admins."""
    if community.visibility == Visibility.PUBLIC:
        return True
    if viewer is not None and viewer.role == GlobalRole.ADMIN:
        return True
    return membership is not None and membership.status in (MembershipStatus.ACTIVE, MembershipStatus.INVITED)
