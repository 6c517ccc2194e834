"""Recurrence rules: bounded, checked before dateutil sees them, and expanded on the event's local clock."""

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aicommons.events.recurrence import Series, normalize

BERLIN = ZoneInfo("Europe/Berlin")
THURSDAY = datetime(2027, 1, 7, 18, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("", ""),
        ("FREQ=MONTHLY;BYDAY=1TH;COUNT=12", "FREQ=MONTHLY;BYDAY=1TH;COUNT=12"),
        ("rrule:freq=weekly;count=3", "FREQ=WEEKLY;COUNT=3"),
        ("FREQ=WEEKLY;UNTIL=20270301", "FREQ=WEEKLY;UNTIL=20270301T225959Z"),  # the day's end in Berlin
        ("FREQ=WEEKLY;UNTIL=20270301T120000Z", "FREQ=WEEKLY;UNTIL=20270301T120000Z"),
        ("FREQ=MONTHLY;BYDAY=TU,TH;BYSETPOS=2;COUNT=4", "FREQ=MONTHLY;BYDAY=TU,TH;BYSETPOS=2;COUNT=4"),
        ("FREQ=YEARLY;BYMONTH=1;BYDAY=1TH;COUNT=3", "FREQ=YEARLY;BYMONTH=1;BYDAY=1TH;COUNT=3"),
    ],
)
def test_rules_are_stored_in_one_form(typed, stored):
    assert normalize(typed, THURSDAY) == stored


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("FREQ=MONTHLY", "give the series an end"),
        ("FREQ=HOURLY;COUNT=3", "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("COUNT=3", "FREQ must be"),
        ("FREQ=DAILY;COUNT=0", "COUNT takes whole numbers from 1 to 100"),
        ("FREQ=DAILY;COUNT=101", "COUNT takes whole numbers from 1 to 100"),
        ("FREQ=DAILY;UNTIL=20280101", "a series has at most 100 dates"),
        ("FREQ=WEEKLY;UNTIL=20400101", "a series ends within five years"),
        ("FREQ=YEARLY;COUNT=7", "a series ends within five years"),
        ("FREQ=WEEKLY;UNTIL=20261231", "UNTIL is before the start"),
        ("FREQ=WEEKLY;UNTIL=20270230", "is not a real date"),
        ("FREQ=WEEKLY;UNTIL=soon", "UNTIL must be a date"),
        ("FREQ=WEEKLY;COUNT=3;COUNT=4", "given twice"),
        ("FREQ=WEEKLY;COUNT", "is not a NAME=VALUE part"),
        ("FREQ=WEEKLY;COUNT=3;BYHOUR=9", "BYHOUR=9 is not a part"),
        ("FREQ=MONTHLY;COUNT=3;BYMONTH=13", "BYMONTH takes whole numbers from 1 to 12"),
        ("FREQ=MONTHLY;COUNT=3;BYMONTHDAY=32", "BYMONTHDAY takes whole numbers from ±1 to ±31"),
        ("FREQ=DAILY;COUNT=3;BYSETPOS=1", "BYSETPOS goes with a MONTHLY or YEARLY rule"),
        ("FREQ=MONTHLY;COUNT=3;BYDAY=TH;BYSETPOS=9", "BYSETPOS takes whole numbers from ±1 to ±5"),
        ("FREQ=WEEKLY;COUNT=3;BYDAY=1TH", "BYDAY takes days such as MO,WE;"),
        ("FREQ=MONTHLY;COUNT=3;BYDAY=6TH", "up to ±5"),
        ("FREQ=MONTHLY;COUNT=3;BYDAY=+TH", "BYDAY takes days"),
        ("FREQ=YEARLY;COUNT=3;BYMONTH=1;BYDAY=20TH", "up to ±5"),
        ("FREQ=DAILY;COUNT=3;BYMONTH=2;BYMONTHDAY=30,31", "those months never have those days"),
        (
            "FREQ=MONTHLY;BYDAY=MO;COUNT=3",
            "the start must be one of the rule's dates (its first is Monday 11 January",
        ),
        ("FREQ=WEEKLY;COUNT=3;WKST=XX", "WKST=XX is not a part"),
    ],
)
def test_bad_rules_say_what_is_wrong(typed, says):
    with pytest.raises(ValueError) as refused:
        normalize(typed, THURSDAY)
    assert says in str(refused.value)


@pytest.mark.parametrize(
    "typed",
    [
        "FREQ=DAILY;COUNT=3;BYMONTH=2;BYMONTHDAY=29;BYDAY=SU",  # Feb 29th on a Sunday: once in 28 years
        "FREQ=MONTHLY;COUNT=3;BYMONTH=2;BYDAY=5MO",
        "FREQ=YEARLY;COUNT=3;BYMONTH=2;BYMONTHDAY=29",
    ],
)
def test_rare_or_impossible_rules_are_answered_at_once(typed):
    began = time.monotonic()
    with pytest.raises(ValueError, match=r"the start must be one of the rule's dates|five years"):
        normalize(typed, THURSDAY)
    assert time.monotonic() - began < 0.5


def test_a_series_keeps_its_local_hour_across_daylight_saving():
    series = Series(THURSDAY.astimezone(UTC), timedelta(hours=2), BERLIN, "FREQ=MONTHLY;BYDAY=1TH;COUNT=6")
    starts = list(series.starts())
    assert [start.astimezone(BERLIN).hour for start in starts] == [18] * 6
    assert [start.hour for start in starts] == [17, 17, 17, 16, 16, 16]  # UTC moves, Berlin does not
    assert series.last_end() == datetime(2027, 6, 3, 18, 0, tzinfo=UTC)


def test_the_next_dates_are_those_not_yet_ended():
    series = Series(THURSDAY.astimezone(UTC), timedelta(hours=2), BERLIN, "FREQ=WEEKLY;COUNT=4")
    during_the_second = datetime(2027, 1, 14, 18, 30, tzinfo=BERLIN)
    assert [s.astimezone(BERLIN).day for s in series.starts_after(during_the_second, 5)] == [14, 21, 28]
    assert series.starts_after(datetime(2027, 2, 1, tzinfo=UTC), 5) == []


def test_a_one_off_is_a_series_of_one():
    once = Series(THURSDAY.astimezone(UTC), timedelta(hours=2), BERLIN)
    assert list(once.starts()) == [THURSDAY] and once.last_end() == THURSDAY + timedelta(hours=2)
