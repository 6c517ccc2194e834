"""RFC 9162 Merkle tree hashing, root computation, and inclusion and consistency proofs.

The log keeps the hash of every *complete* subtree: node ``(level, index)`` covers the leaves
``[index * 2**level, (index + 1) * 2**level)``. Any subtree of the RFC 9162 tree is a right fold of
at most ``log2(n)`` complete subtrees, so roots and proofs need only a few stored nodes, fetched
through one call of a :data:`HashReader`.

Consistency from size 0: the empty tree is consistent with every tree and needs no proof (as in
C2SP tlog-witness). ``consistency_proof(0, n)`` returns ``[]``, and ``verify_consistency`` with
``old == 0`` accepts only an empty proof, an old root equal to :data:`EMPTY_ROOT`, and a new root
that is a 32-byte hash (itself :data:`EMPTY_ROOT` when ``new == 0``); anything else raises.
"""

import hashlib
import hmac
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_SIZE = 2**64  # tree sizes and leaf indices are unsigned 64-bit integers

HashReader = Callable[[Sequence[tuple[int, int]]], list[bytes]]
Node = tuple[int, int]
Range = tuple[int, int]

_LEAF_PREFIX = hashlib.sha256(b"\x00")
_NODE_PREFIX = hashlib.sha256(b"\x01")


class ProofError(ValueError):
    """A proof, size or hash that does not verify or is out of range."""


def leaf_hash(entry: bytes) -> bytes:
    """The RFC 9162 hash of a log entry: SHA-256(0x00 || entry)."""
    h = _LEAF_PREFIX.copy()
    h.update(entry)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 hash of an interior node: SHA-256(0x01 || left || right)."""
    h = _NODE_PREFIX.copy()
    h.update(left)
    h.update(right)
    return h.digest()


def _split(n: int) -> int:
    """The largest power of two strictly below n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of leaf hashes, by the recursive definition (for tests, small trees)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_from_leaves(leaves[:k]), root_from_leaves(leaves[k:]))


