"""C2SP tlog-tiles: tile and entry bundle paths, bundles, tile contents, and a hash reader over fetched tiles.

A tile at level L and index N holds the hashes of tree level 8·L at indices 256·N .. 256·N + W - 1;
full tiles are 256 hashes wide, the partial ones on the right edge 1 to 255.
"""

import re
from collections.abc import Mapping, Sequence

from aicommons.ledger import merkle

TILE_HEIGHT = 8
TILE_WIDTH = 256
MAX_TILE_LEVEL = 63
MAX_TILE_INDEX = 2**56  # 2**64 leaves make at most 2**56 level-0 tiles
MAX_ENTRY_SIZE = 65535
_PATH = re.compile(r"tile/(entries|[0-9]+)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([0-9]+))?")

Tile = tuple[int, int, int]  # (level, index, width)


def _index_path(index: int) -> str:
    """The index as zero-padded 3-digit path elements, all but the last prefixed with x."""
    if not 0 <= index < MAX_TILE_INDEX:
        raise ValueError(f"tile index {index} is out of range")
    groups = [f"{index % 1000:03d}"]
    while index >= 1000:
        index //= 1000
        groups.append(f"x{index % 1000:03d}")
    return "/".join(reversed(groups))


def _width_suffix(width: int | None) -> str:
    """The .p/<W> suffix of a partial tile; none for a full one (width None or 256)."""
    if width is None or width == TILE_WIDTH:
        return ""
    if not 1 <= width < TILE_WIDTH:
        raise ValueError(f"tile width {width} is not between 1 and 256")
    return f".p/{width}"


def tile_path(level: int, index: int, width: int | None = None) -> str:
    """The path of a Merkle tree tile, e.g. tile/0/x001/x234/067 or tile/1/000.p/17."""
    if not 0 <= level <= MAX_TILE_LEVEL:
        raise ValueError(f"tile level {level} is not between 0 and {MAX_TILE_LEVEL}")
    return f"tile/{level}/{_index_path(index)}{_width_suffix(width)}"


def entries_path(index: int, width: int | None = None) -> str:
    """The path of an entry bundle, e.g. tile/entries/x001/x234/067.p/8."""
    return f"tile/entries/{_index_path(index)}{_width_suffix(width)}"


def parse_tile_path(path: str) -> tuple[int | None, int, int | None]:
    """The (level, index, width) of a tile path, level None for entries and width None when full."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise ValueError(f"{path!r} is not a tile path")
    level = None if match[1] == "entries" else int(match[1])
    index = int(match[2].replace("x", "").replace("/", ""))
    width = None if match[3] is None else int(match[3])
    canonical = entries_path(index, width) if level is None else tile_path(level, index, width)
    if canonical != path:  # leading zeros, x000 groups, .p/256 and the like
        raise ValueError(f"{path!r} is not in canonical form ({canonical!r})")
    return level, index, width


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    if len(entries) > TILE_WIDTH:
        raise ValueError(f"a bundle holds at most {TILE_WIDTH} entries")
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(f"an entry of {len(entry)} bytes does not fit a bundle")
        parts += [len(entry).to_bytes(2, "big"), entry]
    return b"".join(parts)


def decode_bundle(data: bytes) -> list[bytes]:
    """The entries of an entry bundle; raise ValueError when it is truncated or too long."""
    entries: list[bytes] = []
    position = 0
    while position < len(data):
        end = position + 2 + int.from_bytes(data[position : position + 2], "big")
        if position + 2 > len(data) or end > len(data):
            raise ValueError(f"the bundle is truncated after {len(entries)} entries")
        entries.append(bytes(data[position + 2 : end]))
        position = end
        if len(entries) > TILE_WIDTH:
            raise ValueError(f"a bundle holds at most {TILE_WIDTH} entries")
    return entries


def tile_hashes(level: int, index: int, width: int, read: merkle.HashReader) -> bytes:
    """The bytes of a tile: the hashes of tree level 8·level, indices 256·index to 256·index + width - 1."""
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"tile width {width} is not between 1 and 256")
    first = index * TILE_WIDTH
    hashes = read([(level * TILE_HEIGHT, first + i) for i in range(width)])
    if len(hashes) != width or any(len(h) != merkle.HASH_SIZE for h in hashes):
        raise ValueError(f"the store answered {len(hashes)} hashes for a tile of width {width}")
    return b"".join(hashes)


def _width(level: int, index: int, size: int) -> int:
    """The width of tile (level, index) in a tree of size leaves (0 when it does not exist yet)."""
    return max(0, min(TILE_WIDTH, (size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH))


def tiles_for(size: int) -> list[Tile]:
    """Every (level, index, width) tile of a tree of size leaves: full ones, then the partial edge."""
    tiles: list[Tile] = []
    level = 0
    while (count := size >> (TILE_HEIGHT * level)) > 0:
        full, partial = divmod(count, TILE_WIDTH)
        tiles += [(level, index, TILE_WIDTH) for index in range(full)]
        tiles += [(level, full, partial)] if partial else []
        level += 1
    return tiles


def _tile_span(level: int, index: int) -> tuple[int, int, int, int]:
    """The tile level, tile index, offset and count of the tile hashes below tree node (level, index)."""
    tile_level, height = divmod(level, TILE_HEIGHT)
    tile_index, offset = divmod(index << height, TILE_WIDTH)
    return tile_level, tile_index, offset, 1 << height


def tiles_for_nodes(nodes: Sequence[tuple[int, int]], size: int) -> list[Tile]:
    """The (level, index, width) tiles, in a tree of size leaves, that hold what nodes need."""
    wanted = dict.fromkeys(_tile_span(level, index)[:2] for level, index in nodes)
    return [(level, index, _width(level, index, size)) for level, index in wanted]


class TileHashReader:
    """A merkle.HashReader over fetched tiles: roots and proofs for a client that mirrors the tiles."""

    def __init__(self, tiles: Mapping[tuple[int, int], bytes], size: int) -> None:
        """A reader over tile bytes keyed by (level, index), for the tree of size leaves."""
        for (level, index), data in tiles.items():
            if not data or len(data) % merkle.HASH_SIZE or len(data) > TILE_WIDTH * merkle.HASH_SIZE:
                raise ValueError(f"tile {level}/{index} is {len(data)} bytes, not 1 to 256 hashes")
        self.tiles, self.size = dict(tiles), size

    def __call__(self, nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        """The hashes of complete subtrees (level, index), recomputed from the tiles below them."""
        return [self._hash(level, index) for level, index in nodes]

    def _hash(self, level: int, index: int) -> bytes:
        """The hash of one complete subtree from the 1 to 128 tile hashes it spans."""
        if (index + 1) << level > self.size:
            raise ValueError(
                f"node ({level}, {index}) is not a complete subtree of a tree of size {self.size}"
            )
        tile_level, tile_index, offset, count = _tile_span(level, index)
        data = self.tiles.get((tile_level, tile_index))
        if data is None or len(data) < (offset + count) * merkle.HASH_SIZE:
            raise KeyError(
                f"tile {tile_level}/{tile_index} is not held, or too narrow, for node ({level}, {index})"
            )
        size = merkle.HASH_SIZE
        return merkle.root_of_leaf_hashes(
            [data[i * size : (i + 1) * size] for i in range(offset, offset + count)]
        )
