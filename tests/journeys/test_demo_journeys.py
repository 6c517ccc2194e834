"""The demo commons' journeys: visits of many members spread over a year, on top of the whole demo, so
every funnel starts wide and has a history. Seeding takes seconds, so one test checks several things."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from aicommons.communities import permissions
from aicommons.communities.models import Community, Membership
from aicommons.core.blobs import BlobStore
from aicommons.core.db import unit_of_work, utcnow
from aicommons.demo import COMMUNITIES, MEMBERS, seed
from aicommons.journeys import demo as journeys_demo
from aicommons.journeys.models import CommunityVisit
from aicommons.members.models import Member


@pytest.fixture
def demo(factory, settings) -> None:
    with unit_of_work(factory) as session:
        seed(session, store=BlobStore(settings.blob_dir))
        if session.scalar(select(CommunityVisit.member_id).limit(1)) is None:  # unless the demo did it
            people = {member.handle: member for member in session.scalars(select(Member))}
            journeys_demo.seed(session, people)


def test_the_demo_funnels_start_wide_have_a_history_and_respect_privacy(client, demo, factory):
    public = [spec["slug"] for spec in COMMUNITIES if spec.get("visibility", "public") == "public"]
    for slug in public:
        funnel = {
            row["stage"]: row for row in client.get(f"/api/v1/communities/{slug}/journeys").json()["funnel"]
        }
        assert funnel["discovered"]["reached"] >= 8, slug
        assert (
            funnel["discovered"]["members"] > 0 and funnel["joined"]["reached"] > funnel["leading"]["reached"]
        )
        assert funnel["leading"]["members"] >= 1
    months = client.get("/api/v1/communities/nurses-on-ai/journeys").json()["months"]
    discovered = [month["reached"]["discovered"] for month in months]
    assert discovered == sorted(discovered) and 0 < discovered[5] < discovered[-1], "visits over the year"
    with factory() as db:
        visits = db.scalars(select(CommunityVisit)).all()
        assert len(visits) > len(MEMBERS) * 4
        assert min(visit.first_at for visit in visits) < utcnow() - timedelta(days=200)
        assert all(visit.first_at <= visit.last_at <= utcnow() for visit in visits)
        for visit in visits:
            community, member = db.get(Community, visit.community_id), db.get(Member, visit.member_id)
            held = db.scalars(
                select(Membership).where(
                    Membership.community_id == community.id, Membership.member_id == member.id
                )
            ).first()
            assert permissions.may_see(community, member, held), "only where the member may look"
