"""Recounting a proposal's tally from the transparency log alone, as an auditor does, to compare it with
what the commons publishes.

The log holds all it takes: the `open` entry names the method, the number of options, the snapshot (the
log's size when the voting opened), the electorate's power and the quorum; each `governance:vote:cast`
entry a voter's choice and claimed power; the `succeed` or `defeat` entry the tally recorded at the close.
The recount finds the electorate in the snapshot's entries (governance/electorate.py) and leaves out the
votes of anyone outside it, replays the snapshot's token transfers to check every claimed power, keeps each
voter's last vote, and counts with the same code as the commons (governance/tally.py).
"""

import json
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from aicommons.governance import electorate, tally
from aicommons.governance.models import Method
from aicommons.ledger import audit, merkle, note, tiles, tokens

OPEN = "governance:proposal:open"
VOTE = "governance:vote:cast"
CLOSED = frozenset({"governance:proposal:succeed", "governance:proposal:defeat"})
TRANSFER = tokens.TRANSFER_EVENT.encode()
COMPARED = (
    "method",
    "voters",
    "participation",
    "quorum",
    "quorum_reached",
    "counts",
    "rounds",
    "winner",
    "passed",
)

Progress = Callable[[int, int], None]  # (entries read, entries in all)


@dataclass(frozen=True)
class Recount:
    """What the log says of one proposal, and what the commons publishes of it."""

    proposal: int
    size: int  # entries of the log read
    tally: dict[str, Any] | None  # recounted; None when the log shows no voting opened
    recorded: dict[str, Any] | None  # the tally the log recorded at the close
    published: dict[str, Any] | None  # the tally the commons' API publishes (none from a mirror)
    votes: int  # vote entries read, changed votes included
    electorate: int | None = None  # the electorate's power at the snapshot, recounted
    wrong_power: list[str] = field(default_factory=list)
    ineligible: list[str] = field(default_factory=list)  # votes of those outside the electorate: not counted
    wrong_electorate: list[str] = field(default_factory=list)

    def differences(self) -> list[str]:
        """Every disagreement between the recount and what was recorded or published."""
        found = [*self.wrong_power, *self.ineligible, *self.wrong_electorate]
        if self.tally is None:
            return [*found, f"the log shows no voting on proposal {self.proposal}"]
        for source, other in (
            ("the log's close entry", self.recorded),
            ("the published tally", self.published),
        ):
            shown = other or {}
            found += [
                f"{key}: recounted {self.tally[key]}, {source} says {shown.get(key)}"
                for key in COMPARED
                if other is not None and shown.get(key) != self.tally[key]
            ]
        return found


def recount(bodies: Sequence[bytes], proposal_id: int) -> Recount:
    """What the log's entries (their bytes, in log order) say of the proposal: its tally recounted, and
    the one recorded. Only the proposal's entries, and the transfers its snapshot replays, are read."""
    casts, others = _proposal_entries(bodies, proposal_id)
    opening = next((entry for entry in others if entry["event"] == OPEN), None)
    recorded = next((entry["data"]["tally"] for entry in others if entry["event"] in CLOSED), None)
    found = Recount(proposal_id, len(bodies), None, recorded, None, len(casts))
    if opening is None:
        return found
    return _count(found, bodies, casts, opening)


def _count(found: Recount, bodies: Sequence[bytes], casts: list["Cast"], opening: dict[str, Any]) -> Recount:
    """Each elector's last vote, with the power the snapshot gives them; the votes of others are left out."""
    opened = opening["data"]
    method, size = Method(opened["method"]), opened["snapshot"]
    community = (opening.get("subject") or {}).get("community")
    powers = _powers(method, bodies[:size], community)
    last: dict[str, tally.Ballot] = {}
    where = "the commons" if community is None else f"community {community}"
    for actor, choice, claimed in casts:
        power = powers.get(actor)
        if power is None:
            found.ineligible.append(
                f"{actor} voted, but was not a member of {where} in the log's first {size} entries"
            )
            continue
        if claimed != power:
            found.wrong_power.append(f"{actor} voted with power {claimed}; the snapshot gives {power}")
        last[actor] = (choice, power)
    counted = tally.count(method, opened["options"], last.values(), opened["quorum"])
    total = sum(powers.values())
    return replace(
        found, tally=counted.document(), electorate=total, wrong_electorate=_compare_electorate(total, opened)
    )


