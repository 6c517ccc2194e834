"""The community a route names by its slug, checked once for every domain's routes and pages."""

from typing import Annotated

from fastapi import Depends

from aicommons.communities import service
from aicommons.communities.models import Community
from aicommons.core.web import DbSession
from aicommons.members.auth import OptionalMember


def community_by_slug(slug: str, session: DbSession, viewer: OptionalMember) -> Community:
    """The community, or `community_not_found` (the 404 page) for anyone who may not know it exists."""
    return service.get(session=session, slug=slug, viewer=viewer)


CommunityBySlug = Annotated[Community, Depends(community_by_slug)]
