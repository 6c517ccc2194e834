"""A concern escalated to the AI Incident Database, in the shape of the AIID's submissions (the fields of its
`Submission` type), built from the public, redacted concern only."""

from datetime import date
from urllib.parse import urlsplit

from aicommons.concerns.models import Concern, Harm
from aicommons.concerns.redaction import redact
from aicommons.concerns.schemas import AiidSubmission
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.markdown import plain

DESCRIPTION_LENGTH = 300
TITLE_LENGTH = 200


def submission(concern: Concern, *, url: str, commons: str) -> AiidSubmission:
    """The submission for a concern that moderators escalated to the AIID; `url` is its public page."""
    if concern.exported_at is None:
        raise CommonsError(ErrorCode.NOT_ESCALATED, f"concern #{concern.id} was not escalated to the AIID")
    text = _text(concern)
    today = _day(utcnow().date())
    return AiidSubmission(
        title=_title(concern),
        description=plain(redact(concern.what_happened), DESCRIPTION_LENGTH),
        text=text,
        plain_text=plain(text, len(text) + 1),
        incident_date=_day(concern.created_at.date()),
        date_published=_day(concern.created_at.date()),
        date_submitted=today,
        date_downloaded=today,
        date_modified=_day(concern.updated_at.date()),
        url=url,
        source_domain=urlsplit(url).hostname or "",
        language="en",
        authors=[_author(concern)],
        submitters=[commons],
        deployers=_named(concern.deployer),
        developers=_named(concern.developer),
        harmed_parties=[redact(concern.who_affected)],
        implicated_systems=[redact(concern.ai_tool)],
        tags=_tags(concern),
        editor_notes=_notes(concern, commons),
    )


def _day(day: date) -> str:
    return day.isoformat()


def _title(concern: Concern) -> str:
    title = f"{redact(concern.ai_tool)} at {redact(concern.where_seen)}"
    return title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1] + "…"


def _text(concern: Concern) -> str:
    happened = "Harm has happened" if concern.harm == Harm.INCIDENT else "Harm could happen"
    return (
        f"{redact(concern.what_happened)}\n\n"
        f"**Where it was seen:** {redact(concern.where_seen)}\n\n"
        f"**Who could be affected:** {redact(concern.who_affected)}\n\n"
        f"**{happened}**; the reporter's worry: {concern.worry}."
    )


def _author(concern: Concern) -> str:
    role = redact(concern.reporter_role)
    return f"A {role} (anonymous reporter)" if role else "An anonymous reporter"


def _named(party: str) -> list[str]:
    return [redact(party)] if party else []


def _tags(concern: Concern) -> list[str]:
    causal = {"entity": concern.risk_entity, "intent": concern.risk_intent, "timing": concern.risk_timing}
    return [
        f"harm:{concern.harm}",
        f"worry:{concern.worry}",
        *(f"mit-{axis}:{value}" for axis, value in causal.items() if value),
        *(f"mit-domain:{domain}" for domain in concern.risk_domains),
        *(f"oecd-harm:{harm}" for harm in concern.harm_types),
    ]


def _notes(concern: Concern, commons: str) -> str:
    seen = concern.corroboration_count
    return (
        f"Raised on {commons} as concern #{concern.id} ({concern.harm}); "
        f"{seen} other {'person has' if seen == 1 else 'people have'} seen it too."
    )
