"""The transparency log: record entries in a domain's transaction, sequence them, sign checkpoints, prove."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.ledger import merkle
from aicommons.ledger.entries import entry_body
from aicommons.ledger.models import LogCheckpoint, LogCosignature, LogEntry, LogHead, LogNode, LogRecord
from aicommons.ledger.note import Checkpoint, Signer

HEAD = 1
BATCH = 5_000


def record(
    session: Session,
    event: str,
    *,
    actor_id: int | None,
    subject: dict[str, Any] | None = None,
    community_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Append an entry in the caller's transaction: it reaches the log if and only if the caller commits.

    Returns the record's id, by which `entry_for_record` finds the entry once the sequencer placed it.
    """
    subject = dict(subject or {}) | ({"community": community_id} if community_id is not None else {})
    body = entry_body(event, actor_id=actor_id, subject=subject, data=data or {}, at=utcnow())
    values = {
        "body": body,
        "event": event,
        "actor_id": actor_id,
        "community_id": community_id,
        "created_at": utcnow(),
    }
    inserted = session.connection().execute(_RECORD, values).inserted_primary_key
    assert inserted is not None
    return int(inserted[0])


# A Core statement built once: every domain's write goes through it, so it skips the ORM's per-call work.
_RECORD = insert(cast(Table, LogRecord.__table__))


def stored_hashes(session: Session) -> merkle.HashReader:
    """Read complete-subtree hashes from the database, one query per batch of nodes."""
    sqlite = session.get_bind().dialect.name == "sqlite"

    def read(nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        if not nodes:
            return []
        wanted = _covering(nodes) if sqlite else tuple_(LogNode.level, LogNode.index).in_(list(nodes))
        rows = session.execute(select(LogNode.level, LogNode.index, LogNode.hash).where(wanted))
        found = {(level, index): digest for level, index, digest in rows}
        missing = [node for node in nodes if node not in found]
        if missing:
            raise LookupError(f"the log has no stored hash for nodes {missing[:3]}")
        return [found[node] for node in nodes]

    return read


def _covering(nodes: Sequence[tuple[int, int]]) -> ColumnElement[bool]:
    """For SQLite, which scans the whole table for a (level, index) IN (pairs): per level, a range for a
    run of neighbouring nodes (a tile), a list otherwise (a proof), each answered from the primary key."""
    by_level: dict[int, list[int]] = defaultdict(list)
    for level, index in nodes:
        by_level[level].append(index)
    conditions = []
    for level, indices in by_level.items():
        low, high = min(indices), max(indices)
        wanted = (
            LogNode.index.between(low, high) if high - low < 2 * len(indices) else LogNode.index.in_(indices)
        )
        conditions.append(and_(LogNode.level == level, wanted))
    return or_(*conditions)


@dataclass(frozen=True)
class LogIdentity:
    """Who signs the log: its origin line and the commons' signing key."""

    origin: str
    signer: Signer


def integrate(session: Session, log: LogIdentity, *, batch: int = BATCH) -> LogCheckpoint | None:
    """Place waiting records at the end of the log, in one strict order, and sign the new checkpoint."""
    size = _lock_head(session)
    records = list(session.scalars(select(LogRecord).order_by(LogRecord.id).limit(batch)))
    if not records:
        return None if size or _has_checkpoint(session) else _sign(session, log, 0, merkle.EMPTY_ROOT)
    leaves = [merkle.leaf_hash(r.body) for r in records]
    read = stored_hashes(session)
    nodes = merkle.append_nodes(size, leaves, read)
    session.execute(insert(LogEntry), [_placed(size + offset, r) for offset, r in enumerate(records)])
    session.execute(insert(LogNode), [{"level": lv, "index": ix, "hash": h} for lv, ix, h in nodes])
    placed = delete(LogRecord).where(LogRecord.id.in_([r.id for r in records]))
    session.execute(placed.execution_options(synchronize_session=False))
    new_size = size + len(records)
    session.execute(update(LogHead).where(LogHead.id == HEAD).values(size=new_size))
    root = merkle.tree_root(new_size, read)
    _refuse_inconsistency(session, new_size, root, read)
    return _sign(session, log, new_size, root)


def _lock_head(session: Session) -> int:
    """Take the sequencer's lock (a write to the head row locks it on PostgreSQL and SQLite alike)."""
    if session.execute(update(LogHead).where(LogHead.id == HEAD).values(size=LogHead.size)).rowcount == 0:  # type: ignore[attr-defined]
        session.add(LogHead(id=HEAD, size=0))
        session.flush()
    return int(session.scalar(select(LogHead.size).where(LogHead.id == HEAD)) or 0)


def _has_checkpoint(session: Session) -> bool:
    return session.scalar(select(LogCheckpoint.size).limit(1)) is not None


def _placed(index: int, pending: LogRecord) -> dict[str, Any]:
    return {
        "index": index,
        "record_id": pending.id,
        "body": pending.body,
        "event": pending.event,
        "actor_id": pending.actor_id,
        "community_id": pending.community_id,
        "created_at": pending.created_at,
    }


def _refuse_inconsistency(session: Session, size: int, root: bytes, read: merkle.HashReader) -> None:
    """Never sign a checkpoint that the previous one does not prove consistent with."""
    previous = latest_checkpoint(session)
    if previous is None or previous.size == 0:
        return
    proof = merkle.consistency_proof(previous.size, size, read)
    merkle.verify_consistency(previous.size, size, previous.root, root, proof)


def _sign(session: Session, log: LogIdentity, size: int, root: bytes) -> LogCheckpoint:
    note = log.signer.sign(Checkpoint(origin=log.origin, size=size, root=root).body())
    checkpoint = LogCheckpoint(size=size, root=root, note=note)
    session.add(checkpoint)
    session.flush()
    return checkpoint


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    return session.scalar(select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1))