def root_of_leaf_hashes(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of leaf hashes, level by level: the fast way for many leaves."""
    level = list(leaves)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [node_hash(left, right) for left, right in zip(level[0::2], level[1::2], strict=False)]
        if len(level) % 2:
            paired.append(level[-1])  # a lone right node rises unchanged, as in the RFC's split
        level = paired
    return level[0]


def subtree_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees, left to right, whose leaves are exactly [start, end)."""
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def _read(read: HashReader, nodes: Sequence[Node]) -> dict[Node, bytes]:
    """The hashes of nodes from one call of read, checked for count and size."""
    wanted = list(dict.fromkeys(nodes))
    if not wanted:
        return {}
    hashes = read(wanted)
    if len(hashes) != len(wanted) or any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError(f"the store answered {len(hashes)} hashes for {len(wanted)} nodes")
    return dict(zip(wanted, hashes, strict=True))


def _fold(nodes: Sequence[Node], hashes: dict[Node, bytes]) -> bytes:
    """The Merkle Tree Hash of an RFC 9162 subtree from its complete subtrees, folded right."""
    acc = hashes[nodes[-1]]
    for node in reversed(nodes[:-1]):
        acc = node_hash(hashes[node], acc)
    return acc


def _ranges_hashes(ranges: Sequence[Range], read: HashReader) -> list[bytes]:
    """The Merkle Tree Hash of each RFC 9162 subtree range, with one batched read."""
    decomposed = [subtree_nodes(lo, hi) for lo, hi in ranges]
    hashes = _read(read, [node for nodes in decomposed for node in nodes])
    return [_fold(nodes, hashes) for nodes in decomposed]


def _check_size(size: int, what: str = "tree size") -> None:
    """Raise unless size is an unsigned 64-bit integer."""
    if not 0 <= size < MAX_SIZE:
        raise ProofError(f"{what} {size} is not an unsigned 64-bit integer")


def _check_hash(value: bytes, what: str) -> None:
    """Raise unless value is a 32-byte hash."""
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def tree_root(size: int, read: HashReader) -> bytes:
    """The root of the tree of the first size leaves, from its O(log n) complete subtrees."""
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _ranges_hashes([(0, size)], read)[0]


def nodes_to_read_for_append(index: int) -> list[Node]:
    """The left siblings that appending leaf number index hashes with, lowest first."""
    trailing_ones = (index ^ (index + 1)).bit_length() - 1  # the levels the new leaf completes
    return [(level, (index >> level) - 1) for level in range(trailing_ones)]


def new_nodes(
    index: int, leaf: bytes, left_siblings: Callable[[int, int], bytes]
) -> list[tuple[int, int, bytes]]:
    """Every complete subtree that leaf number index completes, starting with (0, index, leaf)."""
    _check_size(index, "leaf index")
    _check_hash(leaf, "leaf hash")
    nodes = [(0, index, leaf)]
    level, position, acc = 0, index, leaf
    while position & 1:
        acc = node_hash(left_siblings(level, position - 1), acc)
        level, position = level + 1, position >> 1
        nodes.append((level, position, acc))
    return nodes


def append_nodes(start: int, leaves: Sequence[bytes], read: HashReader) -> list[tuple[int, int, bytes]]:
    """Every complete subtree that appending leaf hashes at [start, start+k) completes; one read."""
    _check_size(start, "start")
    _check_size(start + len(leaves))
    frontier = subtree_nodes(0, start)
    known = _read(read, frontier)
    stack = [(level, index, known[(level, index)]) for level, index in frontier]
    created = []
    for offset, leaf in enumerate(leaves):
        _check_hash(leaf, "leaf hash")
        node = (0, start + offset, leaf)
        created.append(node)
        while stack and stack[-1][0] == node[0]:
            left = stack.pop()
            node = (node[0] + 1, node[1] >> 1, node_hash(left[2], node[2]))
            created.append(node)
        stack.append(node)
    return created


def _path_ranges(index: int, size: int) -> list[Range]:
    """The subtree ranges of the RFC 9162 inclusion path of leaf index, leaf first."""
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    return ranges[::-1]


def _subproof_ranges(old: int, new: int) -> list[Range]:
    """The subtree ranges of the RFC 9162 consistency proof SUBPROOF(old, D[0:new], true)."""
    ranges: list[Range] = []
    lo, hi, complete = 0, new, True
    while old != hi - lo:
        k = _split(hi - lo)
        if old <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            old, lo, complete = old - k, lo + k, False
    if not complete:
        ranges.append((lo, hi))
    return ranges[::-1]


def inclusion_proof(index: int, size: int, read: HashReader) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf index in the tree of size leaves, with one read."""
    _check_size(size)
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    return _ranges_hashes(_path_ranges(index, size), read)


def consistency_proof(old: int, new: int, read: HashReader) -> list[bytes]:
    """The RFC 9162 consistency proof from size old to size new ([] from 0), with one read."""
    _check_size(new)
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    return _ranges_hashes(_subproof_ranges(old, new), read)


def _equal(a: bytes, b: bytes, what: str) -> None:
    """Raise unless two hashes are equal (compared in constant time)."""
    if not hmac.compare_digest(a, b):
        raise ProofError(f"{what} does not match")


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Check an inclusion proof by RFC 9162 section 2.1.3.2; raise ProofError unless it holds."""
    _check_size(size)
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    for value, what in [(leaf, "leaf hash"), (root, "root"), *((p, "proof hash") for p in proof)]:
        _check_hash(value, what)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    _equal(r, root, "computed root")


def _verify_from_empty(new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check a consistency claim from the empty tree: no proof, and the empty tree's root."""
    if proof:
        raise ProofError("a consistency proof from size 0 must be empty")
    _check_hash(old_root, "old root")
    _equal(old_root, EMPTY_ROOT, "old root of the empty tree")
    _check_hash(new_root, "new root")
    if new == 0:
        _equal(new_root, EMPTY_ROOT, "new root of the empty tree")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check a consistency proof by RFC 9162 section 2.1.4.2; raise ProofError unless it holds."""
    _check_size(new)
    if not 0 <= old <= new:
        raise ProofError(f"size {old} cannot precede size {new}")
    if old == 0:
        _verify_from_empty(new, old_root, new_root, proof)
    elif old == new:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        _equal(old_root, new_root, "roots of equal-size trees")  # nothing to hash, as in RFC 9162
    else:
        for value, what in [
            (old_root, "old root"),
            (new_root, "new root"),
            *((p, "proof hash") for p in proof),
        ]:
            _check_hash(value, what)
        fr, sr = _consistency_roots(old, new, old_root, proof)
        _equal(fr, old_root, "computed old root")
        _equal(sr, new_root, "computed new root")


def _consistency_roots(old: int, new: int, old_root: bytes, proof: Sequence[bytes]) -> tuple[bytes, bytes]:
    """The old and new roots a consistency proof implies (RFC 9162 section 2.1.4.2, steps 1-6)."""
    if not proof:
        raise ProofError("consistency proof is empty")
    path = [old_root, *proof] if old & (old - 1) == 0 else list(proof)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    return fr, sr
