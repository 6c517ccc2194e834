"""Slugs: the short names in URLs, made from a title and kept unique within their table."""

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session


def slugify(title: str, *, fallback_prefix: str) -> str:
    """`Rainfall & Floods!` → `rainfall-floods`; a title with too few letters gets the prefix."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:48].strip("-")
    return slug if len(slug) >= 3 else f"{fallback_prefix}-{slug}".strip("-")


def free_slug(session: Session, column: Any, wanted: str) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`, … : the first that `column` does not hold yet."""
    taken = set(session.scalars(select(column).where(column.like(f"{wanted}%"))))
    if wanted not in taken:
        return wanted
    return next(f"{wanted}-{n}" for n in range(2, len(taken) + 3) if f"{wanted}-{n}" not in taken)
