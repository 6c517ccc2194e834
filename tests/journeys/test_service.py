"""Stages and dashboards derived from the real log, visits and memberships, on SQLite and PostgreSQL."""

from datetime import timedelta

from sqlalchemy import func, select

from aicommons.communities import service as communities
from aicommons.communities.models import Community
from aicommons.core.db import unit_of_work, utcnow
from aicommons.core.pagination import PageRequest
from aicommons.journeys import service
from aicommons.journeys.models import CommunityVisit, Stage
from aicommons.ledger.models import LogEntry, LogRecord
from aicommons.members.models import Member
from tests.journeys.conftest import funnel_of

DAY = timedelta(days=1)


def visit(factory, person, slug, now=None) -> service.Journey:
    with unit_of_work(factory) as db:
        community = db.scalars(select(Community).where(Community.slug == slug)).one()
        member = db.get(Member, person.id)
        return service.visit(session=db, community=community, member=member, now=now or utcnow())


def journeys(factory, person, now=None) -> dict[str, Stage | None]:
    with factory() as db:
        member = db.get(Member, person.id)
        found = service.journeys_of(session=db, member=member, now=now or utcnow(), page=PageRequest())
        return {journey.community.slug: journey.stage for journey in found.items}


def test_roles_and_memberships_give_the_starting_funnel(people, dashboard):
    assert funnel_of(dashboard("rivers")) == {"leading": 2, "joined": 1}
    assert funnel_of(dashboard("lakes")) == {"leading": 1}


def test_a_visit_is_discovered_and_visiting_again_moves_only_its_last_time(people, factory, dashboard):
    then = utcnow() - 40 * DAY
    assert visit(factory, people["outsider"], "rivers", then).stage is Stage.DISCOVERED
    again = visit(factory, people["outsider"], "rivers")
    assert (again.stage, again.next_step) == (Stage.DISCOVERED, "Join the community to take part.")
    visit(factory, people["outsider"], "rivers", then + DAY)
    with factory() as db:
        rows = db.scalars(select(CommunityVisit)).all()
    assert [(row.first_at, row.last_at > then + DAY) for row in rows] == [(then, True)], "never back in time"
    assert funnel_of(dashboard("rivers"))["discovered"] == 1


def test_a_member_climbs_from_discovered_to_networked(people, factory, contribute):
    outsider = people["outsider"]
    visit(factory, outsider, "rivers")
    assert journeys(factory, outsider) == {"rivers": Stage.DISCOVERED}
    with unit_of_work(factory) as db:
        community = communities.get(session=db, slug="rivers", viewer=None)
        communities.join(session=db, community=community, member=db.get(Member, outsider.id))
    assert journeys(factory, outsider) == {"rivers": Stage.JOINED}
    contribute(outsider, "rivers", event="events:rsvp:set")
    assert journeys(factory, outsider) == {"rivers": Stage.CONTRIBUTED}
    contribute(outsider, "rivers", times=2, event="insights:reply:create")
    assert journeys(factory, outsider) == {"rivers": Stage.PARTICIPATING}
    contribute(outsider, "lakes", event="datasets:version:publish")
    assert journeys(factory, outsider) == {"rivers": Stage.NETWORKED, "lakes": Stage.NETWORKED}


def test_participating_lasts_ninety_days_after_the_third_contribution(people, factory, contribute):
    contribute(people["member"], "rivers", times=3)
    assert journeys(factory, people["member"], utcnow() + 89 * DAY)["rivers"] is Stage.PARTICIPATING
    assert journeys(factory, people["member"], utcnow() + 91 * DAY)["rivers"] is Stage.CONTRIBUTED


def test_events_that_are_not_contributions_count_as_signs_only(people, factory, contribute):
    contribute(people["outsider"], "lakes", times=5, event="insights:insight:endorse")
    assert journeys(factory, people["outsider"]) == {"lakes": Stage.DISCOVERED}


def test_waiting_records_count_and_are_counted_once_when_placed(
    people, factory, contribute, sequence, dashboard
):
    contribute(people["member"], "rivers", times=3)
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(LogRecord)) > 0
    before = funnel_of(dashboard("rivers"))
    assert before == {"leading": 2, "participating": 1}
    sequence()
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(LogRecord)) == 0
        assert db.scalar(select(func.count()).select_from(LogEntry)) > 0
    assert funnel_of(dashboard("rivers")) == before


def test_a_member_approved_by_a_steward_has_joined(people, factory, client):
    steward, outsider = people["steward"].headers, people["outsider"].headers
    client.patch("/api/v1/communities/lakes", json={"join_policy": "approval"}, headers=steward)
    client.post("/api/v1/communities/lakes/members", headers=outsider)
    assert journeys(factory, people["outsider"]) == {"lakes": Stage.DISCOVERED}, "asking is not joining"
    approved = client.post("/api/v1/communities/lakes/requests/outsider/approve", headers=steward)
    assert approved.status_code == 200
    assert journeys(factory, people["outsider"]) == {"lakes": Stage.JOINED}


