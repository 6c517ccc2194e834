"""The Merkle tree: roots and proofs from stored nodes agree with RFC 9162, its verifiers and the vectors."""

import base64
import json
import time
from collections.abc import Sequence
from hashlib import sha256
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aicommons.ledger import merkle
from aicommons.ledger.merkle import EMPTY_ROOT, ProofError

VECTORS = Path(__file__).parent / "testvectors" / "rfc6962"  # a copy of shared/testvectors (README: origin)


class Store:
    """An in-memory node store that counts its reads."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.calls: list[list[tuple[int, int]]] = []

    def read(self, wanted: Sequence[tuple[int, int]]) -> list[bytes]:
        self.calls.append(list(wanted))
        return [self.nodes[node] for node in wanted]

    def append(self, leaves: Sequence[bytes]) -> None:
        start = sum(1 for level, _ in self.nodes if level == 0)
        for level, index, value in merkle.append_nodes(start, leaves, self.read):
            assert (level, index) not in self.nodes
            self.nodes[level, index] = value


def leaves_of(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def store_of(n: int, batch: int = 37) -> Store:
    store = Store()
    leaves = leaves_of(n)
    for start in range(0, n, batch):
        store.append(leaves[start : start + batch])
    return store


STORE = store_of(300)
LEAVES = leaves_of(300)


def test_hashes_follow_rfc_9162():
    assert merkle.leaf_hash(b"") == sha256(b"\x00").digest()
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert sha256(b"").digest() == EMPTY_ROOT
    assert merkle.root_from_leaves([]) == merkle.root_of_leaf_hashes([]) == EMPTY_ROOT


def test_the_store_holds_every_complete_subtree_and_nothing_else():
    expected = {(level, i) for level in range(9) for i in range(300 >> level)}
    assert set(STORE.nodes) == expected
    for (level, index), value in STORE.nodes.items():
        assert value == merkle.root_from_leaves(LEAVES[index << level : (index + 1) << level])


def test_appending_one_leaf_at_a_time_matches_a_batch():
    one_by_one: dict[tuple[int, int], bytes] = {}
    for index, leaf in enumerate(LEAVES[:100]):
        siblings = merkle.nodes_to_read_for_append(index)
        assert all(node in one_by_one for node in siblings)
        for level, i, value in merkle.new_nodes(index, leaf, lambda level, i: one_by_one[level, i]):
            one_by_one[level, i] = value
    assert one_by_one == {node: h for node, h in store_of(100, batch=100).nodes.items()}
    assert merkle.nodes_to_read_for_append(7) == [(0, 6), (1, 2), (2, 0)]
    assert merkle.nodes_to_read_for_append(8) == []


def test_an_append_reads_the_store_once():
    store = store_of(1000, batch=1000)
    store.calls.clear()
    store.append(leaves_of(1500)[1000:])
    assert len(store.calls) == 1
    assert store.calls[0] == [(9, 0), (8, 2), (7, 6), (6, 14), (5, 30), (3, 124)]


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 300))
def test_root_from_the_store_is_the_merkle_tree_hash(size: int):
    expected = merkle.root_from_leaves(LEAVES[:size])
    assert merkle.tree_root(size, STORE.read) == expected
    assert merkle.root_of_leaf_hashes(LEAVES[:size]) == expected


@settings(max_examples=300, deadline=None)
@given(data=st.data(), size=st.integers(1, 300))
def test_inclusion_proofs_from_the_store_verify(data: st.DataObject, size: int):
    index = data.draw(st.integers(0, size - 1))
    root = merkle.root_from_leaves(LEAVES[:size])
    proof = merkle.inclusion_proof(index, size, STORE.read)
    merkle.verify_inclusion(index, size, LEAVES[index], proof, root)
    other = (index + 1) % size
    if LEAVES[other] != LEAVES[index] and size > 1:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(index, size, LEAVES[other], proof, root)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), new=st.integers(0, 300))
def test_consistency_proofs_from_the_store_verify(data: st.DataObject, new: int):
    old = data.draw(st.integers(0, new))
    old_root, new_root = merkle.root_from_leaves(LEAVES[:old]), merkle.root_from_leaves(LEAVES[:new])
    proof = merkle.consistency_proof(old, new, STORE.read)
    merkle.verify_consistency(old, new, old_root, new_root, proof)
    if 0 < old < new:
        with pytest.raises(ProofError):
            merkle.verify_consistency(old, new, old_root, merkle.leaf_hash(b"forged"), proof)
        with pytest.raises(ProofError):
            merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])


def test_proofs_for_a_million_entries_are_short_and_take_one_read():
    calls: list[int] = []

    def fake(wanted: Sequence[tuple[int, int]]) -> list[bytes]:
        calls.append(len(wanted))
        return [sha256(f"{level}/{index}".encode()).digest() for level, index in wanted]

    size = 1_000_000
    for index in (0, 1, 123_456, 999_999):
        assert len(merkle.inclusion_proof(index, size, fake)) <= 20
    for old in (1, 2, 3, 4096, 500_001, 999_999):  # RFC 9162 allows ceil(log2 n) + 1 hashes
        assert len(merkle.consistency_proof(old, size, fake)) <= 21
    merkle.tree_root(size, fake)
    assert all(n <= 40 for n in calls)
    assert len(calls) == 11


def test_consistency_from_the_empty_tree_needs_no_proof_and_the_empty_root():
    root = merkle.root_from_leaves(LEAVES[:5])
    assert merkle.consistency_proof(0, 5, STORE.read) == []
    merkle.verify_consistency(0, 5, EMPTY_ROOT, root, [])
    merkle.verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    for old_root, new_root, proof in [
        (root, root, []),  # the empty tree has only one root
        (EMPTY_ROOT, root, [root]),  # and needs no proof
        (EMPTY_ROOT, b"short", []),  # and extends only a well-formed root
    ]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(0, 5, old_root, new_root, proof)
    with pytest.raises(ProofError):
        merkle.verify_consistency(0, 0, EMPTY_ROOT, root, [])


def test_sizes_out_of_range_are_refused():
    with pytest.raises(ProofError):
        merkle.inclusion_proof(5, 5, STORE.read)
    with pytest.raises(ProofError):
        merkle.consistency_proof(6, 5, STORE.read)
    with pytest.raises(ProofError):
        merkle.tree_root(2**64, STORE.read)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(-1, 5, LEAVES[0], [], EMPTY_ROOT)


def test_a_store_that_answers_wrongly_is_caught():
    with pytest.raises(ProofError):
        merkle.tree_root(3, lambda wanted: [b"\x00" * 32])


def decode(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def vector_files(kind: str) -> list[Path]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert files, f"no {kind} vectors under {VECTORS}"
    return files


@pytest.mark.parametrize("path", vector_files("inclusion"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_inclusion_vectors(path: Path):
    v = json.loads(path.read_text())
    proof = [decode(p) for p in v["proof"] or []]
    args = (v["leafIdx"], v["treeSize"], decode(v["leafHash"]), proof, decode(v["root"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("path", vector_files("consistency"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_consistency_vectors(path: Path):
    v = json.loads(path.read_text())
    proof = [decode(p) for p in v["proof"] or []]
    args = (v["size1"], v["size2"], decode(v["root1"]), decode(v["root2"]), proof)
    if v["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def test_the_happy_path_vectors_are_what_the_store_produces():
    """The vectors' trees hold the leaves 0..7 of the transparency-dev test data; our proofs match."""
    leaves = [merkle.leaf_hash(bytes.fromhex(h)) for h in ["", "00", "10", "2021", "3031", "40414243"]]
    leaves += [
        merkle.leaf_hash(bytes.fromhex(h)) for h in ["5051525354555657", "606162636465666768696a6b6c6d6e6f"]
    ]
    store = Store()
    store.append(leaves)
    for path in vector_files("inclusion"):
        v = json.loads(path.read_text())
        if v["desc"] == "happy path" and v["treeSize"] <= 8:
            got = merkle.inclusion_proof(v["leafIdx"], v["treeSize"], store.read)
            assert got == [decode(p) for p in v["proof"] or []]
            assert merkle.tree_root(v["treeSize"], store.read) == decode(v["root"])
    for path in vector_files("consistency"):
        v = json.loads(path.read_text())
        if v["desc"] == "happy path" and v["size2"] <= 8:
            got = merkle.consistency_proof(v["size1"], v["size2"], store.read)
            assert got == [decode(p) for p in v["proof"] or []]


def test_a_million_leaves_hash_to_a_root_in_seconds():
    leaves = [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(1_000_000)]
    started = time.perf_counter()
    root = merkle.root_of_leaf_hashes(leaves)
    elapsed = time.perf_counter() - started
    assert root == merkle.tree_root(1_000_000, lambda wanted: [_subtree(leaves, n) for n in wanted])
    assert elapsed < 10, f"{elapsed:.2f} s"


def _subtree(leaves: list[bytes], node: tuple[int, int]) -> bytes:
    level, index = node
    return merkle.root_of_leaf_hashes(leaves[index << level : (index + 1) << level])
