"""JSON routes of the journeys domain: a community's dashboard, and your own journeys."""

from typing import Annotated

from fastapi import APIRouter, Query

from aicommons.communities.loaders import CommunityBySlug
from aicommons.core.db import utcnow
from aicommons.core.pagination import Paging
from aicommons.core.web import DbSession
from aicommons.journeys import service
from aicommons.journeys.schemas import DashboardRead, JourneyPage
from aicommons.members.auth import CurrentMember, OptionalMember

router = APIRouter(prefix="/api/v1", tags=["journeys"])

Months = Annotated[int, Query(ge=1, le=24, description="months of history, this one included")]


@router.get("/communities/{slug}/journeys")
def dashboard(
    community: CommunityBySlug, session: DbSession, viewer: OptionalMember, months: Months = 12
) -> DashboardRead:
    """The funnel (members per stage), its conversion month by month, and the reuse of the community's
    insights: counts only, for whoever may see the community."""
    now = utcnow()
    found = service.dashboard(session=session, community=community, viewer=viewer, now=now, months=months)
    return DashboardRead.model_validate(found)


@router.get("/me/journeys")
def my_journeys(member: CurrentMember, session: DbSession, page: Paging) -> JourneyPage:
    """Your stage in each community you have a sign of, furthest first."""
    found = service.journeys_of(session=session, member=member, now=utcnow(), page=page)
    return JourneyPage.model_validate(found, from_attributes=True)
