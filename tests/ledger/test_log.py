"""The log: entries recorded with their change, sequenced without gaps, signed, and provable."""

import json
import threading

import pytest
from sqlalchemy import func, select, text

from aicommons.core.db import unit_of_work
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.ledger import merkle, tiles
from aicommons.ledger import service as ledger
from aicommons.ledger.models import LogEntry, LogRecord
from aicommons.ledger.note import Checkpoint, Verifier


def record_many(factory, count: int, event: str = "tests:thing:happen") -> None:
    with unit_of_work(factory) as session:
        for n in range(count):
            ledger.record(session, event, actor_id=None, data={"n": n})


def test_recorded_entries_reach_the_log_in_order_with_a_signed_checkpoint(factory, sequence, log):
    record_many(factory, 5)
    checkpoint = sequence()
    assert checkpoint.size == 5
    text = Verifier.from_key(log.signer.verifier_key()).verify(checkpoint.note)
    assert Checkpoint.parse(text) == Checkpoint(origin=log.origin, size=5, root=checkpoint.root)
    with factory() as session:
        bodies = [json.loads(b) for b in session.scalars(select(LogEntry.body).order_by(LogEntry.index))]
        assert session.scalar(select(func.count()).select_from(LogRecord)) == 0
    assert [b["data"]["n"] for b in bodies] == [0, 1, 2, 3, 4]
    assert (
        merkle.root_from_leaves(
            [merkle.leaf_hash(json.dumps(b, separators=(",", ":"), sort_keys=True).encode()) for b in bodies]
        )
        == checkpoint.root
    )


def test_a_placed_entry_keeps_its_records_values_as_they_were_stored(factory, sequence):
    record_many(factory, 3)
    with factory() as session:
        waiting = [tuple(r) for r in session.execute(text(f"SELECT {COPIED} FROM log_record ORDER BY id"))]
        recorded = session.execute(select(LogRecord.id, LogRecord.created_at).order_by(LogRecord.id)).all()
    sequence()
    with factory() as session:
        placed = [tuple(r) for r in session.execute(text(f'SELECT {COPIED} FROM log_entry ORDER BY "index"'))]
        entries = session.execute(
            select(LogEntry.record_id, LogEntry.created_at).order_by(LogEntry.index)
        ).all()
    assert placed == waiting  # the same bytes in the database, whatever their type
    assert [tuple(e) for e in entries] == [tuple(r) for r in recorded]
    assert all(at.tzinfo is not None for _, at in entries)


COPIED = "body, event, actor_id, community_id, created_at"


def test_an_entry_commits_with_its_change_or_not_at_all(factory, sequence):
    with pytest.raises(RuntimeError), unit_of_work(factory) as session:
        ledger.record(session, "tests:thing:happen", actor_id=None)
        raise RuntimeError("the change failed")
    first = sequence()
    assert first.size == 0  # the empty tree's checkpoint, nothing else
    assert sequence() is None


@pytest.mark.parametrize(
    ("event", "data"),
    [
        ("NotAnEvent", {}),
        ("a:b", {}),
        ("tests:thing:happen", {"x": 1.5}),
        ("tests:thing:happen", {"x": "y" * 70_000}),
    ],
)
def test_bad_entries_are_refused(factory, event, data):
    with factory() as session, pytest.raises(CommonsError) as refused:
        ledger.record(session, event, actor_id=None, data=data)
    assert refused.value.code is ErrorCode.VALIDATION_FAILED


def test_proofs_verify_against_the_checkpoints(factory, sequence):
    record_many(factory, 7)
    old = sequence()
    record_many(factory, 30)
    new = sequence()
    with factory() as session:
        for index in (0, 6, 20, 36):
            body = ledger.entry(session, index).body
            proof = ledger.inclusion_proof(session, index, new.size).proof
            merkle.verify_inclusion(index, new.size, merkle.leaf_hash(body), proof, new.root)
            assert len(proof) <= 6
        proof = ledger.consistency_proof(session, old.size, new.size)
    merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)


def test_sizes_beyond_the_checkpoint_are_refused(factory, sequence):
    record_many(factory, 3)
    sequence()
    record_many(factory, 2)  # recorded, not yet sequenced: invisible
    with factory() as session:
        with pytest.raises(CommonsError) as missing:
            ledger.entry(session, 3)
        assert missing.value.code is ErrorCode.LOG_ENTRY_NOT_FOUND
        with pytest.raises(CommonsError) as too_big:
            ledger.inclusion_proof(session, 0, 4)
        assert too_big.value.code is ErrorCode.BAD_TREE_SIZE


def test_many_concurrent_writers_get_one_gapless_order(factory, sequence):
    writers = [threading.Thread(target=record_many, args=(factory, 40)) for _ in range(8)]
    stop = threading.Event()

    def sequencer():
        while not stop.is_set():
            sequence()

    running = threading.Thread(target=sequencer)
    running.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    stop.set()
    running.join()
    final = sequence() or sequence() or None
    with factory() as session:
        indices = list(session.scalars(select(LogEntry.index).order_by(LogEntry.index)))
        records = list(session.scalars(select(LogEntry.record_id)))
        size = ledger.tree_size(session)
    assert indices == list(range(320))
    assert len(set(records)) == 320
    assert size == 320
    assert final is None or final.size == 320


def test_tiles_and_bundles_rebuild_the_tree(factory, sequence):
    from aicommons.ledger import receipts

    record_many(factory, 300)
    checkpoint = sequence()
    with factory() as session:
        fetched = {
            (level, index): receipts.tile_bytes(session, level, index, None if width == 256 else width)
            for level, index, width in tiles.tiles_for(300)
        }
        bundle = receipts.tile_bytes(session, None, 0, None)
        partial = receipts.tile_bytes(session, None, 1, 44)
        with pytest.raises(CommonsError):
            receipts.tile_bytes(session, None, 1, None)  # not full yet
    reader = tiles.TileHashReader(fetched, 300)
    assert merkle.tree_root(300, reader) == checkpoint.root
    assert len(tiles.decode_bundle(bundle)) == 256
    assert json.loads(tiles.decode_bundle(partial)[-1])["data"]["n"] == 299
