"""The (value, label) pairs of a form's select or checkboxes, from a vocabulary's values."""

from collections.abc import Iterable
from enum import StrEnum


def labelled(values: Iterable[StrEnum], labels: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """Each value with its label: the one given, or the value spoken ("public-sector" → "Public sector")."""
    labels = labels or {}
    return [
        (value.value, labels.get(value.value, value.value.replace("-", " ").capitalize())) for value in values
    ]
