"""The auditor's side of the log: mirror it, recompute everything from its entries, remember what was seen.

A source is a commons' URL (its log under ``<URL>/ledger/``, its balances under
``<URL>/api/v1/ledger/balances``) or a mirror directory laid out like those URLs: ``checkpoint``,
``key``, ``tile/<L>/<N>[.p/<W>]``, ``tile/entries/<N>[.p/<W>]`` and ``balances.json``.

A state directory keeps, as a witness does, the verifier key pinned on first use (``verifier-key``)
and the last checkpoint verified (``witness-state``): a later checkpoint must extend it.
"""

import json
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from aicommons.ledger import merkle, note, tiles, tokens

CHECKPOINT = "checkpoint"
KEY = "key"
BALANCES = "balances.json"
STATE = "witness-state"
PINNED_KEY = "verifier-key"
WORKERS = 8  # parallel requests: enough to hide the round trips, few enough to be polite
WINDOW = 64  # files fetched ahead of the one being checked
TIMEOUT = 30.0
_TRANSFER = tokens.TRANSFER_EVENT.encode()

Progress = Callable[[int, int], None]  # (done, total)


class AuditError(Exception):
    """The log, its tiles or its balances disagree with what they must be; `what` names the check."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(f"{what}: {message}")
        self.what, self.message = what, message


@dataclass(frozen=True)
class Report:
    """What a verification established."""

    origin: str
    size: int
    root: bytes
    previous_size: int | None  # the checkpoint seen before, which this one extends
    accounts: int | None  # balances compared, None when the source reports none
    cosignatures: int  # signature lines beyond the log's own
    witnessed: int = 0  # of those, cosignatures verified with the witness keys given


class Source(Protocol):
    """Where a log is read from."""

    def read(self, path: str) -> bytes: ...

    def balances(self, size: int) -> dict[str, int] | None: ...

    def close(self) -> None: ...


class HttpSource:
    """A commons served over HTTP: one keep-alive client shared by the fetching threads."""

    def __init__(self, url: str, *, workers: int = WORKERS) -> None:
        self.url = url.rstrip("/").removesuffix("/ledger")
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        self.client = httpx.Client(base_url=self.url, timeout=TIMEOUT, limits=limits, follow_redirects=True)

    def _get(self, path: str, params: dict[str, int] | None = None) -> httpx.Response:
        try:
            response = self.client.get(path, params=params)
        except httpx.HTTPError as error:
            raise AuditError("source", f"could not fetch {self.url}{path}: {error}") from error
        if response.status_code not in (200, 404):
            raise AuditError("source", f"{self.url}{path} answered HTTP {response.status_code}")
        return response

    def read(self, path: str) -> bytes:
        response = self._get(f"/ledger/{path}")
        if response.status_code != 200:
            raise AuditError("source", f"{self.url}/ledger/{path} answered HTTP {response.status_code}")
        return response.content

    def balances(self, size: int) -> dict[str, int] | None:
        """The balances the commons reports for the first `size` entries; None from a static mirror."""
        response = self._get("/api/v1/ledger/balances", {"size": size})
        if response.status_code == 404:
            return None
        reported = response.json()
        if reported.get("size") != size:
            raise AuditError("balances", f"asked for the balances at size {size}, got {reported.get('size')}")
        return {str(owner): int(amount) for owner, amount in reported["balances"].items()}

    def close(self) -> None:
        self.client.close()


class Mirror:
    """A local copy of a log, in the layout of its URLs, so that it can be served or verified."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def read(self, path: str) -> bytes:
        try:
            return (self.directory / path).read_bytes()
        except FileNotFoundError as error:
            raise AuditError("source", f"the mirror {self.directory} has no {path}") from error

    def has(self, path: str) -> bool:
        return (self.directory / path).is_file()

    def write(self, path: str, data: bytes) -> None:
        _write_atomically(self.directory / path, data)

    def balances(self, size: int) -> dict[str, int] | None:
        """The balances the commons reported when the mirror was taken, if they are for `size`."""
        if not self.has(BALANCES):
            return None
        try:
            saved = json.loads(self.read(BALANCES))
            if saved.get("size") != size:
                return None
            return {str(owner): int(amount) for owner, amount in saved["balances"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise AuditError("balances", f"{BALANCES} in {self.directory} is not a balances file") from error

    def prune(self, keep: set[str]) -> None:
        """Delete the partial tiles that a newer checkpoint has superseded."""
        tile_files = [path for path in (self.directory / "tile").rglob("*") if path.is_file()]
        for path in tile_files:
            relative = path.relative_to(self.directory).as_posix()
            if ".p/" in relative and relative not in keep:
                path.unlink()
                if not any(path.parent.iterdir()):
                    path.parent.rmdir()

    def close(self) -> None:
        """Nothing to release."""


@contextmanager
def open_source(location: str, *, workers: int = WORKERS) -> Iterator[HttpSource | Mirror]:
    """The commons at an http(s) URL, or the mirror in a directory, closed when the block ends."""
    source: HttpSource | Mirror
    if location.startswith(("http://", "https://")):
        source = HttpSource(location, workers=workers)
    elif Path(location).is_dir():
        source = Mirror(Path(location))
    else:
        raise AuditError("source", f"{location} is neither an http(s) URL nor a mirror directory")
    try:
        yield source
    finally:
        source.close()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that a reader sees the old content or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class WitnessState:
    """The pinned verifier key and the last verified checkpoint, kept in a directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def pinned_key(self) -> str | None:
        path = self.directory / PINNED_KEY
        return path.read_text().strip() if path.is_file() else None

    def last_seen(self) -> note.Checkpoint | None:
        path = self.directory / STATE
        if not path.is_file():
            return None
        try:
            return note.Checkpoint.parse(note.open_note(path.read_text())[0])
        except (UnicodeDecodeError, note.NoteError) as error:
            raise AuditError("state", f"{path} is not a checkpoint note; remove it to start over") from error

    def remember(self, signed: str, key: str) -> None:
        """Keep `signed` as the last seen checkpoint, and pin `key` unless one is pinned already."""
        if self.pinned_key() is None:
            _write_atomically(self.directory / PINNED_KEY, f"{key}\n".encode())
        _write_atomically(self.directory / STATE, signed.encode())


def read_checkpoint(source: Source) -> tuple[str, note.Checkpoint]:
    """The signed note a source serves and its checkpoint, parsed but not yet verified."""
    try:
        signed = source.read(CHECKPOINT).decode()
        text, _ = note.open_note(signed)
        return signed, note.Checkpoint.parse(text)
    except (UnicodeDecodeError, note.NoteError) as error:
        raise AuditError("checkpoint", f"the checkpoint is not a signed checkpoint note: {error}") from error


def origin_of(location: str) -> str:
    """The origin line of the log at a URL or in a mirror (read, not verified)."""
    with open_source(location) as source:
        return read_checkpoint(source)[1].origin


def _verified(signed: str, key: str) -> tuple[note.Checkpoint, int]:
    """The checkpoint of a note, if `key` signed it, and how many other keys signed it too."""
    try:
        verifier = note.Verifier.from_key(key)
    except note.NoteError as error:
        raise AuditError("key", f"{key!r} is not a verifier key: {error}") from error
    try:
        checkpoint = note.Checkpoint.parse(verifier.verify(signed))
    except note.NoteError as error:
        raise AuditError(
            "signature", f"the checkpoint does not verify with the key {key}: {error}"
        ) from error
    return checkpoint, sum(1 for name, _, _ in note.open_note(signed)[1] if name != verifier.name)


def _paths(size: int) -> list[str]:
    """Every entry bundle and every tile of a tree of `size` entries."""
    bundles = [entries_path for _, entries_path, _ in _bundles(size)]
    return bundles + [tiles.tile_path(level, index, width) for level, index, width in tiles.tiles_for(size)]


def _bundles(size: int) -> list[tuple[int, str, str]]:
    """(width, entry bundle path, level-0 tile path) of each group of 256 entries."""
    widths = [min(tiles.TILE_WIDTH, size - start) for start in range(0, size, tiles.TILE_WIDTH)]
    return [
        (width, tiles.entries_path(index, width), tiles.tile_path(0, index, width))
        for index, width in enumerate(widths)
    ]


def _fetch(source: Source, paths: Sequence[str], workers: int) -> Iterator[bytes]:
    """The contents of `paths` in order, fetched a window ahead by a pool of threads."""
    pool = ThreadPoolExecutor(max_workers=workers)
    pending: deque[Future[bytes]] = deque()
    try:
        for path in paths:
            pending.append(pool.submit(source.read, path))
            if len(pending) >= WINDOW:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _refuse_rollback(mirror: Mirror, checkpoint: note.Checkpoint) -> None:
    """Keep a mirror's checkpoint rather than replace it with a smaller one."""
    if mirror.has(CHECKPOINT):
        _, held = read_checkpoint(mirror)
        if held.size > checkpoint.size:
            raise AuditError(
                "rollback", f"the mirror holds size {held.size} and the log now claims size {checkpoint.size}"
            )


def sync(url: str, directory: Path, *, progress: Progress | None = None, workers: int = WORKERS) -> int:
    """Bring the mirror in `directory` up to the newest checkpoint at `url`; returns the files fetched.

    Full tiles and bundles never change, so only what is missing is fetched; the checkpoint is written
    last, so the mirror never names tiles it does not hold.
    """
    mirror = Mirror(directory)
    with open_source(url, workers=workers) as source:
        signed, checkpoint = read_checkpoint(source)
        _refuse_rollback(mirror, checkpoint)
        wanted = _paths(checkpoint.size)
        missing = [path for path in wanted if not mirror.has(path)]
        for done, (path, data) in enumerate(zip(missing, _fetch(source, missing, workers), strict=True), 1):
            mirror.write(path, data)
            if progress:
                progress(done, len(missing))
        if not mirror.has(KEY):
            mirror.write(KEY, source.read(KEY))
        claimed = source.balances(checkpoint.size)
        if claimed is not None:
            saved = {"size": checkpoint.size, "balances": claimed}
            mirror.write(BALANCES, json.dumps(saved, indent=1).encode())
        mirror.write(CHECKPOINT, signed.encode())
    mirror.prune(set(wanted))
    return len(missing)


@dataclass
class _Entries:
    """What the entries of a log say: every complete subtree hash, the replayed balances, a bad tile."""

    levels: list[list[bytes]]
    balances: dict[str, int]
    bad_tile: str | None = None

    def hashes(self, nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        """A merkle.HashReader over the recomputed complete subtrees."""
        return [self.levels[level][index] for level, index in nodes]


def _bundle_leaves(path: str, data: bytes, width: int) -> tuple[list[bytes], list[bytes]]:
    """The entries of a bundle and their leaf hashes, checked for count."""
    try:
        entries = tiles.decode_bundle(data)
    except ValueError as error:
        raise AuditError("entries", f"{path} is not an entry bundle: {error}") from error
    if len(entries) != width:
        raise AuditError("entries", f"{path} holds {len(entries)} entries, not {width}")
    return entries, [merkle.leaf_hash(entry) for entry in entries]


def _replay(entries: Iterable[bytes], totals: dict[str, int], first: int) -> None:
    """Add the transfers among `entries` (numbered from `first`) to `totals`."""
    documents = []
    for offset, entry in enumerate(entries):
        if _TRANSFER in entry:  # a cheap filter: replay() itself checks the event
            try:
                documents.append(json.loads(entry))
            except ValueError as error:
                raise AuditError("entries", f"entry {first + offset} is not JSON") from error
    try:
        moved = tokens.replay(documents)
    except (KeyError, TypeError, ValueError) as error:
        raise AuditError("entries", f"a transfer among entries {first}.. is malformed: {error}") from error
    for owner, amount in moved.items():
        totals[owner] = totals.get(owner, 0) + amount


def _read_entries(source: Source, size: int, progress: Progress | None, workers: int) -> _Entries:
    """Every entry's leaf hash, compared with the level-0 tiles, and the balances they replay to."""
    groups = _bundles(size)
    paths = [path for _, bundle, tile in groups for path in (bundle, tile)]
    fetched = _fetch(source, paths, workers)
    found = _Entries(levels=[[]], balances={})
    for width, bundle, tile in groups:
        entries, leaves = _bundle_leaves(bundle, next(fetched), width)
        if next(fetched) != b"".join(leaves) and found.bad_tile is None:
            found.bad_tile = tile
        _replay(entries, found.balances, len(found.levels[0]))
        found.levels[0] += leaves
        if progress:
            progress(len(found.levels[0]), size)
    found.balances = {owner: amount for owner, amount in sorted(found.balances.items()) if amount}
    _complete_subtrees(found.levels)
    return found


def _complete_subtrees(levels: list[list[bytes]]) -> None:
    """Fill in every level above the leaves: levels[k][i] is the hash of complete subtree (k, i)."""
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [merkle.node_hash(left, right) for left, right in zip(below[0::2], below[1::2], strict=False)]
        )


def _check_tiles(source: Source, size: int, found: _Entries, workers: int) -> None:
    """Every tile must hold the hashes recomputed from the entries."""
    if found.bad_tile:
        raise AuditError("tile", f"{found.bad_tile} does not hold the leaf hashes of the entries")
    upper = [(level, index, width) for level, index, width in tiles.tiles_for(size) if level > 0]
    paths = [tiles.tile_path(level, index, width) for level, index, width in upper]
    for (level, index, width), path, data in zip(upper, paths, _fetch(source, paths, workers), strict=True):
        start = index * tiles.TILE_WIDTH
        if data != b"".join(found.levels[level * tiles.TILE_HEIGHT][start : start + width]):
            raise AuditError("tile", f"{path} does not hold the hashes recomputed from the entries")


def _check_history(previous: note.Checkpoint | None, checkpoint: note.Checkpoint) -> None:
    """Refuse, before fetching anything, a checkpoint of another log, an older one, or a same-size fork."""
    if previous is None:
        return
    if previous.origin != checkpoint.origin:
        raise AuditError("origin", f"the state is of the log {previous.origin!r}, not {checkpoint.origin!r}")
    if checkpoint.size < previous.size:
        raise AuditError(
            "rollback",
            f"the log was at size {previous.size} when last verified and now claims size {checkpoint.size}",
        )
    if checkpoint.size == previous.size and checkpoint.root != previous.root:
        raise AuditError("fork", f"two different checkpoints of size {checkpoint.size} are signed")


def _check_consistency(previous: note.Checkpoint | None, found: _Entries) -> None:
    """The first entries of the log must still hash to the root of the checkpoint seen before."""
    if previous is None or previous.size == 0:
        return
    if merkle.tree_root(previous.size, found.hashes) != previous.root:
        raise AuditError(
            "fork",
            f"the first {previous.size} entries no longer hash to the root of the checkpoint verified "
            "before: the log rewrote its history",
        )


def _check_balances(claimed: dict[str, int] | None, replayed: dict[str, int]) -> int | None:
    """The balances the commons reports must be those the log's transfers replay to."""
    if claimed is None:
        return None
    differing = sorted(
        owner for owner in claimed.keys() | replayed.keys() if claimed.get(owner, 0) != replayed.get(owner, 0)
    )
    if differing:
        shown = "; ".join(
            f"{owner}: the log gives {replayed.get(owner, 0)}, the commons reports {claimed.get(owner, 0)}"
            for owner in differing[:10]
        )
        more = f" (and {len(differing) - 10} more)" if len(differing) > 10 else ""
        raise AuditError("balances", f"{len(differing)} account(s) differ: {shown}{more}")
    return len(claimed)


def verify(
    location: str,
    *,
    verifier_key: str | None = None,
    state_dir: Path,
    progress: Progress | None = None,
    workers: int = WORKERS,
    witness_keys: Sequence[str] = (),
    quorum: int | None = None,
) -> Report:
    """Verify the whole log at a URL or in a mirror, and remember its checkpoint as the last seen.

    The key is `verifier_key`, else the one pinned in `state_dir`, else the one the source serves
    (trusted on first use, then pinned). With `witness_keys`, at least `quorum` of those witnesses
    (all of them by default) must have cosigned the checkpoint. Raises AuditError naming the first
    check that fails.
    """
    state = WitnessState(state_dir)
    with open_source(location, workers=workers) as source:
        key = verifier_key or state.pinned_key() or source.read(KEY).decode().strip()
        signed, _ = read_checkpoint(source)
        checkpoint, cosignatures = _verified(signed, key)
        witnessed = _check_witnesses(signed, witness_keys, len(witness_keys) if quorum is None else quorum)
        previous = state.last_seen()
        _check_history(previous, checkpoint)
        found = _read_entries(source, checkpoint.size, progress, workers)
        root = merkle.tree_root(checkpoint.size, found.hashes)
        if root != checkpoint.root:
            raise AuditError(
                "root", f"the {checkpoint.size} entries hash to a root the checkpoint does not sign"
            )
        _check_tiles(source, checkpoint.size, found, workers)
        _check_consistency(previous, found)
        accounts = _check_balances(source.balances(checkpoint.size), found.balances)
    state.remember(signed, key)
    previous_size = previous.size if previous else None
    return Report(checkpoint.origin, checkpoint.size, root, previous_size, accounts, cosignatures, witnessed)


def _check_witnesses(signed: str, keys: Sequence[str], quorum: int) -> int:
    """How many of the witnesses with `keys` cosigned the checkpoint; fewer than `quorum` is an error."""
    witnessed = sum(1 for key in keys if _cosigned_by(signed, key))
    if witnessed < quorum:
        raise AuditError(
            "witnesses", f"{witnessed} of the {len(keys)} witnesses given cosigned; {quorum} needed"
        )
    return witnessed


def _cosigned_by(signed: str, key: str) -> bool:
    try:
        note.CosignatureVerifier.from_key(key).verify_note(signed)
    except note.NoteError:
        return False
    return True
