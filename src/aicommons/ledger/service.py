"""The transparency log: record entries in a domain's transaction, sequence them, sign checkpoints, prove."""

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    BigInteger,
    Row,
    Select,
    SmallInteger,
    Table,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from aicommons.core.db import DriverStatement, bound_insert, utcnow
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
    return int(_RECORD.execute(session, values).rows[0][0])


# The one INSERT every domain's write runs: straight to the driver (see core.db.DriverStatement).
RECORD_COLUMNS = ("body", "event", "actor_id", "community_id", "created_at")
_RECORD = DriverStatement(
    bound_insert(cast(Table, LogRecord.__table__), RECORD_COLUMNS).returning(LogRecord.id)
)


def stored_hashes(session: Session) -> merkle.HashReader:
    """Read complete-subtree hashes from the database, with one query for a proof or a tile."""
    postgres = session.get_bind().dialect.name == "postgresql"

    def read(nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        found = _read_unnested(session, nodes) if postgres else _read_in_runs(session, nodes)
        missing = [node for node in nodes if node not in found]
        if missing:
            raise LookupError(f"the log has no stored hash for nodes {missing[:3]}")
        return [found[node] for node in nodes]

    return read


# The statements are built once: SQLAlchemy and the drivers then reuse their compiled forms.
_NODE_HASHES = select(LogNode.level, LogNode.index, LogNode.hash)
# PostgreSQL: the wanted nodes as two arrays, joined to the primary key (one index probe per node).
_WANTED = (
    func.unnest(
        bindparam("levels", type_=postgresql.ARRAY(SmallInteger)),
        bindparam("indices", type_=postgresql.ARRAY(BigInteger)),
    )
    .table_valued("level", "index")
    .render_derived()
)
_UNNESTED = _NODE_HASHES.join(
    _WANTED, and_(LogNode.level == _WANTED.c.level, LogNode.index == _WANTED.c.index)
)
# SQLite: a run of neighbours on one level (a tile) as a range, scattered nodes as OR'ed pairs, which
# it answers from the primary key (it scans the whole table for a row-value IN).
_RUN = _NODE_HASHES.where(
    LogNode.level == bindparam("level"), LogNode.index.between(bindparam("first"), bindparam("last"))
)
PAIRS_PER_QUERY = 64


def _read_unnested(session: Session, nodes: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    levels, indices = [level for level, _ in nodes], [index for _, index in nodes]
    return _hashes(session.execute(_UNNESTED, {"levels": levels, "indices": indices}))


def _read_in_runs(session: Session, nodes: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    found: dict[tuple[int, int], bytes] = {}
    runs = _runs(nodes)
    pairs = [(level, first) for level, first, last in runs if first == last]
    for start in range(0, len(pairs), PAIRS_PER_QUERY):
        chunk = pairs[start : start + PAIRS_PER_QUERY]
        values = {f"{name}{k}": n for k, pair in enumerate(chunk) for name, n in zip("li", pair, strict=True)}
        found |= _hashes(session.execute(_pairs(len(chunk)), values))
    for level, first, last in (run for run in runs if run[1] != run[2]):
        found |= _hashes(session.execute(_RUN, {"level": level, "first": first, "last": last}))
    return found


@functools.lru_cache(maxsize=PAIRS_PER_QUERY)
def _pairs(count: int) -> Select[int, int, bytes]:
    """`count` nodes by their (level, index)."""
    each = (
        and_(LogNode.level == bindparam(f"l{k}"), LogNode.index == bindparam(f"i{k}")) for k in range(count)
    )
    return _NODE_HASHES.where(or_(*each))


def _runs(nodes: Sequence[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """The nodes as runs of neighbours on one level: (level, first index, last index)."""
    runs: list[tuple[int, int, int]] = []
    for level, index in sorted(set(nodes)):
        if runs and runs[-1][0] == level and runs[-1][2] == index - 1:
            runs[-1] = (level, runs[-1][1], index)
        else:
            runs.append((level, index, index))
    return runs


def _hashes(rows: Iterable[Row[int, int, bytes]]) -> dict[tuple[int, int], bytes]:
    return {(level, index): digest for level, index, digest in rows}


@dataclass(frozen=True)
class LogIdentity:
    """Who signs the log: its origin line and the commons' signing key."""

    origin: str
    signer: Signer


def integrate(session: Session, log: LogIdentity, *, batch: int = BATCH) -> LogCheckpoint | None:
    """Place waiting records at the end of the log, in one strict order, and sign the new checkpoint."""
    size = _lock_head(session)
    records = sorted(_TAKE_WAITING.execute(session, {"batch": batch}).rows)  # by id: the order they came
    if not records:
        return None if size or _has_checkpoint(session) else _sign(session, log, 0, merkle.EMPTY_ROOT)
    leaves = [merkle.leaf_hash(record[1]) for record in records]
    read = stored_hashes(session)
    nodes = merkle.append_nodes(size, leaves, read)
    _PLACE.execute_many(
        session, (_placed(size + n, record) for n, record in enumerate(records)), as_stored=True
    )
    _ADD_NODES.execute_many(
        session, ({"level": lv, "index": ix, "hash": h} for lv, ix, h in nodes), as_stored=False
    )
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


# The sequencer's statements: straight to the driver, the records' values copied as they are stored.
# The oldest waiting records, taken off the queue (they are placed, or the transaction rolls back).
_TAKE_WAITING = DriverStatement(
    delete(LogRecord)
    .where(LogRecord.id.in_(select(LogRecord.id).order_by(LogRecord.id).limit(bindparam("batch"))))
    .returning(LogRecord.id, *(getattr(LogRecord, name) for name in RECORD_COLUMNS))
)
_PLACE = DriverStatement(
    bound_insert(cast(Table, LogEntry.__table__), ("index", "record_id", *RECORD_COLUMNS))
)
_ADD_NODES = DriverStatement(bound_insert(cast(Table, LogNode.__table__), ("level", "index", "hash")))


def _placed(index: int, record: Sequence[Any]) -> dict[str, Any]:
    return {"index": index, "record_id": record[0]} | dict(zip(RECORD_COLUMNS, record[1:], strict=True))


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


class Inclusion(NamedTuple):
    """An entry's inclusion proof in the tree of `size` entries, with the entry's leaf hash."""

    size: int
    leaf_hash: bytes
    proof: list[bytes]


def inclusion_proof(session: Session, index: int, size: int | None) -> Inclusion:
    """The proof of entry `index` in the tree of `size` entries (default: the newest checkpoint)."""
    if index >= (size := _require_size(session, size)) or index < 0:
        raise CommonsError(ErrorCode.LOG_ENTRY_NOT_FOUND, f"entry {index} is not in a tree of size {size}")
    read, leaf = stored_hashes(session), (0, index)
    leaf_hashes: list[bytes] = []

    def with_leaf(nodes: Sequence[tuple[int, int]]) -> list[bytes]:  # the leaf's hash in the proof's query
        *hashes, leaf_hash = read([*nodes, leaf])
        leaf_hashes.append(leaf_hash)
        return hashes

    proof = merkle.inclusion_proof(index, size, with_leaf)
    return Inclusion(size, leaf_hashes[0] if leaf_hashes else read([leaf])[0], proof)


def consistency_proof(session: Session, old: int, new: int) -> list[bytes]:
    _require_size(session, new)
    if not 0 < old <= new:
        raise CommonsError(ErrorCode.BAD_TREE_SIZE, "the old size must be between 1 and the new size")
    return merkle.consistency_proof(old, new, stored_hashes(session))


def entry_bodies(session: Session, start: int, count: int) -> list[bytes]:
    return list(
        session.scalars(
            select(LogEntry.body)
            .where(LogEntry.index >= start, LogEntry.index < start + count)
            .order_by(LogEntry.index)
        )
    )
