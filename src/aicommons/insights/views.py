"""HTML pages of the insights domain: the network feed, an insight with its replies and reuse, the new-insight
form, subscriptions, the Atom feed, and a community's insights with its network-effect panel."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.communities.loaders import CommunityBySlug
from aicommons.communities.models import Community, Format
from aicommons.communities.schemas import CommunityFilter
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import PageRequest, Paging
from aicommons.core.vocabulary import RiskDomain, Sector
from aicommons.core.web import (
    DbSession,
    FormData,
    PageRenderer,
    parse_form,
    query_filters,
    require_csrf,
    wants_fragment,
)
from aicommons.insights import feeds, permissions, service, subscriptions
from aicommons.insights.models import Audience, Insight, Kind
from aicommons.insights.schemas import (
    DEFAULT_LICENSE,
    LICENSES,
    SUBSCRIBABLE,
    InsightCreate,
    InsightFilter,
    ReplyCreate,
    ReuseCreate,
    SubscriptionCreate,
)
from aicommons.members.auth import OptionalMember, PageMember
from aicommons.members.models import Member
from aicommons.web.navigation import refusal, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])

KIND_LABELS = {
    Kind.INSIGHT: "Insight",
    Kind.QUESTION: "Question",
    Kind.IDEA: "Idea",
    Kind.LESSON: "Lesson learned",
    Kind.RESOURCE: "Resource",
}
RISK_LABELS = {
    RiskDomain.DISCRIMINATION: "Discrimination and toxicity",
    RiskDomain.PRIVACY: "Privacy and security",
    RiskDomain.MISINFORMATION: "Misinformation",
    RiskDomain.MISUSE: "Malicious actors and misuse",
    RiskDomain.INTERACTION: "Human-computer interaction",
    RiskDomain.SOCIOECONOMIC: "Socioeconomic and environmental harms",
    RiskDomain.SAFETY: "AI system safety, failures and limitations",
}
AUDIENCE_LABELS = {Audience.NETWORK: "The whole network", Audience.COMMUNITY: "Only my community"}
CHOICES = {
    "kinds": [(kind.value, label) for kind, label in KIND_LABELS.items()],
    "sectors": [(sector.value, sector.value.replace("-", " ").capitalize()) for sector in Sector],
    "formats": [(value.value, value.value.capitalize()) for value in Format],
    "risks": [(risk.value, label) for risk, label in RISK_LABELS.items()],
    "licenses": [(identifier, identifier) for identifier in LICENSES],
    "audiences": [(audience.value, label) for audience, label in AUDIENCE_LABELS.items()],
}
LABELS = {"kinds": KIND_LABELS, "risks": RISK_LABELS, "audiences": AUDIENCE_LABELS}
NEW_INSIGHT = {"kind": Kind.INSIGHT.value, "license": DEFAULT_LICENSE, "audience": Audience.NETWORK.value}
INSIGHT_FIELD_OF = {
    ErrorCode.COMMUNITY_NOT_FOUND: "community",
    ErrorCode.FORBIDDEN: "community",
    ErrorCode.COMMUNITY_ARCHIVED: "community",
}
REUSE_FIELD_OF = {ErrorCode.COMMUNITY_NOT_FOUND: "community", ErrorCode.OWN_INSIGHT: "community"}
EVIDENCE_HINT = "Use at most 10 web addresses starting with http:// or https://, one a line."
FEED_SIZE = 20


def insight_by_id(insight_id: int, session: DbSession, viewer: OptionalMember) -> Insight:
    """The insight, or the 404 page for anyone who may not read it."""
    return service.get(session=session, insight_id=insight_id, viewer=viewer)


def feed_filters(request: Request) -> InsightFilter:
    """The filter form's fields; empty selects mean "any"."""
    return query_filters(InsightFilter, request)


InsightById = Annotated[Insight, Depends(insight_by_id)]
Filters = Annotated[InsightFilter, Depends(feed_filters)]


def _page(viewer: Member | None, **context: Any) -> dict[str, Any]:
    return {"viewer": viewer, "choices": CHOICES, "labels": LABELS, **context}


# --- the feed ---------------------------------------------------------------------------------------


@router.get("/insights")
def browse(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    filters: Filters,
    page: Paging,
) -> Response:
    """The network feed; an HTMX request from the filter form gets only the results."""
    found = service.feed(session=session, viewer=viewer, filters=filters, page=page)
    template = "insights/_results.html" if wants_fragment(request, "results") else "insights/browse.html"
    feed_query = request.url.remove_query_params(["page", "size"]).query
    context = _page(viewer, found=found, filters=filters, feed_query=feed_query)
    response = pages.render(request, template, context)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


