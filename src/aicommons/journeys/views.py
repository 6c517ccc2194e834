"""HTML pages of the journeys domain: a community's dashboard, your place in a community, your journeys."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from aicommons.communities.loaders import CommunityBySlug
from aicommons.core.db import utcnow
from aicommons.core.pagination import Paging
from aicommons.core.web import DbSession, PageRenderer, require_csrf, wants_fragment
from aicommons.journeys import charts, service, stages
from aicommons.journeys.models import Stage
from aicommons.members.auth import OptionalMember, PageMember

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])

PERIODS = [(6, "6 months"), (12, "12 months"), (24, "24 months")]
Months = Annotated[int, Query(ge=1, le=24)]


@router.get("/communities/{slug}/journeys")
def dashboard(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    community: CommunityBySlug,
    months: Months = service.DEFAULT_MONTHS,
) -> Response:
    """The dashboard; the period form, through HTMX, swaps only the conversion charts."""
    now = utcnow()
    found = service.dashboard(session=session, community=community, viewer=viewer, now=now, months=months)
    context = {
        "community": community,
        "dashboard": found,
        "charts": charts.dashboard_charts(found),
        "months": months,
        "periods": PERIODS,
        "stages": list(Stage),
        "meanings": stages.MEANINGS,
    }
    fragment = wants_fragment(request, "conversion")
    template = "journeys/_conversion.html" if fragment else "journeys/dashboard.html"
    response = pages.render(request, template, context)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


@router.get("/communities/{slug}/journeys/you")
def your_journey(
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    community: CommunityBySlug,
) -> Response:
    """The community page's "your journey here" fragment: it records a member's visit (never an anonymous
    one) and says where they stand; an anonymous visitor is invited to sign in."""
    journey = (
        service.visit(session=session, community=community, member=viewer, now=utcnow()) if viewer else None
    )
    return pages.render(request, "journeys/_you.html", {"community": community, "journey": journey})


@router.get("/journeys")
def my_journeys(
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    page: Paging,
) -> Response:
    """Your stage in every community you have a sign of."""
    found = service.journeys_of(session=session, member=viewer, now=utcnow(), page=page)
    return pages.render(request, "journeys/mine.html", {"found": found})