def _powers(method: Method, snapshot: Sequence[bytes], community_id: int | None) -> dict[str, int]:
    """Each elector's power ("member:12" -> 1): one each, or from the tokens the snapshot's transfers give."""
    electors = [f"member:{number}" for number in _electorate(snapshot, community_id)]
    if method not in tally.TOKEN_METHODS:
        return dict.fromkeys(electors, tally.power(method, 0))
    held = _snapshot(snapshot)
    return {elector: tally.power(method, held.get(elector, 0)) for elector in electors}


def _compare_electorate(power: int, opened: dict[str, Any]) -> list[str]:
    """The electorate's power recounted against the `open` entry's (entries from before it was recorded
    name none)."""
    if "electorate" not in opened or opened["electorate"] == power:
        return []
    return [f"electorate: recounted {power}, the log's open entry says {opened['electorate']}"]


# Entries are canonical JSON (sorted keys, no spaces: ledger/entries.py), so the kinds a recount reads by
# the hundred thousand, votes, transfers and signups, are read by pattern, several times faster than by
# parsing (benchmarks/governance.py); an entry that the pattern does not match is parsed, to the same fields.
_VOTE = re.compile(
    rb'\{"actor":"(member:[0-9]+)","at":"[^"]*","data":\{"choice":("[a-z]+"|\[[0-9,]*\]),"power":([0-9]+)\},'
    rb'"event":"governance:vote:cast","subject":\{(?:"community":[0-9]+,)?"proposal":([0-9]+)\},"v":1\}'
)
_TRANSFER = re.compile(
    rb'\{"actor":(?:null|"member:[0-9]+"),"at":"[^"]*","data":\{"amount":([0-9]+),"from":"([^"\\]*)",'
    rb'(?:"[a-z]+":"[^"\\]*",)*"to":"([^"\\]*)"\},"event":"ledger:transfer:create","subject":\{\},"v":1\}'
)
_SIGNUP = re.compile(
    rb'\{"actor":"(member:[0-9]+)","at":"[^"]*","data":\{"role":"[a-z]+"\},"event":"members:member:signup",'
    rb'"subject":\{\},"v":1\}'
)
Cast = tuple[str, tally.Choice, int]  # the voter, the choice, the power claimed


def _proposal_entries(bodies: Sequence[bytes], proposal_id: int) -> tuple[list[Cast], list[dict[str, Any]]]:
    """The proposal's votes, and its other entries, in log order; the subject's bytes filter the rest out
    unread."""
    marker, casts, others = f'"proposal":{proposal_id}}}'.encode(), [], []
    choices: dict[bytes, tally.Choice] = {}  # a choice's bytes read once: votes share few choices
    for body in bodies:
        if marker not in body:
            continue
        matched = _VOTE.fullmatch(body)
        if matched:
            text = matched[2]
            choice = choices.get(text) or choices.setdefault(text, _choice(text))
            casts.append((matched[1].decode(), choice, int(matched[3])))
            continue
        entry = _json(body)
        if not _of(entry, proposal_id):
            continue
        if entry["event"] == VOTE:
            casts.append((entry["actor"], entry["data"]["choice"], entry["data"]["power"]))
        else:
            others.append(entry)
    return casts, others


def _choice(text: bytes) -> tally.Choice:
    return text[1:-1].decode() if text.startswith(b'"') else [int(n) for n in text[1:-1].split(b",") if n]


def _electorate(bodies: Sequence[bytes], community_id: int | None) -> set[int]:
    """Who may vote, from the snapshot's entries: only the electorate's events are read, signups by
    pattern (there is one per member)."""
    marker = b'"event":"members:member:signup"' if community_id is None else b'"event":"communities:member:'
    return electorate.members_at((_membership(body) for body in bodies if marker in body), community_id)


