"""Page requests and pages of results, shared by every list in the API and the web UI."""

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_PAGE_SIZE = 100


class PageRequest(BaseModel):
    page: int = Field(default=1, ge=1, le=100_000)
    size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def page_request(
    page: Annotated[int, Query(ge=1, le=100_000, description="page number, from 1")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page")] = 20,
) -> PageRequest:
    return PageRequest(page=page, size=size)


@dataclass
class Page(Generic[T]):
    """One page of results and the count of all of them."""

    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def paginate(
    session: Session, query: Select[T], request: PageRequest, *, total: int | None = None
) -> Page[T]:
    """One page of `query` (which must already be ordered) and the count of its rows (unless known)."""
    if total is None:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.limit(request.size).offset(request.offset)))
    return Page(items=items, total=total, page=request.page, size=request.size)


Paging = Annotated[PageRequest, Depends(page_request)]
