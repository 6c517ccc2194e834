"""Recurring events: an RRULE checked with dateutil and expanded in the event's own time zone.

A monthly meetup at 18:00 in Berlin stays at 18:00 local time across daylight-saving changes, so the
rule is expanded from the local start and each date is converted to UTC afterwards. Every series is
bounded (COUNT or UNTIL, at most MAX_OCCURRENCES dates within MAX_SPAN), so expanding one is cheap.

dateutil searches for the next date until the year 9999 when a rule's filters can never match
(`BYMONTH=2;BYMONTHDAY=30`, `BYSETPOS=9` in a daily rule): that takes seconds, so the parts are
checked for range and for such dead ends before dateutil sees them."""

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

MAX_OCCURRENCES = 100
MAX_SPAN = timedelta(days=5 * 366)
UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY = re.compile(r"^([+-]?)(\d{0,2})(MO|TU|WE|TH|FR|SA|SU)$")
ORDINALS = {"DAILY": 0, "WEEKLY": 0, "MONTHLY": 5, "YEARLY": 53}  # how far BYDAY=nMO may count
NUMBERS = {"INTERVAL": (1, 999), "COUNT": (1, MAX_OCCURRENCES)}
LISTS = {"BYMONTH": (1, 12), "BYMONTHDAY": (1, 31), "BYSETPOS": (1, 5)}  # ± for the last two
MONTH_DAYS = [calendar.monthrange(2028, month)[1] for month in range(1, 13)]  # a leap year


def normalize(rule: str, start: datetime) -> str:
    """The rule as stored: upper case, without `RRULE:`, its UNTIL in UTC. `start` is the first date, in
    the event's zone; a ValueError says, in words for the person who typed the rule, what is wrong."""
    text = re.sub(r"^RRULE:", "", rule.strip().upper())
    if not text:
        return ""
    parts = _parts(text)
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise ValueError("give the series an end: COUNT=… (how many times) or UNTIL=… (a last date)")
    until = _utc_until(parts["UNTIL"], start) if "UNTIL" in parts else None
    if until is not None:
        parts["UNTIL"] = until.strftime("%Y%m%dT%H%M%SZ")
    normal = ";".join(f"{name}={value}" for name, value in parts.items())
    _check_dates(_expand(normal, start), start, int(parts.get("COUNT", 0)), until)
    return normal