def cosigned_note(session: Session, checkpoint: LogCheckpoint) -> str:
    """The checkpoint note with every witness cosignature line it has collected."""
    lines = session.scalars(
        select(LogCosignature.line).where(LogCosignature.size == checkpoint.size).order_by(LogCosignature.id)
    )
    return checkpoint.note + "".join(f"{line}\n" for line in lines)


def tree_size(session: Session) -> int:
    """The size of the newest signed checkpoint: what clients can see and have proved."""
    return int(session.scalar(select(func.max(LogCheckpoint.size))) or 0)


def entry(session: Session, index: int) -> LogEntry:
    found = session.get(LogEntry, index)
    if found is None or index >= tree_size(session):
        raise CommonsError(ErrorCode.LOG_ENTRY_NOT_FOUND, f"the log has no entry {index} yet")
    return found


def entry_for_record(session: Session, record_id: int) -> LogEntry | None:
    """Where a recorded entry landed, or None while it waits for the sequencer."""
    return session.scalar(select(LogEntry).where(LogEntry.record_id == record_id))


def _require_size(session: Session, size: int | None) -> int:
    """`size` (the newest checkpoint's when None), if the log has signed a tree that large."""
    signed = tree_size(session)
    size = signed if size is None else size
    if not 0 < size <= signed:
        raise CommonsError(ErrorCode.BAD_TREE_SIZE, f"tree size {size} is not between 1 and the checkpoint's")
    return size


def inclusion_proof(session: Session, index: int, size: int | None) -> tuple[int, list[bytes]]:
    """The proof of entry `index` in the tree of `size` entries (default: the newest checkpoint)."""
    if index >= (size := _require_size(session, size)) or index < 0:
        raise CommonsError(ErrorCode.LOG_ENTRY_NOT_FOUND, f"entry {index} is not in a tree of size {size}")
    return size, merkle.inclusion_proof(index, size, stored_hashes(session))


def consistency_proof(session: Session, old: int, new: int) -> list[bytes]:
    _require_size(session, new)
    if not 0 < old <= new:
        raise CommonsError(ErrorCode.BAD_TREE_SIZE, "the old size must be between 1 and the new size")
    return merkle.consistency_proof(old, new, stored_hashes(session))


def placed_body(session: Session, index: int) -> bytes:
    """The bytes of a placed entry (callers check it is under a checkpoint)."""
    body = session.scalar(select(LogEntry.body).where(LogEntry.index == index))
    if body is None:
        raise CommonsError(ErrorCode.LOG_ENTRY_NOT_FOUND, f"the log has no entry {index}")
    return body


def entry_bodies(session: Session, start: int, count: int) -> list[bytes]:
    return list(
        session.scalars(
            select(LogEntry.body)
            .where(LogEntry.index >= start, LogEntry.index < start + count)
            .order_by(LogEntry.index)
        )
    )
