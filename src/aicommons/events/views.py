"""HTML pages of the events domain: browsing, an event with its answers and outcomes, the forms, a member's
events, a community's events and its panel, and the iCalendar feeds."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.communities.loaders import CommunityBySlug
from aicommons.communities.models import Community, Format, Visibility
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import PageRequest, Paging
from aicommons.core.web import (
    AppSettings,
    DbSession,
    FormData,
    PageRenderer,
    Pages,
    is_htmx,
    parse_form,
    query_filters,
    require_csrf,
    wants_fragment,
)
from aicommons.events import attendance, feeds, permissions, service
from aicommons.events.linked_data import event_document
from aicommons.events.models import Answer, AttendanceMode, Event, EventKind, OutcomeKind
from aicommons.events.permissions import Action
from aicommons.events.schemas import (
    EventFilter,
    EventForm,
    EventUpdate,
    OutcomeCreate,
    RsvpSet,
    When,
    time_zones,
)
from aicommons.members.auth import OptionalMember, PageMember
from aicommons.members.models import Member
from aicommons.web.choices import labelled
from aicommons.web.navigation import refusal, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])


LABELS = {
    "kinds": dict(labelled(EventKind)),
    "modes": {
        AttendanceMode.ONLINE.value: "Online",
        AttendanceMode.IN_PERSON.value: "In person",
        AttendanceMode.HYBRID.value: "Hybrid (in person and online)",
    },
    "answers": {
        Answer.GOING.value: "Going",
        Answer.INTERESTED.value: "Interested",
        Answer.DECLINED.value: "Can't go",
    },
    "outcomes": dict(labelled(OutcomeKind)),
}
CHOICES = {name: list(labels.items()) for name, labels in LABELS.items()} | {"formats": labelled(Format)}
FIELD_OF = {ErrorCode.VALIDATION_FAILED: "start", ErrorCode.COMMUNITY_NOT_FOUND: "community"}
NEW_EVENT = {"kind": EventKind.MEETUP.value, "mode": AttendanceMode.IN_PERSON.value, "timezone": "UTC"}
PANEL_SIZE = 3


def event_by_id(event_id: int, session: DbSession, viewer: OptionalMember) -> Event:
    """The event, or the 404 page for anyone who may not know it exists."""
    return service.get(session=session, event_id=event_id, viewer=viewer)


def browse_filters(request: Request) -> EventFilter:
    return query_filters(EventFilter, request)


EventById = Annotated[Event, Depends(event_by_id)]
Filters = Annotated[EventFilter, Depends(browse_filters)]


def moment(event: Event, at: datetime | None = None) -> str:
    """A time as the event's own zone reads it: "Thu 7 Jan 2027, 18:00"."""
    local = (at or event.starts_at).astimezone(event.zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def span(event: Event, start: datetime | None = None) -> str:
    """One occurrence with its zone's abbreviation: "Thu 7 Jan 2027, 18:00 to 20:00 CET"."""
    start = start or event.starts_at
    end = start + (event.ends_at - event.starts_at)
    local_end = end.astimezone(event.zone)
    same_day = start.astimezone(event.zone).date() == local_end.date()
    until = f"{local_end:%H:%M}" if same_day else moment(event, end)
    return f"{moment(event, start)} to {until} {local_end:%Z}"


def _page(viewer: Member | None, **context: Any) -> dict[str, Any]:
    return {"viewer": viewer, "choices": CHOICES, "labels": LABELS, "moment": moment, "span": span, **context}


# --- browsing --------------------------------------------------------------------------------------------


@router.get("/events")
def browse(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    filters: Filters,
    page: Paging,
) -> Response:
    """Upcoming or past events; an HTMX request from the filter form gets only the results."""
    found = service.search(session=session, viewer=viewer, filters=filters, page=page)
    template = "events/_results.html" if wants_fragment(request, "results") else "events/browse.html"
    response = pages.render(request, template, _page(viewer, found=found, filters=filters))
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


@router.get("/communities/{slug}/events")
def community_events(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    community: CommunityBySlug,
    page: Paging,
    when: When = When.UPCOMING,
) -> Response:
    found = service.of_community(session=session, community=community, when=when, page=page)
    filters = EventFilter(when=when, community=community.slug)
    may_schedule = _may_schedule(session, viewer, community)
    context = _page(viewer, community=community, found=found, filters=filters, may_schedule=may_schedule)
    template = "events/_results.html" if wants_fragment(request, "results") else "events/community.html"
    return pages.render(request, template, context)


@router.get("/communities/{slug}/events/panel")
def community_panel(
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    community: CommunityBySlug,
) -> Response:
    """The community page's events section: the next few and the latest past ones with their outcomes."""
    size = PageRequest(size=PANEL_SIZE)
    upcoming = service.of_community(session=session, community=community, when=When.UPCOMING, page=size)
    past = service.of_community(session=session, community=community, when=When.PAST, page=size)
    may_schedule = _may_schedule(session, viewer, community)
    context = _page(viewer, community=community, upcoming=upcoming, past=past, may_schedule=may_schedule)
    return pages.render(request, "events/_panel.html", context)


def _may_schedule(session: Session, viewer: Member | None, community: Community) -> bool:
    membership = communities.membership_of(session, community, viewer)
    return not community.archived and permissions.may(Action.SCHEDULE, viewer, membership)


# --- one event -------------------------------------------------------------------------------------------


@router.get("/events/{event_id:int}")
def show(
    request: Request, pages: PageRenderer, session: DbSession, viewer: OptionalMember, event: EventById
) -> Response:
    return pages.render(request, "events/show.html", _detail(request, session, viewer, event))


def _detail(
    request: Request, session: Session, viewer: Member | None, event: Event, **context: Any
) -> dict[str, Any]:
    may = {action.name.lower(): service.may(session, action, viewer, event) for action in Action}
    people = _people(session, viewer, event) if may["see_attendees"] else {}
    document = event_document(event, base_url=str(request.base_url))
    form = {"outcome_values": {"kind": OutcomeKind.INSIGHT.value}, "outcome_errors": {}} | context
    return _answering(session, viewer, event) | {
        "may": may,
        "linked_data": document,
        "people": people,
        **form,
    }


def _answering(session: Session, viewer: Member | None, event: Event, **context: Any) -> dict[str, Any]:
    """What the answer buttons need: the viewer's answer, place in line, and whether they may answer."""
    rsvp = attendance.rsvp_of(session, event, viewer)
    membership = communities.membership_of(session, event.community, viewer)
    return _page(
        viewer,
        event=event,
        rsvp=rsvp,
        position=attendance.position(session, rsvp) if rsvp else None,
        may_answer=permissions.may_answer(event.community, viewer, membership),
        online_link=event.online_url if attendance.may_join_online(session, event, viewer) else "",
        is_over=event.over_at <= utcnow(),
        has_ended=event.ends_at <= utcnow(),
        **context,
    )


def _people(session: Session, viewer: Member | None, event: Event) -> dict[str, list[Any]]:
    """Who answered, for the event's organizers (the first hundred of each answer)."""
    assert viewer is not None
    first = PageRequest(size=100)
    return {
        choice.value: attendance.attendees(
            session=session, viewer=viewer, event=event, choice=choice, page=first
        ).items
        for choice in (Answer.GOING, Answer.INTERESTED)
    }


@router.post("/events/{event_id:int}/rsvp")
def answer(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    event: EventById,
) -> Response:
    """Answer with the buttons; HTMX swaps only the answer section, a plain form goes back to the page."""
    try:
        choice = parse_form(RsvpSet, data).answer
        attendance.answer(session=session, event=event, member=viewer, choice=choice)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        return _answered(
            request, pages, session, viewer, event, status=status, answer_error="; ".join(errors.values())
        )
    if is_htmx(request):
        return _answered(request, pages, session, viewer, event, status=200)
    return see_other(f"{event.path}#rsvp")


def _answered(
    request: Request,
    pages: Pages,
    session: Session,
    viewer: Member,
    event: Event,
    *,
    status: int,
    **context: Any,
) -> Response:
    if is_htmx(request):  # HTMX swaps only 2xx answers: a refusal comes as the section with its message
        return pages.render(request, "events/_rsvp.html", _answering(session, viewer, event, **context))
    return pages.render(
        request, "events/show.html", _detail(request, session, viewer, event, **context), status_code=status
    )


@router.post("/events/{event_id:int}/outcomes")
def link_outcome(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    event: EventById,
) -> Response:
    try:
        form = parse_form(OutcomeCreate, data)
        service.link_outcome(session=session, actor=viewer, event=event, form=form)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        context = _detail(request, session, viewer, event, outcome_values=data, outcome_errors=errors)
        return pages.render(request, "events/show.html", context, status_code=status)
    return see_other(f"{event.path}#outcomes")


# --- forms -----------------------------------------------------------------------------------------------


@router.get("/events/new")
def new_page(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember, community: str = ""
) -> Response:
    values = NEW_EVENT | {"community": community}
    return pages.render(request, "events/new.html", _form_page(session, viewer, values=values, errors={}))


@router.post("/events/new")
def create(
    request: Request, pages: PageRenderer, data: FormData, session: DbSession, viewer: PageMember
) -> Response:
    try:
        form = parse_form(EventForm, _event_fields(data))
        community = communities.get(session=session, slug=str(data.get("community", "")), viewer=viewer)
        event = service.schedule(session=session, actor=viewer, community=community, form=form)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, FIELD_OF)
        context = _form_page(session, viewer, values=data, errors=errors)
        return pages.render(request, "events/new.html", context, status_code=status)
    return see_other(event.path)


