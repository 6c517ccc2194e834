"""The shapes of the inline SVG charts pages draw: laid out in Python, so that templates only draw them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True)
class Chart:
    """An inline SVG bar chart, laid out here so that the template only draws it."""

    kind: str
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
