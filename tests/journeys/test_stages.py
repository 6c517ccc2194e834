"""The stage rules on their own: cumulative stages, the 90-day window, what comes next, month ends."""

from datetime import UTC, date, datetime, timedelta

import pytest

from aicommons.journeys.activity import Activity
from aicommons.journeys.models import Stage
from aicommons.journeys.service import month_ends
from aicommons.journeys.stages import Membership, footprint, next_step

T0 = datetime(2026, 3, 10, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def traced(**signs) -> dict:
    defaults = {"activity": None, "visited_at": None, "membership": None, "elsewhere_at": None}
    return defaults | signs


def stage_of(at: datetime, recent: int = 0, **signs) -> Stage | None:
    found = footprint(member_id=1, community_id=1, moments=1, **traced(**signs))
    return found.stage(at, recent)


def logged(seen=T0, joined=None, contributed=None) -> Activity:
    return Activity(1, 1, seen, joined, contributed, (0,))


def test_no_sign_is_no_stage_and_a_visit_is_discovered():
    assert stage_of(T0) is None
    assert stage_of(T0, visited_at=T0) is Stage.DISCOVERED
    assert stage_of(T0 - DAY, visited_at=T0) is None, "a stage counts from the moment it is reached"


def test_each_stage_is_the_highest_reached():
    assert stage_of(T0, activity=logged(joined=T0)) is Stage.JOINED
    assert stage_of(T0, activity=logged(joined=T0, contributed=T0)) is Stage.CONTRIBUTED
    assert stage_of(T0, recent=3, activity=logged(joined=T0, contributed=T0)) is Stage.PARTICIPATING
    assert stage_of(T0, recent=2, activity=logged(contributed=T0), elsewhere_at=T0) is Stage.NETWORKED
    assert stage_of(T0, membership=Membership(T0, T0)) is Stage.LEADING


def test_a_member_row_joins_and_a_leader_leads_from_their_promotion():
    member = Membership(joined_at=T0, leading_since=T0 + 10 * DAY)
    assert stage_of(T0 + DAY, membership=member) is Stage.JOINED
    assert stage_of(T0 + 10 * DAY, membership=member) is Stage.LEADING


def test_networked_needs_a_contribution_here_as_well_as_elsewhere():
    assert stage_of(T0, activity=logged(joined=T0), elsewhere_at=T0) is Stage.JOINED
    late = stage_of(T0, activity=logged(contributed=T0), elsewhere_at=T0 + DAY)
    assert late is Stage.CONTRIBUTED, "networked from the later of the two first contributions"


def test_the_stages_of_a_footprint_at_several_moments():
    found = footprint(
        member_id=1,
        community_id=1,
        moments=3,
        **traced(activity=Activity(1, 1, T0, T0, T0 + DAY, (0, 3, 1))),
    )
    assert found.stages([T0, T0 + DAY, T0 + 200 * DAY]) == [
        Stage.JOINED,
        Stage.PARTICIPATING,
        Stage.CONTRIBUTED,
    ]


@pytest.mark.parametrize(
    ("stage", "recent", "says"),
    [
        (None, 0, "join the community"),
        (Stage.DISCOVERED, 0, "Join the community"),
        (Stage.JOINED, 0, "publish an insight"),
        (Stage.CONTRIBUTED, 1, "2 more contributions within 90 days"),
        (Stage.CONTRIBUTED, 2, "1 more contribution within 90 days"),
        (Stage.PARTICIPATING, 3, "another community"),
        (Stage.NETWORKED, 0, "organizing"),
        (Stage.LEADING, 0, "You lead"),
    ],
)
def test_what_the_next_stage_needs(stage, recent, says):
    assert says in next_step(stage, recent)


def test_month_ends_end_each_month_at_its_last_moment_and_this_one_now():
    now = datetime(2026, 2, 14, 9, tzinfo=UTC)
    ends = month_ends(now, 3)
    assert [first for first, _ in ends] == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert ends[0][1] == datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert ends[1][1] == datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert ends[-1][1] == now
    assert [first for first, _ in month_ends(now, 1)] == [date(2026, 2, 1)]
    assert len(month_ends(now, 24)) == 24
