"""Concerns fixtures: a form that passes, people in every part a member can play, and a concern that went to
a policy community, with its responder named."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aicommons.communities import service as communities
from aicommons.communities.schemas import CommunityCreate
from aicommons.concerns import service
from aicommons.concerns.models import Concern
from aicommons.concerns.people import Person
from aicommons.concerns.schemas import ConcernCreate, Escalation, ResponderCreate, StatusChangeCreate
from aicommons.core.db import utcnow
from aicommons.core.security import hash_password
from aicommons.ledger.models import LogRecord
from aicommons.members import service as members
from aicommons.members.models import GlobalRole, Member
from aicommons.members.schemas import SignUp
from tests.conftest import PASSWORD

Headers = dict[str, str]
_HASH = hash_password(PASSWORD)  # one argon2 hash for every member these tests make


def concern_form(**changes: Any) -> dict[str, Any]:
    return {
        "ai_tool": "TriageBot",
        "where_seen": "The emergency department of a hospital in Lyon",
        "what_happened": "It told a patient with chest pain to wait four hours.",
        "who_affected": "Patients who arrive at night",
        "harm": "incident",
        "worry": "high",
        "reporter_role": "nurse",
    } | changes


def add_member(session: Session, handle: str, role: GlobalRole = GlobalRole.MEMBER) -> Member:
    form = SignUp(
        handle=handle, email=f"{handle}@example.org", password=PASSWORD, display_name=handle.title()
    )
    return members.sign_up(session=session, form=form, role=role, password_hash=_HASH)


def established(session: Session, handle: str, role: GlobalRole = GlobalRole.MEMBER) -> Member:
    """A member whose account is a month old: their flags count toward hiding a concern."""
    member = add_member(session, handle, role)
    member.created_at = utcnow() - timedelta(days=30)
    session.flush()
    return member


def policy_community(session: Session, steward: Member, slug: str, **changes: Any) -> Any:
    fields = {
        "name": f"Policy {slug}",
        "slug": slug,
        "format": "policy",
        "sectors": ["public-sector"],
        "sdgs": [16],
        "region": "global",
    }
    return communities.create(session=session, creator=steward, form=CommunityCreate(**fields | changes))


def anonymous(address: str = "203.0.113.9") -> Person:
    return Person(member=None, address=address)


def raise_one(session: Session, person: Person | None = None, **changes: Any) -> service.Received:
    form = ConcernCreate(**concern_form(**changes))
    return service.receive(session=session, form=form, person=person or anonymous())


def events(factory: sessionmaker[Session], prefix: str = "concerns:") -> list[dict[str, Any]]:
    """The log records of the concerns domain, oldest first, as their bodies say."""
    with factory() as db:
        rows = db.scalars(select(LogRecord).where(LogRecord.event.startswith(prefix)).order_by(LogRecord.id))
        return [json.loads(row.body) | {"community_id": row.community_id} for row in rows]


@dataclass(frozen=True)
class Scene:
    """A concern raised by rita (signed in), triaged and escalated to stella's policy forum, rory named to
    respond for the organisation; oscar stewards another policy forum, mel is a plain member. Everyone has
    been a member for a month."""

    concern_id: int
    token: str
    people: dict[str, Member]
    other_id: int  # a triaged concern about another tool, raised anonymously


ROLES = {
    "mona": GlobalRole.MODERATOR,
    "ada": GlobalRole.ADMIN,
    "rita": GlobalRole.MEMBER,
    "rory": GlobalRole.MEMBER,
    "stella": GlobalRole.MEMBER,
    "oscar": GlobalRole.MEMBER,
    "mel": GlobalRole.MEMBER,
}


@pytest.fixture
def scene(factory: sessionmaker[Session]) -> Scene:
    with factory.begin() as db:
        people = {handle: established(db, handle, role) for handle, role in ROLES.items()}
        policy_community(db, people["stella"], "policy-forum")
        policy_community(db, people["oscar"], "other-forum")
        received = raise_one(db, Person(member=people["rita"], address="198.51.100.7"))
        concern, mona = received.concern, people["mona"]
        triaged = StatusChangeCreate(status="triaged", reason="A real risk to patients.")
        service.move(session=db, actor=mona, concern=concern, change=triaged)
        escalation = Escalation(community="policy-forum", reason="The forum drafts hospital guidance.")
        service.escalate(session=db, actor=mona, concern=concern, form=escalation)
        named = ResponderCreate(handle="rory", organisation="TriageBot Health Ltd", concern=concern.id)
        service.name_responder(session=db, actor=mona, form=named)
        other = raise_one(db, ai_tool="GradeBot", who_affected="Pupils").concern
        service.move(session=db, actor=mona, concern=other, change=triaged)
        return Scene(concern.id, received.token, people, other.id)


@pytest.fixture
def headers_of(scene: Scene, token_for: Callable[[Member], Headers]) -> Callable[[str], Headers]:
    """Authorization headers of a person of the scene (none for "anonymous")."""
    return lambda handle: {} if handle == "anonymous" else token_for(scene.people[handle])


@pytest.fixture
def raised(client: TestClient) -> Callable[..., dict[str, Any]]:
    """Raise a concern through the API (anonymously unless headers are given) and return the answer."""

    def post(headers: Headers | None = None, **changes: Any) -> dict[str, Any]:
        answer = client.post("/api/v1/concerns", json=concern_form(**changes), headers=headers or {})
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    return post


def concern_row(factory: sessionmaker[Session], concern_id: int) -> dict[str, Any]:
    """Every column of a concern, to compare before and after a refused request."""
    with factory() as db:
        concern = db.get(Concern, concern_id)
        assert concern is not None
        return {column.key: getattr(concern, column.key) for column in Concern.__table__.columns}
