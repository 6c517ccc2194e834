"""The community list and search benchmark: a mix of browse, search and filter requests over HTTP.

One keep-alive `httpx.Client` sends the requests one after another; each latency is the wall time of
one GET, from sending it to having read the whole JSON body.
"""

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from aicommons.communities.models import Format
from aicommons.core.vocabulary import Region, Sector
from benchmarks.corpus import RARE_WORDS

PATH = "/api/v1/communities"
KINDS = ("browse", "search", "filter", "member")
COMMON_WORDS = ("water", "data", "health", "network", "open", "farmers", "climate", "lab")
MISSING_WORDS = ("zzqx", "blockchain", "quantum")
WARMUP = 60
PAGE_SIZE = 20

Params = dict[str, str | int]


@dataclass(frozen=True)
class Probe:
    """One request of the mix: its kind, its query parameters, whether a member sends it, and where."""

    kind: str
    params: Params
    as_member: bool = False
    path: str = PATH

    @property
    def url(self) -> str:
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path


@dataclass(frozen=True)
class Timing:
    probe: Probe
    ms: float


def mix(*, per_kind: int, pages: int, seed: int = 7) -> list[Probe]:
    """`per_kind` requests of each kind, shuffled so every kind meets the same conditions."""
    rng = random.Random(seed)
    makers: dict[str, Callable[[], Probe]] = {
        "browse": lambda: _browse(rng, pages),
        "search": lambda: _search(rng),
        "filter": lambda: _filter(rng),
        "member": lambda: _as_member(rng, pages),
    }
    probes = [makers[kind]() for kind in KINDS for _ in range(per_kind)]
    rng.shuffle(probes)
    return probes


def _browse(rng: random.Random, pages: int) -> Probe:
    """Page 1 four times in ten, otherwise any page down to the last."""
    page = 1 if rng.random() < 0.4 else rng.randint(2, max(2, pages))
    return Probe("browse", {"page": page})


def _search(rng: random.Random) -> Probe:
    roll = rng.random()
    if roll < 0.5:
        return Probe("search", {"q": rng.choice(COMMON_WORDS), "page": rng.choice((1, 1, 1, 2, 5))})
    return Probe("search", {"q": rng.choice(RARE_WORDS if roll < 0.85 else MISSING_WORDS)})


def _filter(rng: random.Random) -> Probe:
    choices: dict[str, str | int] = {
        "format": str(rng.choice(list(Format))),
        "sector": str(rng.choice(list(Sector))),
        "sdg": rng.randint(1, 17),
        "region": str(rng.choice(list(Region))),
    }
    params: Params = dict(rng.sample(sorted(choices.items()), rng.randint(1, 2)))
    if rng.random() < 0.4:
        params["q"] = rng.choice(COMMON_WORDS)
    return Probe("filter", params)


def _as_member(rng: random.Random, pages: int) -> Probe:
    """Any of the anonymous kinds, or the member's own communities, sent with the member's token."""
    if rng.random() < 0.1:
        return Probe("member", {"mine": "true"}, as_member=True)
    anonymous = rng.choice((lambda: _browse(rng, pages), lambda: _search(rng), lambda: _filter(rng)))()
    return Probe("member", anonymous.params, as_member=True)


def page_count(client: httpx.Client) -> int:
    """How many pages of PAGE_SIZE the anonymous browse list has."""
    total = int(client.get(PATH, params={"size": 1}).raise_for_status().json()["total"])
    return max(1, math.ceil(total / PAGE_SIZE))


def run(client: httpx.Client, probes: list[Probe], token: str) -> list[Timing]:
    """Warm up on the first requests of the mix, then time every request of it."""
    member = {"Authorization": f"Bearer {token}"}
    for probe in probes[:WARMUP]:
        _send(client, probe, member)
    return [Timing(probe, _send(client, probe, member)) for probe in probes]


def _send(client: httpx.Client, probe: Probe, member_headers: dict[str, str]) -> float:
    headers = member_headers if probe.as_member else None
    started = time.perf_counter()
    response = client.get(probe.path, params=probe.params, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {probe.url} answered {response.status_code}: {response.text[:300]}")
    return elapsed
