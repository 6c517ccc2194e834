"""The demo commons' events: upcoming and past ones across its communities, through the events' services.

Every kind and every mode, a monthly meetup series, a workshop full with a waitlist, a private council's
roundtable, a cancelled site visit, past events with what they produced, answers from many members, and
a calendar feed for the demo login. A past event is scheduled ahead, answered, then moved back in time
(the services only schedule ahead, as people do)."""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.core.db import utcnow
from aicommons.events import attendance, feeds, service
from aicommons.events.models import Answer, Event
from aicommons.events.recurrence import Series
from aicommons.events.schemas import EventForm, OutcomeCreate
from aicommons.members.models import Member

DEMO_LOGIN = "amina"
GOING, INTERESTED, DECLINED = Answer.GOING, Answer.INTERESTED, Answer.DECLINED


@dataclass(frozen=True)
class DemoEvent:
    community: str
    organizer: str
    days: int  # from now: negative for an event already held
    hour: int
    form: dict[str, object]
    answers: dict[str, Answer] = field(default_factory=dict)
    outcomes: tuple[dict[str, str], ...] = ()
    hours: int = 2
    cancelled: bool = False


TRIAGE = (
    "Bring the triage tool your ward uses (or screenshots of it). In small groups we try each one on "
    "**real, anonymised cases** and note:\n\n- what it gets right,\n- where it misleads,\n"
    "- what a nurse needs to know before trusting it.\n\nPlaces are limited so that every group has a "
    "facilitator; join the waitlist if it is full."
)
NIGHT_SHIFT = (
    "Nurses on night shifts describe the alerts AI monitoring raises, how many they dismiss, and what "
    "happens when a real one is missed. Hospital IT and one vendor listen and answer."
)
EVENTS = (
    DemoEvent(
        "smallholder-ml-meetups",
        "kofi",
        0,  # the next first Thursday (see _first_thursday)
        17,
        {
            "title": "Monthly field meetup: crop disease from phone photos",
            "kind": "meetup",
            "mode": "hybrid",
            "timezone": "Africa/Nairobi",
            "recurrence": "FREQ=MONTHLY;BYDAY=1TH;COUNT=12",
            "location": "Kisumu Agricultural Training Centre, Kisumu",
            "online_url": "https://meet.example.org/smallholder-ml",
            "capacity": 40,
            "description": "Farmers and data people meet on the first Thursday of every month: new photos "
            "from the field, how the model did on them, and what to label next. Swahili, English and French.",
        },
        {
            "diego": GOING,
            "grace": GOING,
            "jonas": INTERESTED,
            "sam": GOING,
            "kofi": GOING,
            "amina": INTERESTED,
        },
    ),
    DemoEvent(
        "nurses-on-ai",
        "amina",
        12,
        14,
        {
            "title": "Triage tools at the bedside: a hands-on workshop",
            "kind": "workshop",
            "mode": "in-person",
            "timezone": "Europe/Paris",
            "location": "Hôpital Lariboisière, salle 3, 2 rue Ambroise-Paré, Paris",
            "capacity": 4,
            "description": TRIAGE,
        },
        {
            "amina": GOING,
            "ines": GOING,
            "grace": GOING,
            "ana": GOING,
            "elena": GOING,
            "olu": GOING,
            "liam": INTERESTED,
        },
        hours=3,
    ),
    DemoEvent(
        "humanitarian-ai-summit",
        "sara",
        40,
        9,
        {
            "title": "Crisis-mapping hackathon",
            "kind": "hackathon",
            "mode": "hybrid",
            "timezone": "Africa/Nairobi",
            "location": "iHub, Senteu Plaza, Nairobi",
            "online_url": "https://meet.example.org/crisis-mapping",
            "capacity": 60,
            "description": "Two days to build open tools that turn field reports and satellite images into "
            "maps responders can use within the hour. Field staff welcome: no code needed to take part.",
        },
        {"sara": GOING, "amina": GOING, "grace": GOING, "hugo": INTERESTED, "jonas": GOING, "fatima": GOING},
        hours=32,
    ),
    DemoEvent(
        "ai-policy-forum",
        "nadia",
        18,
        10,
        {
            "title": "Public-sector AI procurement roundtable",
            "kind": "roundtable",
            "mode": "in-person",
            "timezone": "Europe/Brussels",
            "location": "Résidence Palace, Rue de la Loi 155, Brussels",
            "capacity": 25,
            "description": "Procurement officers, lawyers and vendors test the forum's draft checklist on "
            "three real tenders. Chatham House rule.",
        },
        {"nadia": GOING, "olu": GOING, "elena": GOING, "hugo": INTERESTED, "ahmed": DECLINED, "liam": GOING},
    ),
    DemoEvent(
        "teachers-ai-circle",
        "lucia",
        8,
        17,
        {
            "title": "AI in the classroom: what works (webinar)",
            "kind": "webinar",
            "mode": "online",
            "timezone": "America/Bogota",
            "online_url": "https://meet.example.org/teachers-ai",
            "description": "Three teachers show one lesson each where AI helped, and one where it did not.",
        },
        {"lucia": GOING, "fatima": GOING, "priya": GOING, "marta": INTERESTED, "amina": GOING},
        hours=1,
    ),
    DemoEvent(
        "climate-data-collaborative",
        "mei",
        25,
        8,
        {
            "title": "Flood-forecast data sprint",
            "kind": "hackathon",
            "mode": "online",
            "timezone": "UTC",
            "online_url": "https://meet.example.org/flood-sprint",
            "description": "A day of cleaning and joining weather-station records for the shared forecast.",
        },
        {"mei": GOING, "pita": GOING, "liam": GOING, "diego": INTERESTED},
        hours=8,
    ),
    DemoEvent(
        "sdg-strategy-council",
        "olu",
        30,
        15,
        {
            "title": "Setting the commons' priorities for next year",
            "kind": "roundtable",
            "mode": "hybrid",
            "timezone": "Europe/London",
            "location": "Partner office, 10 Queen Street Place, London",
            "online_url": "https://meet.example.org/council",
            "description": "Partners agree the three goals the commons' bounties favour next year.",
        },
        {"olu": GOING, "amina": GOING, "ahmed": INTERESTED},
    ),
    DemoEvent(
        "water-sensing-lab",
        "raj",
        15,
        10,
        {
            "title": "Build a water-quality sensor",
            "kind": "workshop",
            "mode": "in-person",
            "timezone": "Asia/Kolkata",
            "location": "Makerspace, Koramangala, Bengaluru",
            "capacity": 15,
            "description": "Solder, calibrate and deploy a turbidity and conductivity sensor.",
        },
        {"raj": GOING, "ana": GOING, "pita": INTERESTED, "liam": GOING},
        hours=4,
    ),
    DemoEvent(
        "drivers-safety-watch",
        "tom",
        6,
        19,
        {
            "title": "Drivers' meetup: living with route-optimisation apps",
            "kind": "meetup",
            "mode": "in-person",
            "timezone": "Europe/Berlin",
            "location": "Autohof Lehrte, Lehrte near Hannover",
            "description": "Drivers compare the apps that plan their days and what they would change.",
        },
        {"tom": GOING, "marta": GOING, "sam": INTERESTED},
    ),
    DemoEvent(
        "energy-access-network",
        "yuki",
        20,
        9,
        {
            "title": "Microgrid site visit",
            "kind": "meetup",
            "mode": "in-person",
            "timezone": "Africa/Lagos",
            "location": "Solar microgrid, Ikorodu",
            "description": "A walk around a working microgrid and its demand logger.",
        },
        {"yuki": GOING, "ahmed": GOING, "kofi": INTERESTED},
        cancelled=True,
    ),
    DemoEvent(
        "energy-access-network",
        "yuki",
        22,
        14,
        {
            "title": "Forecasting microgrid demand (webinar)",
            "kind": "webinar",
            "mode": "online",
            "timezone": "Africa/Lagos",
            "online_url": "https://meet.example.org/microgrid-demand",
            "description": "How the network's forecasts are made, and how to add your site's meter data.",
        },
        {"yuki": GOING, "ahmed": GOING, "kofi": GOING, "jonas": INTERESTED},
        hours=1,
    ),
    DemoEvent(
        "nurses-on-ai",
        "amina",
        -21,
        20,
        {
            "title": "Night-shift AI alerts: a roundtable",
            "kind": "roundtable",
            "mode": "hybrid",
            "timezone": "Africa/Dakar",
            "location": "Hôpital Principal de Dakar, salle de conférence",
            "online_url": "https://meet.example.org/night-shift",
            "capacity": 30,
            "description": NIGHT_SHIFT,
        },
        {"amina": GOING, "ines": GOING, "grace": GOING, "ana": GOING, "elena": INTERESTED, "olu": GOING},
        (
            {
                "kind": "recommendation",
                "title": "Tune alert thresholds with night staff",
                "note": "Review dismissed alerts **weekly with the nurses who dismissed them**, and lower "
                "the volume before adding any new alert.",
            },
            {
                "kind": "insight",
                "title": "What nurses said about alert fatigue",
                "url": "/insights?q=alert+fatigue",
            },
            {"kind": "concern", "title": "Missed deterioration alerts at night", "url": "/concerns?q=night"},
        ),
    ),
    DemoEvent(
        "teachers-ai-circle",
        "lucia",
        -10,
        16,
        {
            "title": "Lesson planning with AI",
            "kind": "workshop",
            "mode": "online",
            "timezone": "America/Bogota",
            "online_url": "https://meet.example.org/lesson-planning",
            "description": "Teachers plan one real lesson each with an AI assistant and swap notes.",
        },
        {"lucia": GOING, "fatima": GOING, "priya": GOING, "marta": GOING},
        (
            {
                "kind": "recommendation",
                "title": "Share prompts, not finished lessons",
                "note": "A shared library of prompts that worked travels better between schools.",
            },
            {"kind": "insight", "title": "Lesson-planning notes", "url": "/insights?q=lesson+planning"},
        ),
        hours=2,
    ),
)


