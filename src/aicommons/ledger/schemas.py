"""What the ledger's JSON API accepts and returns."""

import base64
import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from aicommons.core.pagination import Page
from aicommons.ledger import merkle
from aicommons.ledger.models import LogCheckpoint, LogEntry

LAST_ID = 2**31 - 1  # the largest id an INTEGER column holds
LAST_INDEX = 2**63 - 1  # the largest log index a BIGINT holds


class EntryFilter(BaseModel):
    event: Annotated[str, StringConstraints(max_length=80, pattern=r"^[a-z0-9:_-]*$")] = ""
    actor: int | None = Field(default=None, ge=1, le=LAST_ID)
    community: int | None = Field(default=None, ge=1, le=LAST_ID)


class EntryRead(BaseModel):
    index: int
    event: str
    actor_id: int | None
    community_id: int | None
    created_at: datetime
    leaf_hash: str
    body: str = Field(description="the exact entry bytes (canonical JSON), base64")
    document: dict[str, Any]

    @classmethod
    def of(cls, entry: LogEntry) -> "EntryRead":
        return cls(
            index=entry.index,
            event=entry.event,
            actor_id=entry.actor_id,
            community_id=entry.community_id,
            created_at=entry.created_at,
            leaf_hash=base64.b64encode(merkle.leaf_hash(entry.body)).decode(),
            body=base64.b64encode(entry.body).decode(),
            document=json.loads(entry.body),
        )


class EntryPage(BaseModel):
    items: list[EntryRead]
    total: int
    page: int
    size: int

    @classmethod
    def of(cls, found: Page[LogEntry]) -> "EntryPage":
        return cls(
            items=[EntryRead.of(e) for e in found.items], total=found.total, page=found.page, size=found.size
        )


class CheckpointRead(BaseModel):
    size: int
    root: str
    note: str
    created_at: datetime

    @classmethod
    def of(cls, checkpoint: LogCheckpoint, note: str) -> "CheckpointRead":
        root = base64.b64encode(checkpoint.root).decode()
        return cls(size=checkpoint.size, root=root, note=note, created_at=checkpoint.created_at)


class InclusionRead(BaseModel):
    index: int
    size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyRead(BaseModel):
    old: int
    new: int
    proof: list[str]


class BalancesRead(BaseModel):
    size: int
    balances: dict[str, int]
