"""What each viewer reads of a concern: contact details redacted for everyone but moderators, who alone
see the reporter's e-mail address; a private policy community named only to its members."""

from collections.abc import Callable

from aicommons.concerns.models import Concern
from aicommons.concerns.permissions import Standing, may_read_brief
from aicommons.concerns.redaction import redact
from aicommons.concerns.schemas import (
    ConcernRead,
    ConcernSummary,
    EscalationRead,
    ResponseRead,
    StatusChangeRead,
    Tags,
)
from aicommons.core.markdown import plain

SUMMARY_LENGTH = 200


def summary(concern: Concern) -> ConcernSummary:
    """A concern in a list: always redacted."""
    return ConcernSummary(**_summary_fields(concern, redact))


def _summary_fields(concern: Concern, text: Callable[[str], str]) -> dict[str, object]:
    return {
        "id": concern.id,
        "ai_tool": text(concern.ai_tool),
        "where_seen": text(concern.where_seen),
        "summary": plain(text(concern.what_happened), SUMMARY_LENGTH),
        "harm": concern.harm,
        "worry": concern.worry,
        "reporter_role": text(concern.reporter_role),
        "status": concern.status,
        "corroborations": concern.corroboration_count,
        "hidden": concern.hidden,
        "created_at": concern.created_at,
    }


def read(concern: Concern, standing: Standing, sectors: dict[str, int]) -> ConcernRead:
    """The whole concern as `standing` may read it."""
    text = _unchanged if standing.moderator else redact
    return ConcernRead(
        **_summary_fields(concern, text),
        what_happened=text(concern.what_happened),
        who_affected=text(concern.who_affected),
        tags=_tags(concern),
        escalation=_escalation(concern, standing),
        merged_into=concern.merged_into_id,
        history=[
            StatusChangeRead(
                from_status=change.from_status,
                to_status=change.to_status,
                reason=text(change.reason),
                at=change.at,
            )
            for change in concern.history
        ],
        responses=[
            ResponseRead(organisation=row.organisation, body=text(row.body), created_at=row.created_at)
            for row in concern.responses
        ],
        sectors=sectors,
        updated_at=concern.updated_at,
        contact=concern.contact if standing.moderator else None,
        flags=concern.flag_count if standing.moderator else None,
    )


def _unchanged(text: str) -> str:
    return text


def _tags(concern: Concern) -> Tags:
    return Tags(
        risk_entity=concern.risk_entity,
        risk_intent=concern.risk_intent,
        risk_timing=concern.risk_timing,
        risk_domains=concern.risk_domains,
        harm_types=concern.harm_types,
        deployer=concern.deployer,
        developer=concern.developer,
    )


def _escalation(concern: Concern, standing: Standing) -> EscalationRead | None:
    if concern.escalated_at is None:
        return None
    community = standing.community
    named = community is not None and standing.sees_community
    return EscalationRead(
        community=community.slug if named and community else None,
        community_name=community.name if named and community else None,
        to_community=community is not None,
        aiid=concern.exported_at is not None,
        at=concern.escalated_at,
        note=concern.escalation_note if may_read_brief(standing) and concern.escalation_note else None,
    )