def seed(session: Session, people: dict[str, Member]) -> None:
    """Schedule the demo's events, answer them, hold the past ones and link what they produced (call once,
    on the demo commons after its communities exist; it commits nothing)."""
    for spec in EVENTS:
        _add_event(session, spec, people)
    feeds.new_feed(session=session, member=people[DEMO_LOGIN])


def _add_event(session: Session, spec: DemoEvent, people: dict[str, Member]) -> Event:
    organizer = people[spec.organizer]
    community = communities.get(session=session, slug=spec.community, viewer=organizer)
    form = EventForm.model_validate(spec.form | _times(spec))
    event = service.schedule(session=session, actor=organizer, community=community, form=form)
    for handle, choice in spec.answers.items():
        attendance.answer(session=session, event=event, member=people[handle], choice=choice)
    if spec.cancelled:
        service.cancel(session=session, actor=organizer, event=event)
    if spec.days < 0:
        _held(event, days_ago=-spec.days)
        for outcome in spec.outcomes:
            service.link_outcome(session=session, actor=organizer, event=event, form=OutcomeCreate(**outcome))
    return event


def _times(spec: DemoEvent) -> dict[str, datetime]:
    """A local start and end: `days` ahead at `hour` (a past event is first scheduled a week ahead)."""
    zone = ZoneInfo(str(spec.form["timezone"]))
    day = _first_thursday(zone) if spec.form.get("recurrence") else _day(max(spec.days, 7), zone)
    start = day.replace(hour=spec.hour, minute=0, second=0, microsecond=0)
    return {"start": start, "end": start + timedelta(hours=spec.hours)}


def _day(days: int, zone: ZoneInfo) -> datetime:
    return (utcnow() + timedelta(days=days)).astimezone(zone).replace(tzinfo=None)


def _first_thursday(zone: ZoneInfo) -> datetime:
    """The next first Thursday of a month at least a week away, for the monthly series."""
    day = _day(7, zone)
    while not (day.weekday() == 3 and day.day <= 7):
        day += timedelta(days=1)
    return day


def _held(event: Event, *, days_ago: int) -> None:
    """Move an answered event back in time, as if it had been held `days_ago` days ago."""
    ahead = math.ceil((event.starts_at - utcnow()) / timedelta(days=1))
    shift = timedelta(days=ahead + days_ago)  # whole days: it keeps its local hour
    event.starts_at -= shift
    event.ends_at -= shift
    event.over_at = Series(
        event.starts_at, event.ends_at - event.starts_at, event.zone, event.recurrence
    ).last_end()