def test_a_member_who_left_keeps_what_they_reached_but_not_their_lead(people, factory, client, contribute):
    contribute(people["organizer"], "rivers")
    assert (
        client.delete("/api/v1/communities/rivers/members/me", headers=people["member"].headers).status_code
        == 204
    )
    assert (
        client.delete(
            "/api/v1/communities/rivers/members/me", headers=people["organizer"].headers
        ).status_code
        == 204
    )
    assert journeys(factory, people["member"])["rivers"] is Stage.JOINED
    assert journeys(factory, people["organizer"])["rivers"] is Stage.CONTRIBUTED


def test_my_journeys_hide_a_private_community_i_may_no_longer_see(people, factory, client, contribute):
    contribute(people["member"], "cove", times=3)
    assert journeys(factory, people["member"]) == {"rivers": Stage.JOINED, "cove": Stage.PARTICIPATING}
    assert (
        client.delete("/api/v1/communities/cove/members/me", headers=people["member"].headers).status_code
        == 204
    )
    assert journeys(factory, people["member"]) == {"rivers": Stage.JOINED}


def test_my_journeys_list_the_furthest_first_one_page_at_a_time(people, factory, contribute):
    contribute(people["member"], "lakes", times=3)
    with factory() as db:
        member = db.get(Member, people["member"].id)
        first = service.journeys_of(session=db, member=member, now=utcnow(), page=PageRequest(size=2))
        second = service.journeys_of(
            session=db, member=member, now=utcnow(), page=PageRequest(page=2, size=2)
        )
    assert [(j.community.slug, j.stage) for j in first.items] == [
        ("lakes", Stage.PARTICIPATING),
        ("rivers", Stage.JOINED),
    ]
    assert [(j.community.slug, j.stage) for j in second.items] == [("cove", Stage.JOINED)], "by name"
    assert (first.total, first.pages) == (3, 2)


def test_a_community_dashboard_counts_only_its_own_activity(people, contribute, dashboard):
    contribute(people["outsider"], "lakes", times=4)
    assert funnel_of(dashboard("rivers")) == {"leading": 2, "joined": 1}
    assert funnel_of(dashboard("lakes")) == {"leading": 1, "participating": 1}


def test_the_funnel_counts_who_reached_each_stage_or_beyond(people, factory, contribute, dashboard):
    visit(factory, people["outsider"], "rivers")
    contribute(people["member"], "rivers")
    found = dashboard("rivers")
    assert [(c.stage, c.members, c.reached) for c in found.funnel] == [
        (Stage.DISCOVERED, 1, 4),
        (Stage.JOINED, 0, 3),
        (Stage.CONTRIBUTED, 1, 3),
        (Stage.PARTICIPATING, 0, 2),
        (Stage.NETWORKED, 0, 2),
        (Stage.LEADING, 2, 2),
    ]


def test_months_show_the_funnel_at_each_month_end_and_the_share_that_went_on(
    people, factory, contribute, dashboard
):
    visited = utcnow() - 70 * DAY
    visit(factory, people["outsider"], "rivers", visited)
    contribute(people["member"], "rivers", times=3)
    later = utcnow() + 100 * DAY
    found = dashboard("rivers", now=later, months=9)
    assert len(found.months) == 9 and found.months[-1].month == later.date().replace(day=1)
    by_month = {figures.month: figures for figures in found.months}
    before = by_month[(visited - 31 * DAY).date().replace(day=1)]
    assert before.reached[Stage.DISCOVERED] == 0 and before.steps[0].share is None
    this_month = by_month[utcnow().date().replace(day=1)]
    assert this_month.reached[Stage.PARTICIPATING] == 3, "the member and both leaders"
    assert this_month.reached[Stage.DISCOVERED] == 4
    steps = {(step.from_stage, step.to_stage): step.share for step in this_month.steps}
    assert steps[(Stage.DISCOVERED, Stage.JOINED)] == 0.75
    assert steps[(Stage.NETWORKED, Stage.LEADING)] == 1.0
    assert found.months[-1].reached[Stage.PARTICIPATING] == 2, "the member's 90 days are over by then"


def test_a_promotion_dates_a_leader_and_the_history_shows_it(people, factory, dashboard):
    found = dashboard("rivers", now=utcnow() + 40 * DAY, months=3)
    assert [figures.reached[Stage.LEADING] for figures in found.months][-2:] == [2, 2]
    before = dashboard("rivers", now=utcnow() - 40 * DAY, months=1)
    assert before.funnel[-1].reached == 0
