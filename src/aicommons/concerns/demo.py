"""The demo commons' concerns: one in every status, raised by nurses, teachers, drivers and others, with
corroborations, triage tags, escalations (to the AI Policy Forum and to the AI Incident Database), an
organisation's response, a merged duplicate and one hidden by flags, waiting in the moderation queue.

Everything goes through the services, as the demo's moderator (olu) would do it.
No tracking token is printed: a token anyone can read in the source would open its tracking page to all."""

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from aicommons.concerns import service
from aicommons.concerns.models import Concern, FlagReason, Status
from aicommons.concerns.people import Person
from aicommons.concerns.schemas import (
    ConcernCreate,
    Escalation,
    ResponderCreate,
    ResponseCreate,
    StatusChangeCreate,
    TriageTags,
)
from aicommons.members.models import Member

MODERATOR = "olu"
FORUM = "ai-policy-forum"


@dataclass(frozen=True)
class DemoConcern:
    """A concern of the demo and what happens to it, in order."""

    form: dict[str, Any]
    reporter: str | None = None  # a member's handle; None: raised without an account
    moves: tuple[tuple[str, str], ...] = ()  # (status, reason), by the moderator
    tags: dict[str, Any] = field(default_factory=dict)
    escalation: dict[str, Any] = field(default_factory=dict)
    seen_by: tuple[tuple[str, str], ...] = ()  # (member handle or "anonymous-N", sector)
    responder: tuple[str, str] = ("", "")  # (handle, organisation), named for the concern's AI tool
    response: str = ""