def _form_page(session: Session, viewer: Member, **context: Any) -> dict[str, Any]:
    choices = service.schedulable_communities(session=session, member=viewer)
    return _page(viewer, communities=choices, time_zones=sorted(time_zones()), **context)


def _event_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {field: value for field, value in data.items() if field in EventForm.model_fields}


@router.get("/events/{event_id:int}/edit")
def edit_page(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember, event: EventById
) -> Response:
    if not service.may(session, Action.EDIT, viewer, event):
        raise CommonsError(ErrorCode.FORBIDDEN, "you may not edit events in this community")
    context = _form_page(session, viewer, event=event, values=_event_values(event), errors={})
    return pages.render(request, "events/edit.html", context)


@router.post("/events/{event_id:int}/edit")
def edit(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    event: EventById,
) -> Response:
    try:
        form = parse_form(EventForm, _event_fields(data))
        changes = EventUpdate.model_validate(form.model_dump())
        service.update_event(session=session, actor=viewer, event=event, changes=changes)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, FIELD_OF)
        context = _form_page(session, viewer, event=event, values=data, errors=errors)
        return pages.render(request, "events/edit.html", context, status_code=status)
    return see_other(event.path)


def _event_values(event: Event) -> dict[str, Any]:
    """An event as its form shows it: local times in its zone."""
    values = {
        field: getattr(event, field) for field in EventForm.model_fields if field not in ("start", "end")
    }
    values["start"], values["end"] = (
        f"{at.astimezone(event.zone):%Y-%m-%dT%H:%M}" for at in (event.starts_at, event.ends_at)
    )
    values["capacity"] = "" if event.capacity is None else event.capacity
    return values


