"""What the log hands out: tiles and entry bundles, offline receipts, and pages of entries."""

import base64

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest, paginate
from aicommons.ledger import service, tiles
from aicommons.ledger.models import LogEntry
from aicommons.ledger.schemas import EntryFilter

PROOF_HEADER = "c2sp.org/tlog-proof@v1"


def tile_bytes(session: Session, level: int | None, index: int, width: int | None) -> bytes:
    """A hash tile (level given) or an entry bundle (level None) within the newest checkpoint."""
    size = service.tree_size(session)
    available = _available_width(size, level or 0, index)
    if (
        available <= 0
        or (width or tiles.TILE_WIDTH) > available
        or (width is None and available < tiles.TILE_WIDTH)
    ):
        raise CommonsError(ErrorCode.TILE_NOT_FOUND, "the newest checkpoint does not cover that tile")
    wanted = width or tiles.TILE_WIDTH
    if level is None:
        return tiles.encode_bundle(service.entry_bodies(session, index * tiles.TILE_WIDTH, wanted))
    return tiles.tile_hashes(level, index, wanted, service.stored_hashes(session))


def _available_width(size: int, level: int, index: int) -> int:
    """How many hashes of tile (level, index) a tree of `size` entries holds (0 to 256)."""
    nodes_at_level = size >> (tiles.TILE_HEIGHT * level)
    return max(0, min(tiles.TILE_WIDTH, nodes_at_level - index * tiles.TILE_WIDTH))


def tlog_proof(session: Session, index: int) -> str:
    """The C2SP tlog-proof of entry `index` against the newest (cosigned) checkpoint; extra = the entry."""
    found = service.entry(session, index)
    checkpoint = service.latest_checkpoint(session)
    assert checkpoint is not None  # service.entry found an entry, so a checkpoint covers it
    proof = service.inclusion_proof(session, index, checkpoint.size).proof
    lines = [PROOF_HEADER, f"extra {base64.b64encode(found.body).decode()}", f"index {index}"]
    lines += [base64.b64encode(digest).decode() for digest in proof]
    return "\n".join(lines) + "\n\n" + service.cosigned_note(session, checkpoint)


def search(session: Session, filters: EntryFilter, page: PageRequest) -> Page[LogEntry]:
    """Entries within the newest checkpoint, newest first; unfiltered, the count is the tree size."""
    size = service.tree_size(session)
    query = select(LogEntry).where(LogEntry.index < size)
    unfiltered = not filters.event and filters.actor is None and filters.community is None
    if filters.event:
        query = query.where(LogEntry.event.startswith(filters.event, autoescape=True))
    if filters.actor is not None:
        query = query.where(LogEntry.actor_id == filters.actor)
    if filters.community is not None:
        query = query.where(LogEntry.community_id == filters.community)
    return paginate(session, query.order_by(LogEntry.index.desc()), page, total=size if unfiltered else None)


def event_names(session: Session) -> list[str]:
    """The event names on the log, for the explorer's filter.

    One index probe per name (a recursive "next name after this one"), where DISTINCT would read
    every entry; the sequencer commits entries with their checkpoint, so all are within it.
    """
    names = select(func.min(LogEntry.event).label("event")).cte("names", recursive=True)
    later = aliased(LogEntry)
    following = select(func.min(later.event)).where(later.event > names.c.event).scalar_subquery()
    names = names.union_all(select(following).where(names.c.event.is_not(None)))
    query = select(names.c.event).where(names.c.event.is_not(None)).order_by(names.c.event)
    return list(session.scalars(query))
