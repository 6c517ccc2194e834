"""Believable rows for a large commons: members, communities, their tags and memberships, from word lists.

Everything comes from one seeded `random.Random`, so two runs build the same commons.
"""

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aicommons.communities.models import Format, JoinPolicy, MembershipStatus, Role, Visibility
from aicommons.core.vocabulary import Region, Sector
from aicommons.members.models import GlobalRole

Row = dict[str, Any]
T = TypeVar("T")

FIRST_NAMES = (
    "amina",
    "kofi",
    "lucia",
    "raj",
    "mei",
    "tom",
    "sara",
    "olu",
    "ines",
    "yuki",
    "pita",
    "nadia",
    "jonas",
    "fatima",
    "grace",
    "hugo",
    "priya",
    "marta",
    "sam",
    "ahmed",
    "liam",
    "ana",
    "chen",
    "diego",
    "elena",
    "farah",
    "gabriel",
    "hana",
    "ivan",
    "jamal",
    "kemi",
    "lars",
    "maya",
    "noor",
    "omar",
    "paula",
    "quang",
    "rosa",
    "sven",
    "tariq",
    "uma",
    "vera",
    "wei",
    "xochitl",
    "yara",
    "zane",
)
LAST_NAMES = (
    "diallo",
    "mensah",
    "fernandez",
    "patel",
    "chen",
    "becker",
    "haddad",
    "adeyemi",
    "costa",
    "tanaka",
    "taufa",
    "rahman",
    "berg",
    "zahra",
    "okafor",
    "nguyen",
    "silva",
    "kowalski",
    "moreau",
    "rossi",
    "yilmaz",
    "novak",
    "kim",
    "singh",
    "garcia",
    "ivanova",
    "mwangi",
    "lopez",
    "sato",
    "dubois",
)
ADJECTIVES = (
    "Open",
    "Community",
    "Local",
    "Global",
    "Rural",
    "Urban",
    "Coastal",
    "Youth",
    "Women's",
    "Indigenous",
    "Regional",
    "Public",
    "Shared",
    "Citizen",
    "Digital",
    "Resilient",
    "Inclusive",
    "Grassroots",
    "Federated",
    "Sustainable",
)
TOPICS = (
    "Water",
    "Health",
    "Climate",
    "Education",
    "Energy",
    "Farming",
    "Food Security",
    "Transport",
    "Labour Rights",
    "Justice",
    "Disaster Response",
    "Air Quality",
    "Data",
    "Maps",
    "Language",
    "Finance",
    "Housing",
    "Forests",
    "Oceans",
    "Mobility",
    "Nutrition",
    "Sanitation",
    "Elections",
    "Migration",
    "Biodiversity",
    "Soil",
    "Maternal Health",
    "Microgrid",
    "Fisheries",
)
NOUNS = (
    "Network",
    "Lab",
    "Circle",
    "Collective",
    "Alliance",
    "Working Group",
    "Forum",
    "Summit",
    "Task Force",
    "Observatory",
    "Hub",
    "Guild",
    "Commons",
    "Initiative",
    "Coalition",
    "Study Group",
    "Hackathon",
    "Council",
    "Exchange",
    "Cooperative",
)
PLACES = (
    "Dakar",
    "Nairobi",
    "Lagos",
    "Accra",
    "Bogota",
    "Lima",
    "Quito",
    "Dhaka",
    "Manila",
    "Jakarta",
    "Hanoi",
    "Lisbon",
    "Berlin",
    "Warsaw",
    "Suva",
    "Apia",
    "Kigali",
    "Lusaka",
    "Delhi",
    "Chennai",
    "Recife",
    "Cusco",
    "Oslo",
    "Tunis",
    "Amman",
)
AUDIENCES = (
    "smallholder farmers",
    "nurses",
    "teachers",
    "city planners",
    "fishers",
    "truck drivers",
    "students",
    "midwives",
    "journalists",
    "field coordinators",
    "engineers",
    "researchers",
    "volunteers",
    "lawyers",
    "health workers",
)
ACTIVITIES = (
    "share open data",
    "build forecasting models",
    "map risks",
    "train local models",
    "review policy drafts",
    "run monthly meetups",
    "publish datasets",
    "evaluate AI tools",
    "write field guides",
    "translate materials",
    "label satellite images",
    "monitor sensors",
)
RARE_WORDS = ("mangrove", "cassava", "geothermal", "braille", "tsunami", "permaculture", "quinoa", "lithium")
LANGUAGES = ("en", "fr", "es", "pt", "ar", "sw", "hi", "zh", "de", "bn", "yo", "id")
FORMAT_WEIGHTS = {
    Format.DISCUSSION: 35,
    Format.PROJECT: 30,
    Format.EVENT: 15,
    Format.POLICY: 10,
    Format.STRATEGIC: 10,
}
JOIN_WEIGHTS = {JoinPolicy.OPEN: 70, JoinPolicy.APPROVAL: 20, JoinPolicy.INVITE: 10}
NOW = datetime(2026, 6, 1, tzinfo=UTC)
RARE_SHARE = 0.002
PRIVATE_SHARE = 0.10
ARCHIVED_SHARE = 0.05
PENDING_SHARE = 0.2
MAX_MEMBERS_PER_COMMUNITY = 30


