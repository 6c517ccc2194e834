"""Who may see what of journeys: the one place the journeys domain checks authorization.

A dashboard holds counts only, never a person, so whoever may see a community may see its dashboard.
A journey is its member's own: only they see their stages. A visit is recorded only for a signed-in
member, and only that member ever sees it (as the stage "discovered").
"""

from aicommons.communities import permissions as communities
from aicommons.communities.models import Community, Membership
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.members.models import Member


def may_see_dashboard(community: Community, viewer: Member | None, membership: Membership | None) -> bool:
    return communities.may_see(community, viewer, membership)


def require_dashboard(community: Community, viewer: Member | None, membership: Membership | None) -> None:
    """Like the community itself, a dashboard the viewer may not see does not exist for them (404)."""
    if not may_see_dashboard(community, viewer, membership):
        raise CommonsError(ErrorCode.COMMUNITY_NOT_FOUND, f"no community {community.slug!r}")


def may_name(community: Community, viewer: Member | None, membership: Membership | None) -> bool:
    """Whether a dashboard may name (and link) a community that reused insights, or was reused from."""
    return communities.may_see(community, viewer, membership)
