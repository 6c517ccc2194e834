"""What the events API accepts and returns.

Times come in as a local date and time plus an IANA time zone, as people think of them ("18:00 in
Nairobi"); a time with an offset is converted to that zone. They go out in UTC with the zone beside."""

import re
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from aicommons.communities.models import Format
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.events import recurrence
from aicommons.events.models import Answer, AttendanceMode, EventKind, EventStatus, OutcomeKind

MAX_DURATION = timedelta(days=14)
LOCAL_LINK = re.compile(r"^/(insights|concerns)(/\d{1,12})?(\?[\w.~%+=&-]{0,300})?$")
PLACES = (AttendanceMode.IN_PERSON, AttendanceMode.HYBRID)
ONLINE = (AttendanceMode.ONLINE, AttendanceMode.HYBRID)


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(name: str) -> str:
    if name not in time_zones():
        raise ValueError("choose a time zone by its IANA name, such as Europe/Berlin or Africa/Nairobi")
    return name


def _web_link(value: str) -> str:
    """An http(s) address, kept as typed (not rewritten by the URL parser)."""
    if value and not (value.startswith(("https://", "http://")) and _parses(value)):
        raise ValueError("give a full web address starting with https://")
    return value


def _parses(value: str) -> bool:
    try:
        HttpUrl(value)
    except ValidationError:
        return False
    return not any(character.isspace() or character in "<>\"'`" for character in value)


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=120)]
Description = Annotated[str, Field(max_length=10_000)]
Location = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
WebLink = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_web_link)]
Capacity = Annotated[int, Field(ge=1, le=100_000)]
TimeZoneName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_known_zone)
]
Rule = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class EventForm(BaseModel):
    """An event as scheduled or changed: every field, checked together (the validators run in order)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    title: Title
    kind: EventKind
    mode: AttendanceMode
    description: Description = ""
    timezone: TimeZoneName
    start: datetime
    end: datetime
    recurrence: Rule = ""
    location: Location = ""
    online_url: WebLink = ""
    capacity: Capacity | None = None

    @field_validator("start", "end")
    @classmethod
    def _in_zone(cls, value: datetime, info: ValidationInfo) -> datetime:
        """A wall-clock time in the event's zone, to the minute; a time with an offset is that moment."""
        if "timezone" not in info.data:
            return value
        zone = ZoneInfo(info.data["timezone"])
        local = value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
        return local.replace(second=0, microsecond=0)

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("the end must be after the start")
        if start is not None and end - start > MAX_DURATION:
            raise ValueError("an event lasts at most 14 days (make a series for more)")
        return end

    @field_validator("recurrence")
    @classmethod
    def _bounded_rule(cls, rule: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        return recurrence.normalize(rule, start) if start is not None and rule else rule.upper()

    @field_validator("location")
    @classmethod
    def _has_a_place(cls, location: str, info: ValidationInfo) -> str:
        if info.data.get("mode") in PLACES and not location:
            raise ValueError("say where it takes place")
        return location

    @field_validator("online_url")
    @classmethod
    def _has_a_link(cls, link: str, info: ValidationInfo) -> str:
        if info.data.get("mode") in ONLINE and not link:
            raise ValueError("give the link people join by")
        return link


class EventUpdate(BaseModel):
    """The fields to change; an explicit `"capacity": null` removes the limit."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    kind: EventKind | None = None
    mode: AttendanceMode | None = None
    description: Description | None = None
    timezone: TimeZoneName | None = None
    start: datetime | None = None
    end: datetime | None = None
    recurrence: Rule | None = None
    location: Location | None = None
    online_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    capacity: Capacity | None = None

    def applied_to(self, current: dict[str, Any]) -> EventForm:
        """The event as it would be with these changes, checked as a whole."""
        changes = self.model_dump(exclude_unset=True)
        try:
            return EventForm.model_validate(current | changes)
        except ValidationError as error:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise CommonsError(ErrorCode.VALIDATION_FAILED, detail.replace("Value error, ", "")) from error


class When(StrEnum):
    UPCOMING = "upcoming"
    PAST = "past"


class EventFilter(BaseModel):
    """Browse: every field narrows the list."""

    when: When = When.UPCOMING
    kind: EventKind | None = None
    mode: AttendanceMode | None = None
    format: Format | None = None  # the community's format
    community: str | None = Field(default=None, max_length=50)


class OutcomeCreate(BaseModel):
    """What an event produced. An insight or a concern is a link (a page of this commons such as
    /insights/12, or an https address); a recommendation is a link or a text (Markdown)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    kind: OutcomeKind
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
    url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    note: Annotated[str, Field(max_length=5000)] = ""

    @field_validator("url")
    @classmethod
    def _a_page_of_its_kind(cls, url: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if not url:
            if kind in (OutcomeKind.INSIGHT, OutcomeKind.CONCERN):
                raise ValueError(f"link the {kind}: /{kind}s/<number> or an https address")
            return url
        local = LOCAL_LINK.match(url)
        if local is None and not (url.startswith("https://") and _parses(url)):
            raise ValueError("use a page of this commons (/insights/12, /concerns/7) or an https address")
        if local is not None and kind != OutcomeKind.RECOMMENDATION and local[1] != f"{kind}s":
            raise ValueError(f"this {kind} links to /{kind}s/…, not /{local[1]}")
        return url

    @field_validator("note")
    @classmethod
    def _says_something(cls, note: str, info: ValidationInfo) -> str:
        if (
            info.data.get("kind") == OutcomeKind.RECOMMENDATION
            and not note.strip()
            and not info.data.get("url")
        ):
            raise ValueError("write the recommendation, or link it")
        return note


class RsvpSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Answer


class OutcomeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: OutcomeKind
    title: str
    url: str
    note: str
    created_at: datetime


class EventRead(BaseModel):
    """An event; `online_url` is shown only to those going and to its organizers."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    community: str = Field(validation_alias="community_slug")
    community_name: str
    title: str
    kind: EventKind
    mode: AttendanceMode
    description: str
    starts_at: datetime
    ends_at: datetime
    over_at: datetime
    timezone: str
    recurrence: str
    next_starts: list[datetime] = Field(validation_alias="upcoming_starts")
    location: str
    online_url: str | None
    capacity: int | None
    going_count: int
    waitlist_count: int
    remaining: int | None
    status: EventStatus
    outcomes: list[OutcomeRead]
    created_at: datetime


class EventPage(BaseModel):
    items: list[EventRead]
    total: int
    page: int
    size: int


class RsvpRead(BaseModel):
    """Your answer; `position` is your place in the waitlist (1 is next), when you are on it."""

    event_id: int
    answer: Answer
    waitlisted: bool
    position: int | None
    updated_at: datetime


class MyEventRead(BaseModel):
    event: EventRead
    rsvp: RsvpRead


class MyEventPage(BaseModel):
    items: list[MyEventRead]
    total: int
    page: int
    size: int


class AttendeeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    handle: str
    display_name: str
    answer: Answer
    waitlisted: bool
    updated_at: datetime


class AttendeePage(BaseModel):
    items: list[AttendeeRead]
    total: int
    page: int
    size: int


class FeedRead(BaseModel):
    """Your calendar feed's address: it is shown once, when it is made (only its hash is kept)."""

    url: str
    created_at: datetime
