"""Counting votes: the choices each method takes, voting power from tokens, and the tally of ballots.

Pure functions with no database: the commons counts its stored votes with them, and an auditor counts
the votes of the transparency log with the very same code (`aicommons governance tally --from-log`).
Every figure is an integer, so a tally is canonical JSON on the log and recounts exactly.
"""

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.governance.models import Method

YES_NO = ("for", "against", "abstain")
ABSTAIN = "abstain"
TOKEN_METHODS = frozenset({Method.TOKEN, Method.QUADRATIC})
MULTI_OPTION = frozenset({Method.APPROVAL, Method.RANKED})

Choice = str | list[int]
Ballot = tuple[Choice, int]  # a voter's last choice and their power
Group = tuple[Choice, int, int]  # a choice, the power of the ballots that made it, and how many they are


def power(method: Method, tokens: int) -> int:
    """Voting power: one per member, the tokens held, or the integer square root of the tokens held."""
    if method == Method.TOKEN:
        return max(tokens, 0)
    if method == Method.QUADRATIC:
        return math.isqrt(max(tokens, 0))
    return 1


def labels(method: Method, options: list[str]) -> list[str]:
    """What each count of a tally is for: for, against, abstain; or each option, then abstain."""
    return [*options, ABSTAIN] if method in MULTI_OPTION else list(YES_NO)


def parse_choice(method: Method, options: int, choice: Any) -> Choice:
    """The choice in its canonical form, or `invalid_choice`."""
    if method not in MULTI_OPTION:
        if choice not in YES_NO:
            raise CommonsError(ErrorCode.INVALID_CHOICE, "choose for, against or abstain")
        return str(choice)
    numbers = choice if isinstance(choice, list) else None
    if numbers is None or not all(_option(number, options) for number in numbers):
        raise CommonsError(ErrorCode.INVALID_CHOICE, f"choose option numbers from 0 to {options - 1}")
    if len(set(numbers)) != len(numbers):
        raise CommonsError(ErrorCode.INVALID_CHOICE, "name each option at most once")
    return sorted(numbers) if method == Method.APPROVAL else list(numbers)


def _option(number: Any, options: int) -> bool:
    return isinstance(number, int) and not isinstance(number, bool) and 0 <= number < options


@dataclass(frozen=True)
class Tally:
    """The count of a proposal's ballots. `counts` follows `labels` (abstain last); a ranked vote also
    keeps each round of its instant runoff. `winner` is the index of the winning label, if any."""

    method: Method
    voters: int
    participation: int  # the power of every ballot, abstentions included: what quorum is measured on
    quorum: int
    counts: list[int]
    rounds: list[list[int]] = field(default_factory=list)
    winner: int | None = None

    @property
    def quorum_reached(self) -> bool:
        return self.participation >= self.quorum

    @property
    def passed(self) -> bool:
        return self.quorum_reached and self.winner is not None

    def document(self) -> dict[str, Any]:
        """The tally as published on the log and the API."""
        return {
            "method": str(self.method),
            "voters": self.voters,
            "participation": self.participation,
            "quorum": self.quorum,
            "quorum_reached": self.quorum_reached,
            "counts": self.counts,
            "rounds": self.rounds,
            "winner": self.winner,
            "passed": self.passed,
        }


def count(method: Method, options: int, ballots: Iterable[Ballot], quorum: int) -> Tally:
    """Tally `ballots` (one per voter): for beats against; the most approved option wins (a tie: none);
    a ranked vote runs off until an option has a majority of the ballots still counting."""
    return count_groups(method, options, ((choice, weight, 1) for choice, weight in ballots), quorum)


def count_groups(method: Method, options: int, groups: Iterable[Group], quorum: int) -> Tally:
    """The same tally from ballots grouped by choice (the database sums them): (choice, power, voters)."""
    grouped: Counter[str | tuple[int, ...]] = Counter()
    voters = 0
    for choice, weight, ballots in groups:
        grouped[choice if isinstance(choice, str) else tuple(choice)] += weight
        voters += ballots
    participation = sum(grouped.values())
    if method not in MULTI_OPTION:
        counts = [grouped.get(label, 0) for label in YES_NO]
        winner = 0 if counts[0] > counts[1] else None
        return Tally(method, voters, participation, quorum, counts, winner=winner)
    ranked = {key: weight for key, weight in grouped.items() if isinstance(key, tuple) and key}
    abstain = participation - sum(ranked.values())
    if method == Method.APPROVAL:
        approvals = _approvals(ranked, options)
        return Tally(
            method, voters, participation, quorum, [*approvals, abstain], winner=_sole_top(approvals)
        )
    rounds, winner = instant_runoff(ranked, options)
    return Tally(method, voters, participation, quorum, [*rounds[-1], abstain], rounds, winner)


def _approvals(ballots: dict[tuple[int, ...], int], options: int) -> list[int]:
    approvals = [0] * options
    for approved, weight in ballots.items():
        for option in approved:
            approvals[option] += weight
    return approvals


def _sole_top(counts: list[int]) -> int | None:
    top = max(counts, default=0)
    return counts.index(top) if top > 0 and counts.count(top) == 1 else None


def instant_runoff(ballots: dict[tuple[int, ...], int], options: int) -> tuple[list[list[int]], int | None]:
    """Each round counts every ballot for its highest-ranked option still running; an option with more
    than half of those wins, else the weakest is eliminated (of equals, the one listed last). A tie of
    every option left, or no ballot left, has no winner."""
    running, rounds = set(range(options)), []
    while True:
        counts = [0] * options
        for ranking, weight in ballots.items():
            top = next((option for option in ranking if option in running), None)
            if top is not None:
                counts[top] += weight
        rounds.append(counts)
        total = sum(counts)
        leader = max(running, key=lambda option: (counts[option], -option))
        if total and 2 * counts[leader] > total:
            return rounds, leader
        if not total or len({counts[option] for option in running}) == 1:
            return rounds, None
        running.remove(min(running, key=lambda option: (counts[option], -option)))