@dataclass
class Commons:
    """Every row of the generated commons, by table."""

    members: list[Row] = field(default_factory=list)
    communities: list[Row] = field(default_factory=list)
    sectors: list[Row] = field(default_factory=list)
    sdgs: list[Row] = field(default_factory=list)
    memberships: list[Row] = field(default_factory=list)


def build(*, members: int, communities: int, password_hash: str, seed: int = 2026) -> Commons:
    """A commons of `members` members and `communities` communities, each with 1 to 30 members."""
    rng = random.Random(seed)
    commons = Commons(members=[_member(rng, i, password_hash) for i in range(1, members + 1)])
    for community_id in range(1, communities + 1):
        _add_community(rng, commons, community_id, members)
    return commons


def _member(rng: random.Random, member_id: int, password_hash: str) -> Row:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    handle = f"{first}-{last}-{member_id}"[:32]
    return {
        "id": member_id,
        "handle": handle,
        "email": f"{handle}@example.org",
        "display_name": f"{first.title()} {last.title()}",
        "bio": f"Works with {rng.choice(AUDIENCES)} in {rng.choice(PLACES)}.",
        "sectors": rng.sample([str(s) for s in Sector], rng.randint(1, 2)),
        "languages": rng.sample(LANGUAGES, rng.randint(1, 3)),
        "role": GlobalRole.MODERATOR if rng.random() < 0.001 else GlobalRole.MEMBER,
        "password_hash": password_hash,
        "created_at": NOW - timedelta(minutes=rng.randint(0, 3 * 525_600)),
    }


def _add_community(rng: random.Random, commons: Commons, community_id: int, members: int) -> None:
    people = rng.sample(range(1, members + 1), rng.randint(1, min(MAX_MEMBERS_PER_COMMUNITY, members)))
    row = _community(rng, community_id, creator_id=people[0])
    rows = list(_memberships(rng, row, people))
    row["member_count"] = sum(r["status"] == MembershipStatus.ACTIVE for r in rows)
    commons.communities.append(row)
    commons.memberships.extend(rows)
    sectors = rng.sample([str(s) for s in Sector], rng.randint(1, 3))
    commons.sectors.extend({"community_id": community_id, "sector": s} for s in sectors)
    commons.sdgs.extend(
        {"community_id": community_id, "goal": g} for g in rng.sample(range(1, 18), rng.randint(1, 4))
    )


def _community(rng: random.Random, community_id: int, *, creator_id: int) -> Row:
    name = _name(rng)
    created_at = NOW - timedelta(minutes=rng.randint(0, 2 * 525_600))
    join_policy = _weighted(rng, JOIN_WEIGHTS)
    registered = rng.random() < 0.1
    return {
        "id": community_id,
        "slug": f"{_slug(name)[:40]}-{community_id}",
        "name": name,
        "format": _weighted(rng, FORMAT_WEIGHTS),
        "description": _description(rng),
        "region": rng.choice(list(Region)),
        "languages": rng.sample(LANGUAGES, rng.randint(1, 2)),
        "visibility": Visibility.PRIVATE if rng.random() < PRIVATE_SHARE else Visibility.PUBLIC,
        "join_policy": join_policy,
        "registered": registered,
        "channels": [{"name": "chat", "url": f"https://chat.example.org/{community_id}"}]
        if registered
        else [],
        "created_by_id": creator_id,
        "created_at": created_at,
        "archived_at": created_at + timedelta(days=30) if rng.random() < ARCHIVED_SHARE else None,
    }


def _memberships(rng: random.Random, community: Row, people: list[int]) -> Iterator[Row]:
    for position, member_id in enumerate(people):
        role = Role.STEWARD if position == 0 else Role.ORGANIZER if position < 3 else Role.MEMBER
        pending = (
            position > 0 and community["join_policy"] != JoinPolicy.OPEN and rng.random() < PENDING_SHARE
        )
        yield {
            "community_id": community["id"],
            "member_id": member_id,
            "role": Role.MEMBER if pending else role,
            "status": MembershipStatus.PENDING if pending else MembershipStatus.ACTIVE,
            "created_at": community["created_at"] + timedelta(hours=position),
        }


def _name(rng: random.Random) -> str:
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(TOPICS)} {rng.choice(NOUNS)}"
    return f"{rng.choice(PLACES)} {name}" if rng.random() < 0.3 else name


def _description(rng: random.Random) -> str:
    sentences = [
        f"{rng.choice(AUDIENCES).capitalize()} in {rng.choice(PLACES)} {rng.choice(ACTIVITIES)} "
        f"on {rng.choice(TOPICS).lower()} and {rng.choice(TOPICS).lower()}.",
        f"We {rng.choice(ACTIVITIES)} with {rng.choice(AUDIENCES)} and publish what we learn.",
    ]
    if rng.random() < 0.5:
        sentences.append(f"Meetings are in {rng.choice(LANGUAGES)}; newcomers are welcome.")
    sentences.extend(f"Focus: {word}." for word in RARE_WORDS if rng.random() < RARE_SHARE)
    return " ".join(sentences)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _weighted(rng: random.Random, weights: dict[T, int]) -> T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
