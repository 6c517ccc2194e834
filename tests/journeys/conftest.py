"""Journeys fixtures: communities with members in every role, and activity recorded on the real log."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aicommons.app import log_identity
from aicommons.communities.models import Community
from aicommons.core.db import unit_of_work, utcnow
from aicommons.journeys import service
from aicommons.ledger import service as ledger
from aicommons.members.models import GlobalRole, Member
from tests.communities.conftest import community_form

ROLES = ("steward", "organizer", "member", "outsider", "admin")


@dataclass(frozen=True)
class Person:
    member: Member
    headers: dict[str, str]

    @property
    def id(self) -> int:
        return self.member.id


@pytest.fixture
def people(client: TestClient, make_member, token_for) -> dict[str, Person]:
    """`rivers` (public, open) with a steward, an organizer and a member; the steward's `lakes` (public)
    and `cove` (private, by invitation, the member invited and in); an outsider and an admin."""
    found = {}
    for name in ROLES:
        member = make_member(name, GlobalRole.ADMIN if name == "admin" else GlobalRole.MEMBER)
        found[name] = Person(member, token_for(member))
    steward = found["steward"].headers
    for slug, changes in (("rivers", {}), ("lakes", {"sectors": ["climate", "water"]}), ("cove", PRIVATE)):
        created = client.post("/api/v1/communities", json=community_form(slug, **changes), headers=steward)
        assert created.status_code == 201, created.text
    for name in ("organizer", "member"):
        assert (
            client.post("/api/v1/communities/rivers/members", headers=found[name].headers).status_code == 201
        )
    promoted = client.put(
        "/api/v1/communities/rivers/members/organizer/role", json={"role": "organizer"}, headers=steward
    )
    assert promoted.status_code == 200, promoted.text
    invited = client.post("/api/v1/communities/cove/invitations", json={"handle": "member"}, headers=steward)
    assert invited.status_code == 201, invited.text
    assert client.post("/api/v1/communities/cove/members", headers=found["member"].headers).status_code == 201
    return found


PRIVATE = {"visibility": "private", "join_policy": "invite", "name": "The Cove"}


@pytest.fixture
def ids(people, factory: sessionmaker[Session]) -> dict[str, int]:
    """Community ids by slug."""
    with factory() as db:
        return {slug: id_ for id_, slug in db.execute(select(Community.id, Community.slug))}


Contribute = Callable[..., None]


@pytest.fixture
def contribute(factory: sessionmaker[Session], ids) -> Contribute:
    """Record `times` entries of `event` by a person in a community, committed as a domain's would be."""

    def record(
        person: Person, slug: str, times: int = 1, event: str = "insights:insight:publish", **facts: Any
    ) -> None:
        with unit_of_work(factory) as session:
            for _ in range(times):
                ledger.record(session, event, actor_id=person.id, community_id=ids[slug], **facts)

    return record


@pytest.fixture
def sequence(factory: sessionmaker[Session], settings) -> Callable[[], int]:
    """Place every waiting record on the log, as the worker does; the log's size."""

    def run() -> int:
        log = log_identity(settings)
        while True:
            with unit_of_work(factory) as session:
                if ledger.integrate(session, log) is None:
                    return ledger.tree_size(session)

    return run


@pytest.fixture
def dashboard(factory: sessionmaker[Session]) -> Callable[..., service.Dashboard]:
    """The dashboard of a community, as the service computes it for `viewer` at `now`."""

    def compute(
        slug: str, *, viewer: Person | None = None, now: datetime | None = None, months: int = 12
    ) -> service.Dashboard:
        with factory() as db:
            community = db.scalars(select(Community).where(Community.slug == slug)).one()
            member = db.get(Member, viewer.id) if viewer else None
            return service.dashboard(
                session=db, community=community, viewer=member, now=now or utcnow(), months=months
            )

    return compute


def funnel_of(found: service.Dashboard) -> dict[str, int]:
    """Members at each stage now (stages nobody is at left out)."""
    return {str(count.stage): count.members for count in found.funnel if count.members}
