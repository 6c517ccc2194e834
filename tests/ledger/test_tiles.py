"""Tiles: the tlog-tiles path encoding, entry bundles, and roots and proofs recomputed from mirrored tiles."""

from collections.abc import Sequence

import pytest

from aicommons.ledger import merkle, tiles
from aicommons.ledger.tiles import TileHashReader


@pytest.mark.parametrize(
    ("level", "index", "width", "path"),
    [
        (0, 1234067, None, "tile/0/x001/x234/067"),  # the spec's example
        (0, 0, None, "tile/0/000"),
        (0, 999, None, "tile/0/999"),
        (0, 1000, None, "tile/0/x001/000"),
        (1, 1, 17, "tile/1/001.p/17"),
        (2, 0, 1, "tile/2/000.p/1"),
        (3, 5, 256, "tile/3/005"),  # width 256 is a full tile
        (63, 1_000_000_000, 255, "tile/63/x001/x000/x000/000.p/255"),
        (None, 1234067, 8, "tile/entries/x001/x234/067.p/8"),
        (None, 7, None, "tile/entries/007"),
    ],
)
def test_paths_encode_and_parse_back(level: int | None, index: int, width: int | None, path: str):
    built = tiles.entries_path(index, width) if level is None else tiles.tile_path(level, index, width)
    assert built == path
    assert tiles.parse_tile_path(path) == (level, index, None if width == 256 else width)


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1234067",
        "tile/0/x001/x234/67",
        "tile/0/001/234/067",  # inner elements without x
        "tile/0/x000/001",  # a needless leading group
        "tile/0/x001",
        "tile/00/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/08",
        "tile/0/000.p/",
        "tile/0/000/",
        "/tile/0/000",
        "0/000",
        "tile/entries/000.p/300",
        "tile/data/000",
        "tile/0/000\n",
        "tile/0/\u0660\u0660\u0660",
        "xtile/0/000",
    ],
)
def test_bad_paths_are_refused(path: str):
    with pytest.raises(ValueError):
        tiles.parse_tile_path(path)


def test_bad_path_arguments_are_refused():
    for level, index, width in [(64, 0, None), (0, -1, None), (0, 0, 0), (0, 0, 257), (0, 2**56, None)]:
        with pytest.raises(ValueError):
            tiles.tile_path(level, index, width)


def test_bundles_round_trip():
    entries = [b"", b"a", b"\x00" * 300, b"x" * 65535]
    data = tiles.encode_bundle(entries)
    assert data[:5] == b"\x00\x00\x00\x01a"
    assert tiles.decode_bundle(data) == entries
    assert tiles.decode_bundle(tiles.encode_bundle([b"e"] * 256)) == [b"e"] * 256
    assert tiles.decode_bundle(b"") == []


def test_bundle_limits_are_enforced():
    with pytest.raises(ValueError):
        tiles.encode_bundle([b"x" * 65536])
    with pytest.raises(ValueError):
        tiles.encode_bundle([b""] * 257)
    for data in [b"\x00", b"\x00\x02a", b"\x00\x01a\x00", b"\x00\x00" * 257]:
        with pytest.raises(ValueError):
            tiles.decode_bundle(data)


def test_tiles_of_the_spec_example_sizes():
    by_level: dict[int, list[tuple[int, int]]] = {}
    for level, index, width in tiles.tiles_for(70_000):
        by_level.setdefault(level, []).append((index, width))
    assert by_level[0] == [(i, 256) for i in range(273)] + [(273, 112)]
    assert by_level[1] == [(0, 256), (1, 17)]
    assert by_level[2] == [(0, 1)]
    assert tiles.tiles_for(256) == [(0, 0, 256), (1, 0, 1)]
    assert tiles.tiles_for(0) == []


SIZE = 1000


@pytest.fixture(scope="module")
def store() -> dict[tuple[int, int], bytes]:
    nodes: dict[tuple[int, int], bytes] = {}
    leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(SIZE)]
    for start in range(0, SIZE, 97):
        for level, index, value in merkle.append_nodes(start, leaves[start : start + 97], read_from(nodes)):
            nodes[level, index] = value
    return nodes


def read_from(nodes: dict[tuple[int, int], bytes]) -> merkle.HashReader:
    def read(wanted: Sequence[tuple[int, int]]) -> list[bytes]:
        return [nodes[node] for node in wanted]

    return read


def mirror(store: dict[tuple[int, int], bytes], size: int) -> TileHashReader:
    """What a client holds after fetching every tile of a tree of size leaves."""
    held = {
        (level, index): tiles.tile_hashes(level, index, width, read_from(store))
        for level, index, width in tiles.tiles_for(size)
    }
    return TileHashReader(held, size)


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 512, 777, SIZE])
def test_a_mirror_of_the_tiles_gives_the_same_roots_and_proofs(
    store: dict[tuple[int, int], bytes], size: int
):
    reader, direct = mirror(store, size), read_from(store)
    assert merkle.tree_root(size, reader) == merkle.tree_root(size, direct)
    for index in {0, size // 3, size - 1}:
        assert merkle.inclusion_proof(index, size, reader) == merkle.inclusion_proof(index, size, direct)
    for old in {0, 1, size // 2, size - 1, size}:
        assert merkle.consistency_proof(old, size, reader) == merkle.consistency_proof(old, size, direct)


def test_every_proof_of_the_whole_tree_matches(store: dict[tuple[int, int], bytes]):
    reader, direct = mirror(store, SIZE), read_from(store)
    root = merkle.tree_root(SIZE, reader)
    for index in range(0, SIZE, 7):
        proof = merkle.inclusion_proof(index, SIZE, reader)
        assert proof == merkle.inclusion_proof(index, SIZE, direct)
        merkle.verify_inclusion(index, SIZE, store[0, index], proof, root)


def test_the_entry_bundles_hash_to_the_level_0_tiles(store: dict[tuple[int, int], bytes]):
    bundle = tiles.encode_bundle([f"entry {i}".encode() for i in range(256, 512)])
    level_0 = tiles.tile_hashes(0, 1, 256, read_from(store))
    assert b"".join(merkle.leaf_hash(entry) for entry in tiles.decode_bundle(bundle)) == level_0


def test_a_client_can_tell_which_tiles_a_proof_needs(store: dict[tuple[int, int], bytes]):
    wanted: list[tuple[int, int]] = []

    def record(nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        wanted.extend(nodes)
        return read_from(store)(nodes)

    expected = merkle.inclusion_proof(300, SIZE, record)
    needed = tiles.tiles_for_nodes(wanted, SIZE)
    assert set(needed) <= set(tiles.tiles_for(SIZE))
    held = {
        (level, index): tiles.tile_hashes(level, index, width, read_from(store))
        for level, index, width in needed
    }
    assert merkle.inclusion_proof(300, SIZE, TileHashReader(held, SIZE)) == expected


def test_a_mirror_refuses_what_it_cannot_answer(store: dict[tuple[int, int], bytes]):
    reader = mirror(store, 600)
    with pytest.raises(ValueError):
        reader([(0, 600)])  # beyond the tree
    with pytest.raises(KeyError):
        TileHashReader({}, 600)([(0, 0)])
    with pytest.raises(ValueError):
        TileHashReader({(0, 0): b"\x00" * 31}, 1)
