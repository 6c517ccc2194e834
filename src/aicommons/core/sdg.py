"""The UN Sustainable Development Goals and their targets, from the copy shipped in the package."""

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class Goal:
    number: int
    short: str
    title: str
    targets: tuple[tuple[str, str], ...]


@cache
def goals() -> tuple[Goal, ...]:
    """All 17 goals in order (attribution: core/reference/SDG-README.md)."""
    raw = json.loads(files("aicommons.core").joinpath("reference/sdg.json").read_text(encoding="utf-8"))
    return tuple(
        Goal(
            number=g["goal"],
            short=g["short"],
            title=g["title"],
            targets=tuple((t["id"], t["title"]) for t in g["targets"]),
        )
        for g in raw["goals"]
    )


def goal(number: int) -> Goal:
    return goals()[number - 1]


GOAL_NUMBERS = range(1, 18)