def _membership(body: bytes) -> dict[str, Any]:
    matched = _SIGNUP.fullmatch(body)
    if matched is None:
        return _json(body)
    return {"event": electorate.SIGNUP, "actor": matched[1].decode()}


def _snapshot(bodies: Sequence[bytes]) -> dict[str, int]:
    """The balances the transfers among the snapshot's entries replay to (as `tokens.replay` does)."""
    return tokens.replay(_transfer(body) for body in bodies if TRANSFER in body)


def _transfer(body: bytes) -> dict[str, Any]:
    matched = _TRANSFER.fullmatch(body)
    if matched is None:
        return _json(body)
    data = {"from": matched[2].decode(), "to": matched[3].decode(), "amount": int(matched[1])}
    return {"event": tokens.TRANSFER_EVENT, "data": data}


def _json(body: bytes) -> dict[str, Any]:
    try:
        entry: dict[str, Any] = json.loads(body)
    except ValueError as error:
        raise audit.AuditError("entries", f"an entry of the log is not JSON: {error}") from error
    return entry


def _of(entry: dict[str, Any], proposal_id: int) -> bool:
    subject = entry.get("subject") or {}
    return str(entry.get("event", "")).startswith("governance:") and subject.get("proposal") == proposal_id


def check(location: str, proposal_id: int, *, progress: Progress | None = None) -> Recount:
    """Read the log at a commons' URL (or in a mirror), recount the proposal, and fetch the published
    tally to compare. Raises audit.AuditError when the log does not verify."""
    recounted = recount(read_log(location, progress=progress), proposal_id)
    return replace(recounted, published=published_tally(location, proposal_id))


def read_log(location: str, *, progress: Progress | None = None) -> list[bytes]:
    """Every entry of the log under its signed checkpoint, checked against the checkpoint's root."""
    with audit.open_source(location) as source:
        signed, checkpoint = audit.read_checkpoint(source)
        key = source.read(audit.KEY).decode().strip()
        try:
            note.Verifier.from_key(key).verify(signed)
        except note.NoteError as error:
            raise audit.AuditError("signature", f"the checkpoint does not verify: {error}") from error
        bodies = _bodies(source, checkpoint.size, progress)
    if merkle.root_of_leaf_hashes([merkle.leaf_hash(body) for body in bodies]) != checkpoint.root:
        raise audit.AuditError("root", f"the {checkpoint.size} entries do not hash to the checkpoint's root")
    return bodies


def _bodies(source: audit.HttpSource | audit.Mirror, size: int, progress: Progress | None) -> list[bytes]:
    starts = range(0, size, tiles.TILE_WIDTH)
    paths = [tiles.entries_path(n, min(tiles.TILE_WIDTH, size - start)) for n, start in enumerate(starts)]
    bodies: list[bytes] = []
    with ThreadPoolExecutor(max_workers=audit.WORKERS) as pool:
        for path, bundle in zip(paths, pool.map(source.read, paths), strict=True):
            try:
                bodies += tiles.decode_bundle(bundle)
            except ValueError as error:
                raise audit.AuditError("entries", f"{path} is not an entry bundle: {error}") from error
            if progress:
                progress(len(bodies), size)
    if len(bodies) != size:
        raise audit.AuditError("entries", f"the bundles hold {len(bodies)} entries, not {size}")
    return bodies


def published_tally(location: str, proposal_id: int) -> dict[str, Any] | None:
    """The tally a commons publishes for the proposal; none from a mirror, or for a proposal it hides."""
    if not location.startswith(("http://", "https://")):
        return None
    url = f"{location.rstrip('/').removesuffix('/ledger')}/api/v1/governance/proposals/{proposal_id}/tally"
    try:
        response = httpx.get(url, timeout=audit.TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as error:
        raise audit.AuditError("source", f"could not fetch {url}: {error}") from error
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise audit.AuditError("source", f"{url} answered HTTP {response.status_code}")
    published: dict[str, Any] = response.json()
    return published