ROUTEWISE = {
    "ai_tool": "RouteWise fleet routing",
    "where_seen": "Long-haul freight routes through the Alps, on the cab tablet",
    "who_affected": "Truck drivers and everyone on the road with them",
    "harm": "incident",
}
CONCERNS = (
    DemoConcern(  # 0: received
        {
            "ai_tool": "ShiftPlanner",
            "where_seen": "A parcel warehouse near Łódź",
            "what_happened": "The scheduling app keeps giving the same older workers the night shifts and "
            "cuts our breaks to fit delivery targets. Nobody can tell us how it decides.",
            "who_affected": "Warehouse workers, especially older and part-time staff",
            "harm": "hazard",
            "worry": "medium",
            "reporter_role": "warehouse worker",
        },
        reporter="marta",
    ),
    DemoConcern(  # 1: triaged
        {
            "ai_tool": "HomeworkHelper chatbot",
            "where_seen": "The learning platform of a secondary school in Bogotá",
            "what_happened": "Pupils hand in essays with **quotes and sources the chatbot invented**. Some "
            "believe the made-up history because the bot sounds so sure.",
            "who_affected": "Pupils aged 12 to 16 and their teachers",
            "harm": "hazard",
            "worry": "medium",
            "reporter_role": "teacher",
        },
        reporter="lucia",
        moves=(("triaged", "A real pattern that other schools report too; we tagged it for the forum."),),
        tags={
            "risk_entity": "ai",
            "risk_intent": "unintentional",
            "risk_timing": "post-deployment",
            "risk_domains": ["misinformation"],
            "harm_types": ["psychological", "public-interest"],
            "deployer": "District education office",
        },
        seen_by=(("priya", "education"), ("fatima", "media")),
    ),
    DemoConcern(  # 2: under discussion, with the organisation's response
        ROUTEWISE
        | {
            "what_happened": "The routing app sent me under a 3.5 m bridge with a 4 m trailer and keeps "
            "planning routes that only work if I skip my rest breaks. Dispatch says the app knows best.",
            "worry": "high",
            "reporter_role": "truck driver",
        },
        reporter="tom",
        moves=(
            ("triaged", "Physical danger on public roads: corroborated by other drivers."),
            ("under-discussion", "RouteWise Logistics and the drivers' union are discussing fixes here."),
        ),
        tags={
            "risk_entity": "ai",
            "risk_intent": "unintentional",
            "risk_timing": "post-deployment",
            "risk_domains": ["system-safety-failures-limitations", "socioeconomic-environmental"],
            "harm_types": ["physical", "economic-property"],
            "deployer": "RouteWise Logistics",
            "developer": "RouteWise Logistics",
        },
        seen_by=(("sam", "transport"), ("anonymous-1", "transport"), ("anonymous-2", "labour")),
        responder=("jonas", "RouteWise Logistics"),
        response="Thank you for raising this. Since version 4.2 the planner reads each trailer's height "
        "and treats legal rest times as hard limits; routes that break them are no longer offered. We are "
        "checking the Alpine bridge data with the drivers' union.",
    ),
    DemoConcern(  # 3: escalated to the AI Policy Forum
        {
            "ai_tool": "CareScore triage assistant",
            "where_seen": "The emergency department of a public hospital",
            "what_happened": "At night the triage assistant ranks patients who answer in English as more "
            "urgent than patients who need an interpreter, with the same symptoms. Nurses overrule it "
            "when they notice, but on busy nights we do not always notice.",
            "who_affected": "Patients who do not speak English, and the nurses who carry the blame",
            "harm": "incident",
            "worry": "severe",
            "reporter_role": "nurse",
        },
        moves=(("triaged", "Discrimination in emergency care: urgent, with several corroborations."),),
        tags={
            "risk_entity": "ai",
            "risk_intent": "unintentional",
            "risk_timing": "post-deployment",
            "risk_domains": ["discrimination-toxicity"],
            "harm_types": ["physical", "human-rights"],
            "deployer": "Public hospital trust",
            "developer": "CareScore Health",
        },
        escalation={
            "community": FORUM,
            "reason": "The AI Policy Forum drafts procurement guidance for hospitals and takes this up.",
            "note": "Three nurses confirm the pattern. Ask the trust for CareScore's language audit before "
            "the forum's next session.",
        },
        seen_by=(("grace", "health"), ("ines", "health"), ("amina", "health"), ("anonymous-3", "health")),
    ),
    DemoConcern(  # 4: escalated to the AI Incident Database
        {
            "ai_tool": "FaceCheck ID gates",
            "where_seen": "Automated passport gates at a regional airport",
            "what_happened": "The gates refused darker-skinned travellers again and again and sent them to a "
            "manual check where officers treated them as suspects. It happened to me and to four others "
            "in the same queue.",
            "who_affected": "Travellers with darker skin",
            "harm": "incident",
            "worry": "high",
            "reporter_role": "community radio host",
        },
        reporter="fatima",
        moves=(("triaged", "A documented pattern of discriminatory face matching."),),
        tags={
            "risk_entity": "ai",
            "risk_intent": "unintentional",
            "risk_timing": "post-deployment",
            "risk_domains": ["discrimination-toxicity", "privacy-security"],
            "harm_types": ["human-rights", "psychological"],
            "deployer": "Regional airport authority",
            "developer": "FaceCheck Systems",
        },
        escalation={
            "aiid": True,
            "reason": "Exported to the AI Incident Database so others can learn from it.",
        },
        seen_by=(("hugo", "media"), ("nadia", "justice")),
    ),
    DemoConcern(  # 5: resolved, with the deploying office's response
        {
            "ai_tool": "BenefitBot",
            "where_seen": "The city council's benefits website",
            "what_happened": "The chatbot told several families they were not eligible for housing support "
            "when they were. One family gave up and was evicted before a caseworker saw their file.",
            "who_affected": "Families applying for housing support",
            "harm": "incident",
            "worry": "high",
            "reporter_role": "social worker",
        },
        moves=(
            ("triaged", "Wrong eligibility answers with real consequences."),
            ("under-discussion", "The council's digital office is looking into it."),
            (
                "resolved",
                "The council fixed the income rule, re-checked every refusal since March and now "
                "sends borderline cases to a caseworker.",
            ),
        ),
        tags={
            "risk_entity": "ai",
            "risk_domains": ["system-safety-failures-limitations"],
            "deployer": "City council",
        },
        seen_by=(("anonymous-4", "public-sector"),),
        responder=("elena", "City Council Digital Services"),
        response="We found the error: the bot read monthly incomes as weekly ones. It is fixed, and we have "
        "contacted all 212 families who were refused since March.",
    ),
    DemoConcern(  # 6: closed with a reason
        {
            "ai_tool": "CropDoctor app",
            "where_seen": "Smallholder farms in the Ashanti region",
            "what_happened": "The app said my cassava had mosaic disease and told me to burn the field. An "
            "extension officer later said the leaves were only short of water.",
            "who_affected": "Smallholder farmers who trust the app's advice",
            "harm": "hazard",
            "worry": "medium",
            "reporter_role": "farmer",
        },
        moves=(
            ("triaged", "Advice that could destroy a harvest."),
            (
                "closed",
                "The vendor withdrew the disease-advice feature in October; the app now refers "
                "farmers to extension officers.",
            ),
        ),
    ),
    DemoConcern(  # 7: a duplicate of #2, merged into it
        ROUTEWISE
        | {
            "what_happened": "RouteWise keeps routing me over a mountain pass that is closed to trucks at "
            "night and counts the detour against my rest time.",
            "worry": "high",
            "reporter_role": "truck driver",
        },
        seen_by=(("marta", "labour"), ("anonymous-1", "transport")),
    ),
    DemoConcern(  # 8: hidden by three flags, waiting in the moderation queue
        {
            "ai_tool": "NeighbourWatch camera app",
            "where_seen": "A residential street",
            "what_happened": "My neighbour at number 14, Mr Kowalski (his phone is 0612345678), uses an AI "
            "camera app that tags everyone who walks past as a suspect.",
            "who_affected": "Everyone on our street",
            "harm": "hazard",
            "worry": "low",
        },
    ),
)
MERGED_INTO = {7: 2}
# Flags that hide count only from established members (decision 0046): the demo's people have been members
# for a while.
FLAGGED = {
    8: (
        ("hugo", FlagReason.PERSONAL_DATA),
        ("fatima", FlagReason.PERSONAL_DATA),
        ("sam", FlagReason.OFF_TOPIC),
    )
}