@router.post("/events/{event_id:int}/cancel")
def cancel(data: FormData, session: DbSession, viewer: PageMember, event: EventById) -> Response:
    if data.get("confirm") != "yes":
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "tick the box to confirm that you want to cancel it")
    service.cancel(session=session, actor=viewer, event=event)
    return see_other(event.path)


# --- a member's events and feed --------------------------------------------------------------------------


@router.get("/events/mine")
def mine(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    page: Paging,
    when: When = When.UPCOMING,
) -> Response:
    return pages.render(request, "events/mine.html", _mine(session, viewer, when, page))


@router.post("/events/mine/feed")
def new_feed(request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember) -> Response:
    """A new calendar feed address, shown in this response only (the old address stops working)."""
    _, token = feeds.new_feed(session=session, member=viewer)
    url = str(request.url_for("member_feed", token=token))
    return pages.render(
        request, "events/mine.html", _mine(session, viewer, When.UPCOMING, PageRequest(), new_feed_url=url)
    )


def _mine(session: Session, viewer: Member, when: When, page: PageRequest, **context: Any) -> dict[str, Any]:
    found = attendance.mine(session=session, member=viewer, when=when, page=page)
    positions = {rsvp.id: attendance.position(session, rsvp) for rsvp in found.items}
    feed = feeds.feed_of(session, viewer)
    return _page(viewer, found=found, when=when, positions=positions, feed=feed, **context)


# --- iCalendar ---------------------------------------------------------------------------------------------


@router.get("/events/feed/{token}.ics", name="member_feed")
def member_feed(request: Request, token: str, session: DbSession, settings: AppSettings) -> Response:
    """A member's events for calendar apps, which cannot log in: the token in the address stands for them."""
    _, events = feeds.member_events(session=session, token=token)
    document = feeds.calendar(events, name=f"My events · {settings.name}", base_url=str(request.base_url))
    return _ics(document, "my-events.ics", cache="private, no-store")


@router.get("/events/{event_id:int}.ics")
def event_calendar(request: Request, event: EventById) -> Response:
    document = feeds.calendar([event], name=event.title, base_url=str(request.base_url))
    cache = "public, max-age=300" if event.community.visibility == Visibility.PUBLIC else "private, no-store"
    return _ics(document, f"event-{event.id}.ics", cache=cache)


@router.get("/communities/{slug}/events.ics")
def community_calendar(request: Request, session: DbSession, community: CommunityBySlug) -> Response:
    events = feeds.community_events(session=session, community=community)
    document = feeds.calendar(events, name=community.name, base_url=str(request.base_url))
    cache = "public, max-age=300" if community.visibility == Visibility.PUBLIC else "private, no-store"
    return _ics(document, f"{community.slug}-events.ics", cache=cache)


def _ics(document: bytes, filename: str, *, cache: str) -> Response:
    headers = {"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": cache}
    return Response(document, media_type="text/calendar; charset=utf-8", headers=headers)