def _parts(text: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for piece in text.split(";"):
        name, equals, value = piece.partition("=")
        if not equals or not value or name in parts:
            raise ValueError(f"{piece!r} is not a NAME=VALUE part, or it is given twice")
        parts[name] = value
    frequency = parts.get("FREQ", "")
    if frequency not in ORDINALS:
        raise ValueError("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
    for name, value in parts.items():
        _check_part(name, value, frequency, months="BYMONTH" in parts)
    _refuse_impossible_days(parts)
    return parts


def _check_part(name: str, value: str, frequency: str, *, months: bool) -> None:
    if name in ("FREQ", "UNTIL"):
        return
    if name in NUMBERS:
        return _in_range(name, [value], *NUMBERS[name], signed=False)
    if name in LISTS:
        if name == "BYSETPOS" and frequency not in ("MONTHLY", "YEARLY"):
            raise ValueError("BYSETPOS goes with a MONTHLY or YEARLY rule")
        return _in_range(name, value.split(","), *LISTS[name], signed=name != "BYMONTH")
    if name == "BYDAY":
        furthest = min(ORDINALS[frequency], 5) if months else ORDINALS[frequency]  # nth day of a month
        return _check_days(value.split(","), furthest)
    if name == "WKST" and value in WEEKDAYS:
        return None
    raise ValueError(f"{name}={value} is not a part of a recurrence rule this commons takes")


def _in_range(name: str, values: list[str], low: int, high: int, *, signed: bool) -> None:
    for value in values:
        number = value.removeprefix("-").removeprefix("+") if signed else value
        if not number.isdigit() or not low <= int(number) <= high:
            sign = "±" if signed else ""
            raise ValueError(f"{name} takes whole numbers from {sign}{low} to {sign}{high}")


def _check_days(days: list[str], furthest: int) -> None:
    for day in days:
        found = DAY.match(day)
        if found is None or (found[2] and not 1 <= int(found[2]) <= furthest) or (found[1] and not found[2]):
            hint = f" (with an optional count up to ±{furthest}, e.g. 1TH or -1FR)" if furthest else ""
            raise ValueError(f"BYDAY takes days such as MO,WE{hint}; {day!r} is not one")


def _refuse_impossible_days(parts: dict[str, str]) -> None:
    if "BYMONTH" not in parts or "BYMONTHDAY" not in parts:
        return
    months = [int(month) for month in parts["BYMONTH"].split(",")]
    days = [abs(int(day)) for day in parts["BYMONTHDAY"].split(",")]
    if not any(day <= MONTH_DAYS[month - 1] for month in months for day in days):
        raise ValueError("those months never have those days")


def _utc_until(value: str, start: datetime) -> datetime:
    """UNTIL as RFC 5545 wants it next to a local DTSTART: in UTC. A date alone means the end of that day."""
    found = UNTIL.match(value)
    if found is None:
        raise ValueError("UNTIL must be a date such as 20271231 or a time such as 20271231T180000Z")
    day, clock, utc = found.groups()
    try:
        moment = datetime.strptime(day + (clock or "235959"), "%Y%m%d%H%M%S")
    except ValueError as error:
        raise ValueError(f"UNTIL={value} is not a real date") from error
    until = moment.replace(tzinfo=UTC if utc else start.tzinfo).astimezone(UTC)
    if until < start:
        raise ValueError("UNTIL is before the start")
    return until


def _expand(rule: str, start: datetime) -> rrule:
    try:
        expanded = rrulestr(rule, dtstart=start)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise ValueError(f"this is not a recurrence rule dateutil can read ({error})") from error
    assert isinstance(expanded, rrule)  # one RRULE line, never a set
    return expanded


def _check_dates(expanded: rrule, start: datetime, count: int, until: datetime | None) -> None:
    """The series starts on `start`, has at most MAX_OCCURRENCES dates and ends within MAX_SPAN."""
    horizon = (start + MAX_SPAN).astimezone(UTC)
    if until is not None and until > horizon:
        raise ValueError("a series ends within five years of its start")
    within = expanded.replace(count=None, until=min(until or horizon, horizon))
    dates = list(islice(within, (count or MAX_OCCURRENCES) + 1))
    if not dates or dates[0] != start:
        first = f" (its first is {dates[0]:%A %d %B %Y})" if dates else ""
        raise ValueError(f"the start must be one of the rule's dates{first}")
    if count and len(dates) < count:
        raise ValueError("a series ends within five years of its start")
    if not count and len(dates) > MAX_OCCURRENCES:
        raise ValueError(f"a series has at most {MAX_OCCURRENCES} dates")


@dataclass(frozen=True)
class Series:
    """The dates of an event: one, or those of its rule. Starts are UTC."""

    start: datetime
    duration: timedelta
    zone: ZoneInfo
    rule: str = ""

    def starts(self) -> Iterator[datetime]:
        if not self.rule:
            yield self.start
            return
        for local in _expand(self.rule, self.start.astimezone(self.zone)):
            yield local.astimezone(UTC)

    def starts_after(self, moment: datetime, limit: int) -> list[datetime]:
        """The next `limit` starts of occurrences that have not ended by `moment`."""
        still_on = (start for start in self.starts() if start + self.duration > moment)
        return list(islice(still_on, limit))

    def last_end(self) -> datetime:
        *_, last = self.starts()  # a bounded series: at most MAX_OCCURRENCES dates
        return last + self.duration