def seed(session: Session, people: dict[str, Member]) -> None:
    """Add the demo's concerns to a commons whose demo members and communities exist."""
    moderator = people[MODERATOR]
    made = [_raise(session, people, number, spec) for number, spec in enumerate(CONCERNS)]
    for spec, concern in zip(CONCERNS, made, strict=True):
        _follow(session, people, moderator, spec, concern)
    for duplicate, kept in MERGED_INTO.items():
        service.merge(session=session, actor=moderator, concern=made[duplicate], into=made[kept].id)
    for number, flags in FLAGGED.items():
        for handle, reason in flags:
            flagger = Person(member=people[handle], address=_address(handle))
            service.flag(session=session, concern=made[number], person=flagger, reason=reason)


def _raise(session: Session, people: dict[str, Member], number: int, spec: DemoConcern) -> Concern:
    member = people[spec.reporter] if spec.reporter else None
    person = Person(member=member, address=_address(f"reporter-{number}"))
    return service.receive(session=session, form=ConcernCreate(**spec.form), person=person).concern


def _follow(
    session: Session, people: dict[str, Member], moderator: Member, spec: DemoConcern, concern: Concern
) -> None:
    """Corroborations, triage, the moderator's steps, an escalation and the organisation's response."""
    for who, sector in spec.seen_by:
        person = Person(member=people[who], address=_address(who)) if who in people else _stranger(who)
        service.corroborate(session=session, concern=concern, person=person, sector=sector)
    if spec.tags:
        service.triage(session=session, actor=moderator, concern=concern, tags=TriageTags(**spec.tags))
    _move(session, moderator, concern, spec.moves)
    if spec.escalation:
        service.escalate(
            session=session, actor=moderator, concern=concern, form=Escalation(**spec.escalation)
        )
    if spec.response:
        _respond(session, people, moderator, spec, concern)


def _move(session: Session, actor: Member, concern: Concern, moves: tuple[tuple[str, str], ...]) -> None:
    for status, reason in moves:
        change = StatusChangeCreate(status=Status(status), reason=reason)
        service.move(session=session, actor=actor, concern=concern, change=change)


def _respond(
    session: Session, people: dict[str, Member], moderator: Member, spec: DemoConcern, concern: Concern
) -> None:
    handle, organisation = spec.responder
    named = ResponderCreate(handle=handle, organisation=organisation, ai_tool=concern.ai_tool)
    service.name_responder(session=session, actor=moderator, form=named)
    service.respond(
        session=session, actor=people[handle], concern=concern, form=ResponseCreate(body=spec.response)
    )


def _address(name: str) -> str:
    """A stand-in for the keyed hash of a client address: the demo's people have no real ones."""
    return hashlib.sha256(f"aicommons demo {name}".encode()).hexdigest()


def _stranger(name: str) -> Person:
    return Person(member=None, address=_address(name))