@router.get("/insights/feed.atom")
def atom_feed(request: Request, session: DbSession, filters: Filters) -> Response:
    """The public network feed as Atom, with the same filters as the page: no login, public insights only."""
    found = service.feed(session=session, viewer=None, filters=filters, page=PageRequest(size=FEED_SIZE))
    query = request.url.query
    suffix = f"?{query}" if query else ""
    body = feeds.atom(
        insights=found.items,
        title=_feed_title(filters),
        site=str(request.base_url).rstrip("/"),
        feed_path=f"/insights/feed.atom{suffix}",
        page_path=f"/insights{suffix}",
    )
    return Response(body, media_type=feeds.MEDIA_TYPE)


def _feed_title(filters: InsightFilter) -> str:
    chosen = filters.model_dump(exclude_defaults=True, mode="json")
    named = ", ".join(f"{field} {value}" for field, value in chosen.items())
    return f"Insights of the commons{' — ' + named if named else ''}"


# --- posting ----------------------------------------------------------------------------------------


@router.get("/insights/new")
def new_page(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember, community: str = ""
) -> Response:
    values = NEW_INSIGHT | {"community": community}
    return pages.render(request, "insights/new.html", _posting(session, viewer, values=values, errors={}))


@router.post("/insights/new")
def publish(
    request: Request, pages: PageRenderer, data: FormData, session: DbSession, viewer: PageMember
) -> Response:
    try:
        form = parse_form(InsightCreate, insight_fields(data))
        insight = service.publish(session=session, author=viewer, form=form)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, INSIGHT_FIELD_OF)
        if "evidence" in errors:
            errors["evidence"] = EVIDENCE_HINT
        context = _posting(session, viewer, values=data, errors=errors)
        return pages.render(request, "insights/new.html", context, status_code=status)
    return see_other(f"/insights/{insight.id}")


def _posting(session: Session, viewer: Member, **context: Any) -> dict[str, Any]:
    places = service.postable_communities(session=session, member=viewer)
    return _page(viewer, places=[(c.slug, c.name) for c in places], **context)


