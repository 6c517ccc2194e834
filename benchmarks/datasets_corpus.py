"""A large data catalog: dataset rows with their SDG and sector rows, built from the commons' word lists.

Titles and summaries use the words of `corpus` (the community benchmark's), so the search words of
`search` hit about as often here: common words in many datasets, each rare word in about twenty of
10,000. Everything comes from one seeded `random.Random`, so two runs build the same catalog.
"""

import random
from dataclasses import dataclass, field
from datetime import timedelta

from aicommons.core.vocabulary import Sector
from aicommons.datasets.licenses import SPDX_LICENSES
from aicommons.datasets.models import Policy
from benchmarks.corpus import (
    ACTIVITIES,
    AUDIENCES,
    NOW,
    PLACES,
    RARE_SHARE,
    RARE_WORDS,
    TOPICS,
    Row,
)

DATA_NOUNS = ("survey", "readings", "census", "records", "observations", "registry", "prices", "yields")
POLICY_WEIGHTS = {Policy.OPEN: 60, Policy.GATED: 20, Policy.PRICED: 10, Policy.FEDERATED: 10}
POPULAR_LICENSES = ("CC-BY-4.0", "CC0-1.0", "CC-BY-SA-4.0", "ODbL-1.0")
FILE_FORMATS = ("csv", "csv", "parquet", "")  # "": registered, no version yet


@dataclass
class Catalog:
    """Every row of the generated catalog, by table."""

    datasets: list[Row] = field(default_factory=list)
    sectors: list[Row] = field(default_factory=list)
    sdgs: list[Row] = field(default_factory=list)

    def tables(self) -> dict[str, list[Row]]:
        return {"dataset": self.datasets, "dataset_sector": self.sectors, "dataset_sdg": self.sdgs}


def build(*, datasets: int, members: int, communities: int, seed: int = 2026) -> Catalog:
    """`datasets` datasets owned by members 1..`members` or, one in three, communities 1..`communities`."""
    rng, catalog = random.Random(seed), Catalog()
    for dataset_id in range(1, datasets + 1):
        catalog.datasets.append(_dataset(rng, dataset_id, members=members, communities=communities))
        sectors = rng.sample([str(sector) for sector in Sector], rng.randint(1, 3))
        catalog.sectors += [{"dataset_id": dataset_id, "sector": sector} for sector in sectors]
        goals = rng.sample(range(1, 18), rng.randint(1, 4))
        catalog.sdgs += [{"dataset_id": dataset_id, "goal": goal} for goal in goals]
    return catalog


def _dataset(rng: random.Random, dataset_id: int, *, members: int, communities: int) -> Row:
    title = f"{rng.choice(PLACES)} {rng.choice(TOPICS).lower()} {rng.choice(DATA_NOUNS)}"
    summary = _summary(rng)
    keywords = sorted({rng.choice(TOPICS).lower() for _ in range(rng.randint(1, 4))})
    policy = rng.choices(list(POLICY_WEIGHTS), weights=list(POLICY_WEIGHTS.values()))[0]
    owner = rng.randint(1, members)
    community = rng.randint(1, communities) if communities and rng.random() < 1 / 3 else None
    return {
        "id": dataset_id,
        "slug": f"{title.lower().replace(' ', '-')[:48]}-{dataset_id}",
        "title": title.title(),
        "summary": summary,
        "license": rng.choice(POPULAR_LICENSES) if rng.random() < 0.7 else rng.choice(list(SPDX_LICENSES)),
        "policy": str(policy),
        "price": rng.randint(10, 1_000) if policy == Policy.PRICED else 0,
        "keywords": keywords,
        "datasheet": {},
        "request_fields": [],
        "search_text": " ".join([title, summary, *keywords]).lower(),
        "file_format": "federated" if policy == Policy.FEDERATED else rng.choice(FILE_FORMATS),
        "version_count": rng.randint(0, 5),
        "download_count": rng.randint(0, 500),
        "owner_member_id": None if community else owner,
        "owner_community_id": community,
        "created_by_id": owner,
        "created_at": NOW - timedelta(minutes=rng.randint(0, 2 * 525_600)),
    }


def _summary(rng: random.Random) -> str:
    sentences = [
        f"Collected by {rng.choice(AUDIENCES)} in {rng.choice(PLACES)} who {rng.choice(ACTIVITIES)}.",
        f"Covers {rng.choice(TOPICS).lower()} and {rng.choice(TOPICS).lower()}, updated monthly.",
    ]
    sentences += [f"Includes {word}." for word in RARE_WORDS if rng.random() < RARE_SHARE]
    return " ".join(sentences)
