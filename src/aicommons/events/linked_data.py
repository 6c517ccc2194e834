"""schema.org Event JSON-LD for an event's page, so search engines and calendars can read it."""

from typing import Any

from aicommons.core.markdown import plain
from aicommons.events.models import AttendanceMode, Event

SCHEMA = "https://schema.org/"
ATTENDANCE = {
    AttendanceMode.ONLINE: SCHEMA + "OnlineEventAttendanceMode",
    AttendanceMode.IN_PERSON: SCHEMA + "OfflineEventAttendanceMode",
    AttendanceMode.HYBRID: SCHEMA + "MixedEventAttendanceMode",
}


def event_document(event: Event, *, base_url: str) -> dict[str, Any]:
    """The event as a schema.org Event; the page escapes it (`|tojson`) so no text can close the script."""
    base_url = base_url.rstrip("/")
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "description": plain(event.description, 500),
        "url": base_url + event.path,
        "startDate": event.starts_at.astimezone(event.zone).isoformat(),
        "endDate": event.ends_at.astimezone(event.zone).isoformat(),
        "eventAttendanceMode": ATTENDANCE[event.mode],
        "eventStatus": SCHEMA + ("EventCancelled" if event.cancelled else "EventScheduled"),
        "location": _places(event, base_url),
        "organizer": {
            "@type": "Organization",
            "name": event.community.name,
            "url": f"{base_url}/communities/{event.community.slug}",
        },
    }
    if event.capacity is not None:
        document |= {"maximumAttendeeCapacity": event.capacity, "remainingAttendeeCapacity": event.remaining}
    return document


def _places(event: Event, base_url: str) -> list[dict[str, Any]]:
    """Where it happens; the online link itself is for those going, so the virtual place is the event page."""
    places = []
    if event.mode != AttendanceMode.ONLINE:
        places.append({"@type": "Place", "name": event.location, "address": event.location})
    if event.mode != AttendanceMode.IN_PERSON:
        places.append({"@type": "VirtualLocation", "url": base_url + event.path})
    return places