def insight_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Form fields as InsightCreate takes them: tags from a comma list, evidence one address a line."""
    fields = dict(data)
    for group in ("sectors", "sdgs", "risks"):  # checkbox groups: absent when none is ticked
        fields[group] = data.get(group, [])
    fields["tags"] = [tag.strip() for tag in str(data.get("tags", "")).split(",") if tag.strip()]
    fields["evidence"] = [line.strip() for line in str(data.get("evidence", "")).splitlines() if line.strip()]
    return fields


# --- subscriptions ----------------------------------------------------------------------------------


@router.get("/insights/subscriptions")
def subscriptions_page(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember
) -> Response:
    return pages.render(request, "insights/subscriptions.html", _following(session, viewer, errors={}))


def _following(session: Session, viewer: Member, **context: Any) -> dict[str, Any]:
    visible = communities.search(
        session=session, viewer=viewer, filters=CommunityFilter(), page=PageRequest(size=100)
    )
    return _page(
        viewer,
        subscriptions=subscriptions.list_for(session=session, member=viewer),
        communities=[(c.slug, c.name) for c in visible.items],
        **context,
    )


@router.post("/insights/subscriptions")
def subscribe(
    request: Request, pages: PageRenderer, data: FormData, session: DbSession, viewer: PageMember
) -> Response:
    facet = str(data.get("facet", ""))
    try:
        form = parse_form(SubscriptionCreate, {"facet": facet, "value": data.get(facet, "")})
        subscriptions.subscribe(session=session, member=viewer, form=form)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        field = facet if facet in SUBSCRIBABLE else "form"  # each form sends its value under its facet
        context = _following(session, viewer, errors={field: "; ".join(errors.values())})
        return pages.render(request, "insights/subscriptions.html", context, status_code=status)
    return see_other("/insights/subscriptions")


@router.post("/insights/subscriptions/{subscription_id}/delete")
def unsubscribe(subscription_id: int, session: DbSession, viewer: PageMember) -> Response:
    subscriptions.unsubscribe(session=session, member=viewer, subscription_id=subscription_id)
    return see_other("/insights/subscriptions")


# --- one insight ------------------------------------------------------------------------------------


@router.get("/insights/{insight_id}")
def show(
    request: Request, pages: PageRenderer, session: DbSession, viewer: OptionalMember, insight: InsightById
) -> Response:
    return pages.render(request, "insights/show.html", _detail(session, viewer, insight))


def _detail(session: Session, viewer: Member | None, insight: Insight, **context: Any) -> dict[str, Any]:
    reuses = service.reuses(session=session, insight=insight, page=PageRequest(size=50))
    forms = {"reply_values": {}, "reply_errors": {}, "reuse_values": {}, "reuse_errors": {}} | context
    return _page(
        viewer,
        insight=insight,
        replies=service.replies(session=session, insight=insight, page=PageRequest(size=100)),
        reuses=[(reuse, service.named_community(session, reuse, viewer)) for reuse in reuses.items],
        travelled=service.travelled_sectors(session=session, insight=insight),
        reusers=service.reusing_communities(session=session, actor=viewer, insight=insight),
        endorsed=service.has_endorsed(session, insight, viewer),
        may_endorse=permissions.may_endorse(insight, viewer),
        may_accept=viewer is not None
        and insight.kind == Kind.QUESTION
        and permissions.may_accept(insight, viewer),
        **forms,
    )


@router.post("/insights/{insight_id}/replies")
def reply(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    insight: InsightById,
) -> Response:
    try:
        answer = service.reply(
            session=session, author=viewer, insight=insight, form=parse_form(ReplyCreate, data)
        )
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        context = _detail(session, viewer, insight, reply_values=data, reply_errors=errors)
        return pages.render(request, "insights/show.html", context, status_code=status)
    return see_other(f"/insights/{insight.id}#reply-{answer.id}")


@router.post("/insights/{insight_id}/replies/{reply_id}/accept")
def accept(reply_id: int, session: DbSession, viewer: PageMember, insight: InsightById) -> Response:
    service.accept(session=session, actor=viewer, insight=insight, reply_id=reply_id)
    return see_other(f"/insights/{insight.id}#reply-{reply_id}")


@router.post("/insights/{insight_id}/endorsement")
def endorse(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    insight: InsightById,
) -> Response:
    """Endorse (`endorse=yes`) or withdraw; HTMX swaps the button and its count in place."""
    if data.get("endorse") == "no":
        service.withdraw_endorsement(session=session, member=viewer, insight=insight)
    else:
        service.endorse(session=session, member=viewer, insight=insight)
    if not wants_fragment(request, "endorsement"):
        return see_other(f"/insights/{insight.id}")
    endorsed = data.get("endorse") != "no"
    context = _page(viewer, insight=insight, endorsed=endorsed, may_endorse=True)
    return pages.render(request, "insights/_endorse.html", context)


@router.post("/insights/{insight_id}/reuses")
def record_reuse(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    insight: InsightById,
) -> Response:
    try:
        form = parse_form(ReuseCreate, data)
        service.record_reuse(session=session, actor=viewer, insight=insight, form=form)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, REUSE_FIELD_OF)
        context = _detail(session, viewer, insight, reuse_values=data, reuse_errors=errors)
        return pages.render(request, "insights/show.html", context, status_code=status)
    return see_other(f"/insights/{insight.id}#reuse")


# --- a community's insights -------------------------------------------------------------------------


@router.get("/communities/{slug}/insights")
def community_insights(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    community: CommunityBySlug,
    page: Paging,
) -> Response:
    found = service.feed(
        session=session, viewer=viewer, filters=InsightFilter(community=community.slug), page=page
    )
    context = _reach(session, viewer, community, found=found)
    return pages.render(request, "insights/community.html", context)


@router.get("/communities/{slug}/insights/panel")
def community_panel(
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    community: CommunityBySlug,
) -> Response:
    """The community page's insights section (loaded by HTMX): recent insights and the network effect."""
    filters = InsightFilter(community=community.slug)
    found = service.feed(session=session, viewer=viewer, filters=filters, page=PageRequest(size=3))
    return pages.render(request, "insights/_panel.html", _reach(session, viewer, community, found=found))


def _reach(session: Session, viewer: Member | None, community: Community, **context: Any) -> dict[str, Any]:
    taken = service.reused_by(session=session, viewer=viewer, community=community, page=PageRequest(size=5))
    membership = communities.membership_of(session, community, viewer)
    return _page(
        viewer,
        community=community,
        reach=service.reach(session=session, community=community),
        taken=taken,
        may_post=permissions.may(permissions.Action.POST, viewer, membership) and not community.archived,
        **context,
    )
