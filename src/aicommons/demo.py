"""The demo commons: members and communities a visitor can click through, seeded through the services."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.communities.models import Community, Role
from aicommons.communities.schemas import CommunityCreate, CommunityRegister
from aicommons.ledger import tokens
from aicommons.members import service as members
from aicommons.members.models import GlobalRole, Member
from aicommons.members.schemas import ProfileUpdate, SignUp, TransferCreate

DEMO_PASSWORD = "commons-demo-2026"
DEMO_LOGIN = "amina"


@dataclass(frozen=True)
class DemoMember:
    handle: str
    name: str
    sectors: tuple[str, ...]
    languages: tuple[str, ...]
    bio: str
    role: GlobalRole = GlobalRole.MEMBER


MEMBERS = (
    DemoMember(
        "amina",
        "Amina Diallo",
        ("health",),
        ("fr", "en", "wo"),
        "Nurse and data steward in Dakar.",
        GlobalRole.ADMIN,
    ),
    DemoMember(
        "kofi", "Kofi Mensah", ("agriculture",), ("en", "tw"), "Agronomist working with smallholder co-ops."
    ),
    DemoMember(
        "lucia", "Lucía Fernández", ("education",), ("es", "en"), "Secondary school teacher in Bogotá."
    ),
    DemoMember("raj", "Raj Patel", ("water", "technology"), ("hi", "en"), "Builds low-cost water sensors."),
    DemoMember(
        "mei", "Mei Chen", ("climate", "research"), ("zh", "en"), "Climate scientist, open data advocate."
    ),
    DemoMember(
        "tom", "Tom Becker", ("transport", "labour"), ("de", "en"), "Long-haul truck driver and union rep."
    ),
    DemoMember(
        "sara",
        "Sara Haddad",
        ("humanitarian",),
        ("ar", "en", "fr"),
        "Field coordinator, humanitarian logistics.",
    ),
    DemoMember(
        "olu",
        "Olumide Adeyemi",
        ("finance", "public-sector"),
        ("en", "yo"),
        "Policy economist.",
        GlobalRole.MODERATOR,
    ),
    DemoMember("ines", "Inês Costa", ("health", "research"), ("pt", "en"), "Epidemiologist."),
    DemoMember("yuki", "Yuki Tanaka", ("energy",), ("ja", "en"), "Engineer on rural microgrids."),
    DemoMember("pita", "Pita Taufa", ("climate", "water"), ("to", "en"), "Ocean conservation ranger."),
    DemoMember(
        "nadia",
        "Nadia Rahman",
        ("justice", "public-sector"),
        ("bn", "en"),
        "Human-rights lawyer.",
        GlobalRole.MODERATOR,
    ),
    DemoMember("jonas", "Jonas Berg", ("technology",), ("sv", "en"), "ML engineer, federated learning."),
    DemoMember("fatima", "Fatima Zahra", ("education", "media"), ("ar", "fr"), "Community radio host."),
    DemoMember(
        "diego", "Diego Alvarez", ("agriculture", "climate"), ("es",), "Coffee farmer and co-op chair."
    ),
    DemoMember("grace", "Grace Wanjiru", ("health",), ("sw", "en"), "Community health worker."),
    DemoMember("ahmed", "Ahmed Saleh", ("energy", "finance"), ("ar", "en"), "Impact investor."),
    DemoMember("elena", "Elena Popescu", ("public-sector",), ("ro", "en"), "Digital government officer."),
    DemoMember("sam", "Sam Okafor", ("transport",), ("en",), "City transport planner."),
    DemoMember("ana", "Ana Silva", ("water", "health"), ("pt",), "Sanitation engineer."),
    DemoMember("liam", "Liam O'Brien", ("research", "technology"), ("en", "ga"), "Statistician."),
    DemoMember("priya", "Priya Nair", ("education", "technology"), ("ml", "en"), "EdTech product lead."),
    DemoMember("marta", "Marta Nowak", ("labour",), ("pl", "en"), "Warehouse worker and organiser."),
    DemoMember("hugo", "Hugo Laurent", ("media", "justice"), ("fr", "en"), "Investigative journalist."),
)

COMMUNITIES: tuple[dict[str, Any], ...] = (
    {
        "slug": "nurses-on-ai",
        "name": "Nurses on AI in Care",
        "format": "discussion",
        "sectors": ["health"],
        "sdgs": [3],
        "region": "europe",
        "languages": ["en", "fr"],
        "description": "Nurses and carers compare notes on AI tools at the bedside and raise concerns early.",
        "steward": "amina",
        "members": ["ines", "grace", "ana", "elena", "olu"],
    },
    {
        "slug": "climate-data-collaborative",
        "name": "Climate Data Collaborative",
        "format": "project",
        "sectors": ["climate", "research"],
        "sdgs": [7, 13],
        "region": "global",
        "join_policy": "approval",
        "description": "Pooling weather-station and satellite data to improve local flood forecasts.",
        "steward": "mei",
        "members": ["pita", "diego", "liam", "jonas"],
        "pending": ["raj", "yuki"],
    },
    {
        "slug": "ai-policy-forum",
        "name": "AI Policy Forum",
        "format": "policy",
        "sectors": ["public-sector", "justice"],
        "sdgs": [10, 16],
        "region": "global",
        "description": "Drafting practical guidance on public-sector AI procurement and redress.",
        "steward": "nadia",
        "members": ["olu", "elena", "hugo", "amina", "liam", "ahmed"],
    },
    {
        "slug": "sdg-strategy-council",
        "name": "SDG Strategy Council",
        "format": "strategic",
        "sectors": ["public-sector", "finance"],
        "sdgs": [16, 17],
        "region": "global",
        "visibility": "private",
        "join_policy": "invite",
        "description": "Where partner organisations set the commons' yearly priorities.",
        "steward": "olu",
        "members": ["amina", "ahmed"],
        "invited": ["mei"],
    },
    {
        "slug": "smallholder-ml-meetups",
        "name": "Smallholder Farmers ML Meetups",
        "format": "event",
        "sectors": ["agriculture"],
        "sdgs": [1, 2],
        "region": "africa",
        "languages": ["en", "sw", "fr"],
        "description": "Monthly meetups on crop-disease detection from phone photos in the field and online.",
        "steward": "kofi",
        "members": ["diego", "grace", "jonas", "sam"],
    },
    {
        "slug": "water-sensing-lab",
        "name": "Community Water Sensing Lab",
        "format": "project",
        "sectors": ["water"],
        "sdgs": [6],
        "region": "asia",
        "languages": ["en", "hi"],
        "description": "Open hardware sensors and models that flag unsafe drinking water.",
        "steward": "raj",
        "members": ["ana", "pita", "liam"],
    },
    {
        "slug": "teachers-ai-circle",
        "name": "Teachers' AI Circle",
        "format": "discussion",
        "sectors": ["education"],
        "sdgs": [4],
        "region": "americas",
        "languages": ["es", "en", "pt"],
        "description": "Teachers share what works (and what worries them) about AI in classrooms.",
        "steward": "lucia",
        "members": ["fatima", "priya", "marta"],
    },
    {
        "slug": "drivers-safety-watch",
        "name": "Truck Drivers' Safety Watch",
        "format": "discussion",
        "sectors": ["transport", "labour"],
        "sdgs": [8, 9, 11],
        "region": "europe",
        "join_policy": "approval",
        "languages": ["de", "en", "pl"],
        "description": "Drivers report how route-optimisation and monitoring AI affects them.",
        "steward": "tom",
        "members": ["marta", "sam"],
        "pending": ["hugo"],
    },
    {
        "slug": "humanitarian-ai-summit",
        "name": "Humanitarian AI Summit 2027",
        "format": "event",
        "sectors": ["humanitarian"],
        "sdgs": [1, 3, 16],
        "region": "global",
        "description": "A two-day summit on AI for crisis response, with open sessions for field staff.",
        "steward": "sara",
        "members": ["amina", "grace", "hugo", "nadia", "jonas", "fatima"],
    },
    {
        "slug": "ocean-plastics-strategy",
        "name": "Ocean Plastics Strategy Group",
        "format": "strategic",
        "sectors": ["climate", "water"],
        "sdgs": [12, 14],
        "region": "oceania",
        "description": "Aligning funders and islands on a shared roadmap for plastic-waste detection.",
        "steward": "pita",
        "members": ["mei", "ahmed"],
    },
    {
        "slug": "energy-access-network",
        "name": "Energy Access Network",
        "format": "project",
        "sectors": ["energy"],
        "sdgs": [7],
        "region": "africa",
        "description": "Forecasting microgrid demand to bring power to more homes.",
        "steward": "yuki",
        "members": ["ahmed", "kofi", "jonas"],
    },
)

REGISTERED = CommunityRegister(
    slug="moh-digital-office",
    name="Ministry of Health Digital Office",
    format="policy",
    sectors=["health", "public-sector"],
    sdgs=[3],
    region="africa",
    languages=["en", "fr"],
    join_policy="approval",
    description="An existing government office, registered with its steward and its own channels.",
    steward="grace",
    channels=[
        {"name": "Mailing list", "url": "https://lists.example.org/moh-digital"},
        {"name": "Matrix room", "url": "https://matrix.to/#/#moh-digital:example.org"},
    ],
)


def is_seeded(session: Session) -> bool:
    return session.scalar(select(Member.id).where(Member.handle == DEMO_LOGIN)) is not None


REWARDS = {
    "reward:communities:community:create": 50,
    "reward:communities:community:register": 25,
    tokens.INTERVAL_ENTRIES: 100,
    tokens.INTERVAL_AMOUNT: 20,
}
WELCOME_TOKENS = 100
GIFTS = (
    ("kofi", "diego", 15, "Thanks for the crop photos"),
    ("mei", "pita", 30, "For the sensor data"),
    ("amina", "grace", 20, "Community health training"),
    ("lucia", "fatima", 10, "Radio lesson plans"),
)


def seed(session: Session, progress: Callable[[str], None] = lambda _: None) -> None:
    """Create the demo members and communities (call on an empty commons; it commits nothing)."""
    for name, value in REWARDS.items():
        tokens.set_parameter(session, name, value)
    people = {person.handle: _add_member(session, person) for person in MEMBERS}
    _welcome(session, people)
    progress(f"{len(people)} members")
    created = [_add_community(session, dict(spec), people) for spec in COMMUNITIES]
    registered = communities.register(session=session, registrar=people["amina"], form=REGISTERED)
    communities.join(session=session, community=registered, member=people["ines"])
    progress(f"{len(created) + 1} communities")
    for community in [*created, registered]:
        communities.request_stats_refresh(session=session, actor=people["amina"], community=community)
    _gifts(session, people)
    progress("tokens and transfers")


def _welcome(session: Session, people: dict[str, Member]) -> None:
    """Every demo member starts with a few tokens, minted on the log."""
    for member in people.values():
        target = tokens.member_account(member.id)
        tokens.mint(
            session, key=f"welcome/{member.id}", target=target, amount=WELCOME_TOKENS, reason="welcome"
        )


def _gifts(session: Session, people: dict[str, Member]) -> None:
    for giver, receiver, amount, note in GIFTS:
        form = TransferCreate(
            to=receiver, amount=amount, note=note, idempotency_key=f"demo-{giver}-{receiver}"
        )
        members.send_tokens(session=session, sender=people[giver], form=form)


def _add_member(session: Session, person: DemoMember) -> Member:
    form = SignUp(
        handle=person.handle,
        email=f"{person.handle}@demo.aicommons.org",
        password=DEMO_PASSWORD,
        display_name=person.name,
    )
    member = members.sign_up(session=session, form=form, role=person.role)
    changes = ProfileUpdate(bio=person.bio, sectors=list(person.sectors), languages=list(person.languages))
    return members.update_profile(session=session, member=member, changes=changes)


def _add_community(session: Session, spec: dict[str, Any], people: dict[str, Member]) -> Community:
    """A community whose members came in as real members do: invited by the steward, then accepting."""
    steward = people[spec.pop("steward")]
    joiners, pending, invited = (spec.pop(key, []) for key in ("members", "pending", "invited"))
    community = communities.create(
        session=session, creator=steward, form=CommunityCreate.model_validate(spec)
    )
    for handle in joiners:
        communities.invite(session=session, actor=steward, community=community, handle=handle)
        communities.join(session=session, community=community, member=people[handle])
    for handle in pending:
        communities.join(session=session, community=community, member=people[handle])
    for handle in invited:
        communities.invite(session=session, actor=steward, community=community, handle=handle)
    if joiners:
        communities.set_role(
            session=session, actor=steward, community=community, handle=joiners[0], role=Role.ORGANIZER
        )
    return community
