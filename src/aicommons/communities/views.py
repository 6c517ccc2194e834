"""HTML pages of the communities domain: the home page, browsing, a community, its members, and forms."""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from aicommons.communities import permissions, service
from aicommons.communities.loaders import CommunityBySlug
from aicommons.communities.models import Community, Format, JoinPolicy, MembershipStatus, Role, Visibility
from aicommons.communities.permissions import Action
from aicommons.communities.schemas import (
    CommunityCreate,
    CommunityFilter,
    CommunityRegister,
    CommunityUpdate,
    Invitation,
    RoleChange,
)
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import PageRequest, Paging
from aicommons.core.vocabulary import Region, Sector
from aicommons.core.web import (
    DbSession,
    FormData,
    PageRenderer,
    Pages,
    parse_form,
    query_filters,
    require_csrf,
    wants_fragment,
)
from aicommons.members import service as members
from aicommons.members.auth import OptionalMember, PageMember
from aicommons.members.models import Member
from aicommons.web.choices import labelled
from aicommons.web.navigation import refusal, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])


POLICY_LABELS = {
    JoinPolicy.OPEN: "Open to all",
    JoinPolicy.APPROVAL: "Join on approval",
    JoinPolicy.INVITE: "By invitation",
}
CHOICES = {
    "formats": labelled(Format),
    "sectors": labelled(Sector),
    "regions": labelled(Region),
    "visibilities": [
        (Visibility.PUBLIC.value, "Anyone (public)"),
        (Visibility.PRIVATE.value, "Members only (private)"),
    ],
    "policies": [(policy.value, label) for policy, label in POLICY_LABELS.items()],
}
FIELD_OF = {ErrorCode.SLUG_TAKEN: "slug", ErrorCode.MEMBER_NOT_FOUND: "steward"}
INVITE_FIELD_OF = {ErrorCode.MEMBER_NOT_FOUND: "handle", ErrorCode.ALREADY_MEMBER: "handle"}
EDITABLE = (
    "name",
    "format",
    "description",
    "region",
    "visibility",
    "join_policy",
    "sectors",
    "sdgs",
    "channels",
)
NEW_COMMUNITY = {
    "languages": "en",
    "visibility": Visibility.PUBLIC.value,
    "join_policy": JoinPolicy.OPEN.value,
}


def browse_filters(request: Request) -> CommunityFilter:
    """The search form's fields; a plain GET submits empty selects, which mean "any"."""
    return query_filters(CommunityFilter, request)


Filters = Annotated[CommunityFilter, Depends(browse_filters)]


def _page(viewer: Member | None, **context: Any) -> dict[str, Any]:
    return {"viewer": viewer, "choices": CHOICES, "policy_labels": POLICY_LABELS, **context}


@router.get("/")
def home(request: Request, pages: PageRenderer, session: DbSession, viewer: OptionalMember) -> Response:
    found = service.search(
        session=session, viewer=viewer, filters=CommunityFilter(), page=PageRequest(size=6)
    )
    by_format = service.count_by_format(session=session, viewer=viewer)
    people = members.count(session=session)
    context = _page(viewer, communities=found.items, total=found.total, by_format=by_format, people=people)
    return pages.render(request, "communities/home.html", context)


@router.get("/communities")
def browse(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    filters: Filters,
    page: Paging,
) -> Response:
    """Browse and search; an HTMX request from the filter form gets only the results list."""
    found = service.search(session=session, viewer=viewer, filters=filters, page=page)
    fragment = wants_fragment(request, "results")
    template = "communities/_results.html" if fragment else "communities/browse.html"
    response = pages.render(request, template, _page(viewer, found=found, filters=filters))
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


@router.get("/communities/new")
def new_page(request: Request, pages: PageRenderer, viewer: PageMember) -> Response:
    return pages.render(request, "communities/new.html", _page(viewer, values=NEW_COMMUNITY, errors={}))


@router.post("/communities/new")
def create(
    request: Request, pages: PageRenderer, data: FormData, session: DbSession, viewer: PageMember
) -> Response:
    def found(fields: dict[str, Any]) -> Community:
        form = parse_form(CommunityCreate, fields)
        return service.create(session=session, creator=viewer, form=form)

    return _founding(
        request,
        pages=pages,
        session=session,
        viewer=viewer,
        data=data,
        template="communities/new.html",
        found=found,
    )


@router.get("/communities/register")
def register_page(request: Request, pages: PageRenderer, viewer: PageMember) -> Response:
    values = NEW_COMMUNITY | {"steward": viewer.handle}
    return pages.render(request, "communities/register.html", _page(viewer, values=values, errors={}))


