"""The demo commons' insights, seeded after the whole demo as aicommons.demo will: every kind, conversations,
an accepted answer, reuse across sectors, private ones kept private, and the demo login's digest.

Seeding the demo takes seconds, so one test checks everything of one seed."""

from collections import Counter

import pytest
from sqlalchemy import select

from aicommons.core.blobs import BlobStore
from aicommons.core.db import unit_of_work
from aicommons.demo import DEMO_LOGIN
from aicommons.demo import seed as seed_demo
from aicommons.insights import demo
from aicommons.insights.models import Endorsement, Insight, Reply, Reuse, Subscription
from aicommons.members.models import Member
from aicommons.members.notifications import Notification


@pytest.fixture
def demo_commons(factory, settings) -> None:
    with unit_of_work(factory) as session:
        seed_demo(session, store=BlobStore(settings.blob_dir))
        if session.scalar(select(Insight.id).limit(1)) is None:  # until aicommons.demo calls it itself
            people = {member.handle: member for member in session.scalars(select(Member))}
            demo.seed(session, people)


def test_the_demo_shares_rich_insights_and_keeps_private_ones_private(client, demo_commons, factory):
    assert demo.DEMO_LOGIN == DEMO_LOGIN
    with factory() as db:
        insights = list(db.scalars(select(Insight)))
        assert len(insights) >= 20
        assert set(Counter(str(i.kind) for i in insights)) == {
            "insight",
            "question",
            "idea",
            "lesson-learned",
            "resource",
        }
        assert len({i.community_id for i in insights}) >= 10
        assert db.query(Reply).count() >= 5 and db.query(Endorsement).count() >= 20
        assert db.query(Reply).filter(Reply.accepted_at.is_not(None)).count() >= 1
        reuses = list(db.scalars(select(Reuse)))
        assert len(reuses) >= 5
        assert all(set(r.sectors) != set(r.origin_sectors) for r in reuses)
        assert len({sector for r in reuses for sector in r.sectors}) >= 5
        login = db.scalars(select(Member).where(Member.handle == DEMO_LOGIN)).one()
        assert db.query(Subscription).filter_by(member_id=login.id).count() == 3
        (digest,) = db.query(Notification).filter_by(member_id=login.id, kind="digest").all()
        assert "Translate before you triage" in digest.body

    public = client.get("/api/v1/insights", params={"size": 100}).json()
    titles = {item["title"] for item in public["items"]}
    assert "2027 priorities: water and health first" not in titles  # the private council's
    assert "Our rota experiment with a scheduling assistant" not in titles  # kept in its community
    assert public["total"] == len(insights) - 3
    reach = client.get("/api/v1/communities/ai-policy-forum/insights/reach").json()
    assert (reach["reused_by_communities"], reach["reused_insights"]) == (2, 1)
    question = client.get("/api/v1/insights", params={"kind": "question", "q": "validate triage"}).json()
    (asked,) = question["items"]
    answers = client.get(f"/api/v1/insights/{asked['id']}/replies").json()["items"]
    assert answers[0]["accepted"] is True and answers[0]["author"] == "liam"
    assert client.get("/insights/feed.atom").status_code == 200
