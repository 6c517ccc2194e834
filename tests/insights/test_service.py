"""The insights services on a session: the feed's SQL agrees with the per-insight rule, the search index
follows every change (made by create_all and by the migration alike), digests are claimed once, and a reuse
keeps the sectors of its time."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.communities.models import Community
from aicommons.communities.schemas import CommunityCreate, CommunityUpdate
from aicommons.core import migrate
from aicommons.core.db import fresh_schema_url, make_engine, make_session_factory, utcnow
from aicommons.core.pagination import PageRequest
from aicommons.insights import fulltext, permissions, service, subscriptions
from aicommons.insights.models import Insight, Subscription
from aicommons.insights.schemas import InsightCreate, InsightFilter, ReuseCreate, SubscriptionCreate
from aicommons.members import service as members
from aicommons.members.models import GlobalRole, Member
from aicommons.members.schemas import SignUp
from tests.communities.conftest import community_form
from tests.insights.conftest import insight_form

EVERYTHING = PageRequest(size=100)


def _member(session: Session, handle: str, shared_hash: str, role=GlobalRole.MEMBER) -> Member:
    form = SignUp(
        handle=handle, email=f"{handle}@example.org", password="x" * 10, display_name=handle.title()
    )
    return members.sign_up(session=session, form=form, role=role, password_hash=shared_hash)


def _community(session: Session, steward: Member, slug: str, **changes) -> Community:
    form = CommunityCreate.model_validate(community_form(slug, **changes))
    return communities.create(session=session, creator=steward, form=form)


def _publish(session: Session, author: Member, **changes) -> Insight:
    return service.publish(
        session=session, author=author, form=InsightCreate.model_validate(insight_form(**changes))
    )


def _search(session: Session, words: str, viewer: Member | None = None) -> list[str]:
    found = service.feed(session=session, viewer=viewer, filters=InsightFilter(q=words), page=EVERYTHING)
    return [insight.title for insight in found.items]


@pytest.fixture
def people(session: Session, shared_hash: str) -> dict[str, Member]:
    found = {handle: _member(session, handle, shared_hash) for handle in ("ana", "ben", "cyd")}
    found["root"] = _member(session, "root", shared_hash, GlobalRole.ADMIN)
    _community(session, found["ana"], "nurses")
    _community(session, found["ana"], "council", visibility="private", join_policy="invite")
    _community(session, found["ben"], "farmers", sectors=["agriculture"])
    nurses = communities.get(session=session, slug="nurses", viewer=None)
    communities.join(session=session, community=nurses, member=found["cyd"])
    return found


def test_the_feeds_condition_agrees_with_the_rule_for_every_reader_and_insight(session, people):
    for community, audience in itertools.product(("nurses", "council"), ("network", "community")):
        _publish(
            session, people["ana"], community=community, audience=audience, title=f"{community} {audience}"
        )
    _publish(session, people["ben"], community="farmers", audience="community", title="farmers community")
    every = session.query(Insight).all()
    for viewer in (None, *people.values()):
        listed = service.feed(session=session, viewer=viewer, filters=InsightFilter(), page=EVERYTHING).items
        allowed = {
            insight.id
            for insight in every
            if permissions.may_read(
                insight, viewer, communities.membership_of(session, insight.community, viewer)
            )
        }
        assert {insight.id for insight in listed} == allowed, viewer and viewer.handle


def test_the_search_index_follows_edits_and_deletions(session, people):
    insight = _publish(session, people["ana"], title="Solar fridges for vaccines", body="Cold chain notes.")
    assert _search(session, "fridges") == ["Solar fridges for vaccines"]
    insight.title = "Kerosene fridges"
    insight.body = "Cold chain notes, revised."
    session.flush()
    assert _search(session, "solar") == []
    assert _search(session, "kerosene revised") == ["Kerosene fridges"]
    session.execute(delete(Insight).where(Insight.id == insight.id))
    assert _search(session, "kerosene") == []


def _migrated_url(kind: str, tmp_path, request) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    postgres = request.getfixturevalue("postgres_url")
    return fresh_schema_url(postgres.split("?")[0], "insights_migrated")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_builds_the_same_search_index(kind, tmp_path, request, shared_hash):
    url = _migrated_url(kind, tmp_path, request)
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            author = _member(session, "ana", shared_hash)
            _community(session, author, "nurses")
            _publish(session, author, title="Vaccine cold chain", body="Solar fridges kept vaccines cold.")
            _publish(session, author, title="Rota planning", body="Mentions a vaccine once.")
            assert _search(session, "vaccines") == ["Vaccine cold chain", "Rota planning"]
            assert _search(session, "fridge") == ["Vaccine cold chain"]
    finally:
        engine.dispose()


def test_a_digest_is_sent_by_whoever_claims_it_first(session, people):
    form = SubscriptionCreate(facet="sector", value="health")
    subscriptions.subscribe(session=session, member=people["ben"], form=form)
    _publish(session, people["ana"])
    later = utcnow() + timedelta(days=1, minutes=1)
    assert subscriptions.due(session, now=later) == [people["ben"].id]
    assert subscriptions.send_digest(session, member_id=people["ben"].id, now=later) is True
    assert subscriptions.send_digest(session, member_id=people["ben"].id, now=later) is False
    assert subscriptions.due(session, now=later) == []
    session.expire_all()
    assert session.query(Subscription).one().last_digest_at == later


def test_a_reuse_keeps_the_sectors_of_its_time(session, people):
    insight = _publish(session, people["ana"])
    farmers = communities.get(session=session, slug="farmers", viewer=None)
    reuse = service.record_reuse(
        session=session, actor=people["ben"], insight=insight, form=ReuseCreate(community="farmers")
    )
    changes = CommunityUpdate(sectors=["water", "climate"])
    communities.update_community(session=session, actor=people["ben"], community=farmers, changes=changes)
    session.expire_all()
    assert (reuse.sectors, reuse.origin_sectors) == (["agriculture"], ["health"])
    assert service.reach(session=session, community=insight.community).reused_by_sectors == ["agriculture"]
    assert service.travelled_sectors(session=session, insight=insight) == ["agriculture", "health"]


def _feed(session: Session, viewer: Member | None = None, page: int = 1, **filters):
    return service.feed(
        session=session, viewer=viewer, filters=InsightFilter(**filters), page=PageRequest(page=page, size=2)
    )


def test_a_feed_counts_up_to_its_limit_and_says_there_are_more(session, people, monkeypatch):
    monkeypatch.setattr(service, "COUNTED", 3)
    for n in range(5):
        _publish(session, people["ana"], title=f"Lesson {n}")
    first = _feed(session)
    assert (first.total, first.more, first.pages, first.ranked) == (3, True, 2, False)
    assert [insight.title for insight in first.items] == ["Lesson 4", "Lesson 3"]
    assert _feed(session, page=2).pages == 3  # a page past the counted ones still leads on
    assert [insight.title for insight in _feed(session, page=3).items] == ["Lesson 0"]


def test_words_too_common_to_rank_come_newest_first_uncounted(session, people, monkeypatch):
    monkeypatch.setattr(fulltext, "RANKED", 2)
    _publish(session, people["ana"], title="Vaccine vaccine vaccine", body="Cold chain for vaccines.")
    for n in range(3):
        _publish(session, people["ana"], title=f"Note {n}", body="Mentions a vaccine.")
    broad = _feed(session, q="vaccine")
    assert [insight.title for insight in broad.items] == ["Note 2", "Note 1"]
    assert (broad.total, broad.more, broad.pages, broad.ranked) == (2, True, 2, False)
    last = _feed(session, page=2, q="vaccine")
    assert ([i.title for i in last.items], last.total, last.more) == (
        ["Note 0", "Vaccine vaccine vaccine"],
        4,
        False,
    )
    ranked = _feed(session, q="vaccine cold")
    assert ([i.title for i in ranked.items], ranked.ranked) == (["Vaccine vaccine vaccine"], True)