@router.post("/communities/register")
def register(
    request: Request, pages: PageRenderer, data: FormData, session: DbSession, viewer: PageMember
) -> Response:
    def found(fields: dict[str, Any]) -> Community:
        form = parse_form(CommunityRegister, fields)
        return service.register(session=session, registrar=viewer, form=form)

    template = "communities/register.html"
    return _founding(
        request, pages=pages, session=session, viewer=viewer, data=data, template=template, found=found
    )


def _founding(
    request: Request,
    *,
    pages: Pages,
    session: Session,
    viewer: Member,
    data: dict[str, Any],
    template: str,
    found: Callable[[dict[str, Any]], Community],
) -> Response:
    """A new community from a form, or the form again with what was wrong next to each field."""
    try:
        community = found(community_fields(data))
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, FIELD_OF)
        context = _page(viewer, values=_form_values(data), errors=errors)
        return pages.render(request, template, context, status_code=status)
    return see_other(f"/communities/{community.slug}")


def community_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Form fields as the schemas take them: languages from a comma list, channels from name/url rows."""
    fields = {
        key: value for key, value in data.items() if key not in ("channel_name", "channel_url", "confirm")
    }
    fields["sectors"] = data.get("sectors", [])
    fields["sdgs"] = data.get("sdgs", [])
    if "languages" in data:
        fields["languages"] = [
            code.strip().lower() for code in str(data["languages"]).split(",") if code.strip()
        ]
    if "channel_name" in data:
        fields["channels"] = [channel for channel in _channels(data) if channel["name"] or channel["url"]]
    return fields


def _channels(data: dict[str, Any]) -> list[dict[str, str]]:
    names, urls = data.get("channel_name", []), data.get("channel_url", [])
    return [{"name": name.strip(), "url": url.strip()} for name, url in zip(names, urls, strict=False)]


def _form_values(data: dict[str, Any]) -> dict[str, Any]:
    """What the user typed, shaped for the form again (channel rows back together)."""
    return data | {"channels": _channels(data)}


@router.get("/communities/{slug}")
def show(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    community: CommunityBySlug,
    job: int | None = None,
) -> Response:
    context = _detail(session, viewer, community, job_id=job)
    return pages.render(request, "communities/show.html", context)


def _detail(session: Session, viewer: Member | None, community: Community, **context: Any) -> dict[str, Any]:
    membership = service.membership_of(session, community, viewer)
    may = {action.name.lower(): permissions.may(action, viewer, membership) for action in Action}
    stats = service.stats(session=session, community=community)
    return _page(viewer, community=community, membership=membership, may=may, stats=stats, **context)


@router.get("/communities/{slug}/stats")
def stats_fragment(
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    community: CommunityBySlug,
) -> Response:
    """The statistics section alone, which reloads itself when a refresh job finishes."""
    return pages.render(request, "communities/_stats.html", _detail(session, viewer, community))


@router.post("/communities/{slug}/stats/refresh")
def refresh_stats(
    request: Request, session: DbSession, viewer: PageMember, community: CommunityBySlug
) -> Response:
    job = service.request_stats_refresh(session=session, actor=viewer, community=community)
    return see_other(f"/communities/{community.slug}?job={job.id}#stats")


@router.post("/communities/{slug}/join")
def join(
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    community: CommunityBySlug,
) -> Response:
    """Join, ask to join, or accept an invitation: the service decides which from the policy."""

    def act() -> str:
        service.join(session=session, community=community, member=viewer)
        return f"/communities/{community.slug}"

    return _membership_change(
        request, pages=pages, session=session, viewer=viewer, community=community, act=act
    )


@router.post("/communities/{slug}/leave")
def leave(
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    community: CommunityBySlug,
) -> Response:
    """Leave, withdraw a request, or decline an invitation."""

    def act() -> str:
        service.leave(session=session, community=community, member=viewer)
        return _after_leaving(viewer, community)

    return _membership_change(
        request, pages=pages, session=session, viewer=viewer, community=community, act=act
    )


def _membership_change(
    request: Request,
    *,
    pages: Pages,
    session: Session,
    viewer: Member,
    community: Community,
    act: Callable[[], str],
) -> Response:
    """Do `act` and go where it says, or show the community again with why it was refused."""
    try:
        target = act()
    except CommonsError as error:
        context = _detail(session, viewer, community, action_error=refusal(session, error, {}).errors["form"])
        return pages.render(request, "communities/show.html", context, status_code=error.code.status)
    return see_other(target)


def _after_leaving(viewer: Member, community: Community) -> str:
    """Back to the community, unless leaving a private one made it invisible to the viewer."""
    if permissions.may_see(community, viewer, None):
        return f"/communities/{community.slug}"
    return "/communities"


@router.get("/communities/{slug}/edit")
def edit_page(
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    community: CommunityBySlug,
) -> Response:
    permissions.require(Action.EDIT, viewer, service.membership_of(session, community, viewer))
    context = _editing(session, viewer, community, values=_community_values(community), errors={})
    return pages.render(request, "communities/edit.html", context)


@router.post("/communities/{slug}/edit")
def edit(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    community: CommunityBySlug,
) -> Response:
    try:
        changes = CommunityUpdate.model_validate(community_fields({"description": ""} | data))
        service.update_community(session=session, actor=viewer, community=community, changes=changes)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        context = _editing(session, viewer, community, values=_form_values(data), errors=errors)
        return pages.render(request, "communities/edit.html", context, status_code=status)
    return see_other(f"/communities/{community.slug}")


def _editing(session: Session, viewer: Member, community: Community, **context: Any) -> dict[str, Any]:
    may_archive = permissions.may(Action.ARCHIVE, viewer, service.membership_of(session, community, viewer))
    return _page(viewer, community=community, may={"archive": may_archive}, **context)


def _community_values(community: Community) -> dict[str, Any]:
    values = {field: getattr(community, field) for field in EDITABLE}
    return values | {"languages": ", ".join(community.languages)}


@router.post("/communities/{slug}/archive")
def archive(
    request: Request, data: FormData, session: DbSession, viewer: PageMember, community: CommunityBySlug
) -> Response:
    if data.get("confirm") != "yes":
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "tick the box to confirm that you want to archive it")
    service.archive(session=session, actor=viewer, community=community)
    return see_other(f"/communities/{community.slug}")


@router.get("/communities/{slug}/members")
def members_page(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    community: CommunityBySlug,
    page: Paging,
) -> Response:
    return pages.render(request, "communities/members.html", _roster(session, viewer, community, page))


def _roster(
    session: Session, viewer: Member | None, community: Community, page: PageRequest, **context: Any
) -> dict[str, Any]:
    """Active members for everyone; the queue of requests and invitations for those who work it."""
    membership = service.membership_of(session, community, viewer)
    may = {action.name.lower(): permissions.may(action, viewer, membership) for action in Action}
    queues = {}
    if may["decide_requests"]:
        for status in (MembershipStatus.PENDING, MembershipStatus.INVITED):
            queues[status.value] = service.list_members(
                session=session, viewer=viewer, community=community, status=status, page=PageRequest(size=100)
            )
    active = service.list_members(
        session=session, viewer=viewer, community=community, status=MembershipStatus.ACTIVE, page=page
    )
    form = {"invite_values": {}, "invite_errors": {}} | context
    return _page(viewer, community=community, may=may, active=active, roles=list(Role), **queues, **form)


@router.post("/communities/{slug}/requests/{handle}/{decision}")
def decide(
    *,
    request: Request,
    handle: str,
    decision: Literal["approve", "reject"],
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    community: CommunityBySlug,
) -> Response:
    """Approve or reject a request to join."""
    try:
        service.decide(
            session=session, actor=viewer, community=community, handle=handle, approve=decision == "approve"
        )
    except CommonsError as error:
        action_error = refusal(session, error, {}).errors["form"]
        context = _roster(session, viewer, community, PageRequest(), action_error=action_error)
        return pages.render(request, "communities/members.html", context, status_code=error.code.status)
    return see_other(f"/communities/{community.slug}/members")


@router.post("/communities/{slug}/invitations")
def invite(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    community: CommunityBySlug,
) -> Response:
    try:
        handle = parse_form(Invitation, data).handle
        service.invite(session=session, actor=viewer, community=community, handle=handle)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, INVITE_FIELD_OF)
        context = _roster(session, viewer, community, PageRequest(), invite_values=data, invite_errors=errors)
        return pages.render(request, "communities/members.html", context, status_code=status)
    return see_other(f"/communities/{community.slug}/members")


@router.post("/communities/{slug}/members/{handle}/role")
def set_role(
    *,
    request: Request,
    handle: str,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    community: CommunityBySlug,
) -> Response:
    try:
        role = parse_form(RoleChange, data).role
        service.set_role(session=session, actor=viewer, community=community, handle=handle, role=role)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        context = _roster(session, viewer, community, PageRequest(), action_error="; ".join(errors.values()))
        return pages.render(request, "communities/members.html", context, status_code=status)
    return see_other(f"/communities/{community.slug}/members")


@router.get("/members/{handle}")
def member_page(
    request: Request, handle: str, pages: PageRenderer, session: DbSession, viewer: OptionalMember
) -> Response:
    """A member's public page; it lives here because it lists communities, which members cannot import."""
    member = members.get(session=session, handle=handle)
    found = service.active_in(session=session, member=member, viewer=viewer, page=PageRequest(size=100))
    return pages.render(request, "members/public.html", _page(viewer, member=member, communities=found.items))
