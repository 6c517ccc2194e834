"""Who may read and do what with insights: the one place the insights domain checks authorization.

An insight reaches the network only when it is shared with the network and its community is public;
otherwise only its community's active members (and admins) read it (decision 0023)."""

from enum import StrEnum

from aicommons.communities.models import Membership, Role, Visibility
from aicommons.communities.permissions import active_role
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.insights.models import Audience, Insight
from aicommons.members.models import GlobalRole, Member


class Action(StrEnum):
    POST = "post insights"
    RECORD_REUSE = "record reuse"


ALLOWED: dict[Action, frozenset[Role]] = {
    Action.POST: frozenset({Role.STEWARD, Role.ORGANIZER, Role.MEMBER}),
    Action.RECORD_REUSE: frozenset({Role.STEWARD, Role.ORGANIZER}),
}


def _admin(actor: Member | None) -> bool:
    return actor is not None and actor.role == GlobalRole.ADMIN


def may(action: Action, actor: Member | None, membership: Membership | None) -> bool:
    """Admins may do anything; otherwise the actor's active role in the community decides."""
    return actor is not None and (_admin(actor) or active_role(membership) in ALLOWED[action])


def require(action: Action, actor: Member, membership: Membership | None) -> None:
    if not may(action, actor, membership):
        raise CommonsError(ErrorCode.FORBIDDEN, f"you may not {action} for this community")


def reaches_network(insight: Insight) -> bool:
    return insight.audience == Audience.NETWORK and insight.community.visibility == Visibility.PUBLIC


def may_read(insight: Insight, viewer: Member | None, membership: Membership | None) -> bool:
    """`membership` is the viewer's in the insight's community."""
    return reaches_network(insight) or _admin(viewer) or active_role(membership) is not None


def may_accept(insight: Insight, actor: Member) -> bool:
    """The asker of a question picks its answer (or an admin)."""
    return _admin(actor) or actor.id == insight.author_id


def require_accept(insight: Insight, actor: Member) -> None:
    if not may_accept(insight, actor):
        raise CommonsError(ErrorCode.FORBIDDEN, "only the member who asked may accept an answer")


def may_endorse(insight: Insight, actor: Member | None) -> bool:
    return actor is not None and actor.id != insight.author_id


def require_endorse(insight: Insight, actor: Member) -> None:
    if not may_endorse(insight, actor):
        raise CommonsError(ErrorCode.FORBIDDEN, "you cannot endorse your own insight")


def require_reusable(insight: Insight) -> None:
    """Only what was shared with the network may travel to another community."""
    if not reaches_network(insight):
        raise CommonsError(
            ErrorCode.FORBIDDEN, "only an insight shared with the network can be reused by another community"
        )
