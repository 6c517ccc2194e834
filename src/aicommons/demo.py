"""The demo commons: members, communities and datasets to click through, seeded through the services."""

import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aicommons.communities import service as communities
from aicommons.communities.models import Community, Role
from aicommons.communities.schemas import CommunityCreate, CommunityRegister
from aicommons.concerns import demo as concerns_demo
from aicommons.core.blobs import BlobStore
from aicommons.core.db import utcnow
from aicommons.core.jobs import Job, JobContext, JobState
from aicommons.core.security import hash_password
from aicommons.datasets import ingest, statistics
from aicommons.datasets import service as datasets
from aicommons.datasets.models import Dataset, Policy
from aicommons.datasets.schemas import AccessRequestCreate, DatasetCreate, FederatedVersion
from aicommons.events import demo as events_demo
from aicommons.federation import nodes as federation_nodes
from aicommons.federation import partitions
from aicommons.federation import service as federation
from aicommons.federation.schemas import NodeCreate, RunCreate
from aicommons.governance import demo as governance_demo
from aicommons.insights import demo as insights_demo
from aicommons.journeys import demo as journeys_demo
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens
from aicommons.members import service as members
from aicommons.members.models import GlobalRole, Member
from aicommons.members.schemas import ProfileUpdate, SignUp, TransferCreate
from aicommons.problems import service as problems
from aicommons.problems import teams
from aicommons.problems.jobs import scoring_job
from aicommons.problems.models import Problem, Submission
from aicommons.problems.schemas import ProblemCreate
from aicommons.problems.scoring import Metric, Prediction, Task, prediction_kind

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
# The demo's people have been members for a season: their accounts are established, so their flags and
# memberships weigh (decision 0046).
MEMBERS_SINCE = timedelta(days=120)
REGISTERED_MEMBERS = ("elena", "sara", "ana")  # invited by the office's steward; ines asks to join
GIFTS = (
    ("kofi", "diego", 15, "Thanks for the crop photos"),
    ("mei", "pita", 30, "For the sensor data"),
    ("amina", "grace", 20, "Community health training"),
    ("lucia", "fatima", 10, "Radio lesson plans"),
)


def seed(
    session: Session,
    *,
    store: BlobStore,
    log: ledger.LogIdentity | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """Create the demo members, communities, datasets, problems and a federated training run (call on an
    empty commons; it commits nothing).

    Dataset files, and the rows each clinic uploads to its simulated node, go to `store`, the blob store
    of the commons being seeded. With `log`, the commons' log identity, the log is sequenced and signed and
    governance's proposals and votes are played on it: who votes is taken from signed snapshots of the log
    (decision 0044). Without it the demo has no proposals."""
    for name, value in REWARDS.items():
        tokens.set_parameter(session, name, value)
    shared = hash_password(DEMO_PASSWORD)  # one argon2 hash for all: they share the published password
    people = {person.handle: _add_member(session, person, shared) for person in MEMBERS}
    _welcome(session, people)
    progress(f"{len(people)} members")
    created = [_add_community(session, dict(spec), people) for spec in COMMUNITIES]
    registered = _register(session, people)
    progress(f"{len(created) + 1} communities")
    for community in [*created, registered]:
        communities.request_stats_refresh(session=session, actor=people["amina"], community=community)
    _gifts(session, people)
    progress("tokens and transfers")
    concerns_demo.seed(session, people)
    progress(f"{len(concerns_demo.CONCERNS)} concerns")
    events_demo.seed(session, people)
    progress(f"{len(events_demo.EVENTS)} events")
    _seed_datasets(session, people, store)
    progress(f"{len(DATASETS)} datasets")
    training_parts = _seed_problems(session, people, store)
    progress(f"{len(PROBLEMS)} problems")
    _seed_federation(session, people, store, training_parts[FEDERATED_PROBLEM])
    progress("federated nodes and a training run")
    insights_demo.seed(session, people)
    progress(f"{len(insights_demo.INSIGHTS)} insights")
    journeys_demo.seed(session, people)
    progress("visits to communities")
    if log is not None:
        governance_demo.seed(session, people, log)
        progress("proposals and votes")


def _welcome(session: Session, people: dict[str, Member]) -> None:
    """Every demo member starts with a few tokens, minted on the log once per member (the key names them)."""
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


def _add_member(session: Session, person: DemoMember, password_hash: str) -> Member:
    form = SignUp(
        handle=person.handle,
        email=f"{person.handle}@demo.aicommons.org",
        password=DEMO_PASSWORD,
        display_name=person.name,
    )
    member = members.sign_up(session=session, form=form, role=person.role, password_hash=password_hash)
    member.created_at = utcnow() - MEMBERS_SINCE
    changes = ProfileUpdate(bio=person.bio, sectors=list(person.sectors), languages=list(person.languages))
    return members.update_profile(session=session, member=member, changes=changes)


def _register(session: Session, people: dict[str, Member]) -> Community:
    """The registered office: its steward invites three colleagues, whose joining makes the registration
    reward due; one more request waits for approval."""
    registered = communities.register(session=session, registrar=people["amina"], form=REGISTERED)
    for handle in REGISTERED_MEMBERS:
        communities.invite(session=session, actor=people["grace"], community=registered, handle=handle)
        communities.join(session=session, community=registered, member=people[handle])
    communities.join(session=session, community=registered, member=people["ines"])
    return registered


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


# --- datasets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoDataset:
    """A real dataset that ships with scikit-learn, who publishes it, and how it is registered."""

    loader: str  # a scikit-learn load_* function: bundled files, no network
    target: str  # what the target column is called here
    publisher: str
    form: dict[str, Any]
    options: tuple[tuple[str, Any], ...] = ()


DATASETS = (
    DemoDataset(
        "load_iris",
        "species",
        "liam",
        {
            "slug": "iris-flowers",
            "title": "Iris flowers (Fisher, 1936)",
            "summary": "Sepal and petal sizes of 150 irises of three species: the classic first dataset.",
            "license": "CC-BY-4.0",
            "policy": "open",
            "keywords": ["iris", "botany", "classification", "teaching"],
            "sdgs": [4, 15],
            "sectors": ["education", "research"],
            "datasheet": {
                "motivation": "Measured to study how iris species vary, and used by R.A. Fisher (1936) "
                "to introduce linear discriminant analysis; shared here as the smallest example for teaching "
                "classification and trying the commons' tools.",
                "composition": "150 flowers, 50 of each species (setosa, versicolor, virginica); four "
                "measurements in centimetres (sepal length and width, petal length and width) and the "
                "species. No missing values; no people.",
                "collection_process": "Measured by hand by Edgar Anderson and published in Fisher's paper; "
                "donated to the UCI Machine Learning Repository by Michael Marshall in 1988.",
                "preprocessing": "scikit-learn's bundled copy (load_iris), which follows Fisher's paper "
                "where the UCI copy has two wrong points; the class number is replaced by the species name.",
                "uses": "Teaching and testing classification, clustering and plots. Too small and too easy "
                "to say anything about a method's real-world performance.",
                "distribution": "Open: anyone downloads it as Parquet. CC BY 4.0, as the UCI Machine "
                "Learning Repository licenses it; cite Fisher (1936) and the repository.",
                "maintenance": "Historical data that will not change; Liam keeps this copy and answers "
                "questions about it.",
            },
        },
    ),
    DemoDataset(
        "load_wine",
        "cultivar",
        "diego",
        {
            "slug": "wine-recognition",
            "title": "Wine recognition: chemistry of three cultivars",
            "summary": "Thirteen chemical measurements of 178 Italian wines from three cultivars.",
            "license": "CC-BY-4.0",
            "policy": "priced",
            "price": 20,
            "license_days": 90,
            "keywords": ["wine", "chemistry", "food quality", "classification"],
            "sdgs": [2, 12],
            "sectors": ["agriculture"],
            "datasheet": {
                "motivation": "Collected to tell wines of three cultivars apart by chemical analysis; the "
                "co-op uses it to train members in lab-based quality and origin checks of their produce.",
                "composition": "178 wines from one region of Italy, three cultivars (59, 71 and 48 wines); "
                "13 constituents (alcohol, malic acid, ash, its alcalinity, magnesium, phenols, "
                "flavanoids, nonflavanoid phenols, proanthocyanins, colour intensity, hue, OD280/OD315, "
                "proline) and the cultivar. No missing values; no people.",
                "collection_process": "Chemical analysis by M. Forina et al. (PARVUS, Institute of "
                "Pharmaceutical and Food Analysis and Technologies, Genoa), who measured about 30 "
                "constituents; 13 were kept in the copy donated to the UCI Machine Learning Repository.",
                "preprocessing": "scikit-learn's bundled copy (load_wine); the class number is replaced by "
                "its label (class_0, class_1, class_2) and whole-number columns are stored as integers.",
                "uses": "Teaching classification and feature scaling for food-quality work. Three cultivars "
                "of one region: it says nothing about other wines or regions.",
                "distribution": "Priced: a 90-day license costs 20 tokens, held in escrow until the first "
                "download and then paid for the co-op's curation. The data itself is CC BY 4.0 and free "
                "from the UCI repository.",
                "maintenance": "Historical data that will not change; Diego answers questions about it.",
            },
        },
    ),
    DemoDataset(
        "load_breast_cancer",
        "diagnosis",
        "amina",
        {
            "slug": "breast-cancer-wisconsin",
            "title": "Breast cancer Wisconsin (diagnostic)",
            "summary": "Cell-nucleus features of 569 breast-mass biopsies, each malignant or benign.",
            "license": "CC-BY-4.0",
            "policy": "gated",
            "decision_days": 14,
            "request_fields": ["Which ethics approval or review covers your use?"],
            "keywords": ["breast cancer", "diagnosis", "biopsy", "classification"],
            "sdgs": [3],
            "sectors": ["health", "research"],
            "community": "nurses-on-ai",
            "datasheet": {
                "motivation": "Built at the University of Wisconsin to diagnose breast masses from "
                "fine-needle aspirates without surgery; the circle shares it for nurses learning how "
                "diagnostic models are built and judged.",
                "composition": "569 cases (212 malignant, 357 benign); 30 features, the mean, standard "
                "error and worst value of ten properties of the cell nuclei in a digitised image (radius, "
                "texture, perimeter, area, smoothness, compactness, concavity, concave points, symmetry, "
                "fractal dimension), and the diagnosis. No names, ages or other identifiers.",
                "collection_process": "Features computed from digitised images of fine-needle aspirates by "
                "W.H. Wolberg, W.N. Street and O.L. Mangasarian (1995); donated to the UCI Machine "
                "Learning Repository by Nick Street.",
                "preprocessing": "scikit-learn's bundled copy (load_breast_cancer); the class number is "
                "replaced by the diagnosis (malignant or benign).",
                "uses": "Learning diagnostic classification, calibration and the cost of false negatives. "
                "Not for clinical decisions: one hospital, the 1990s, a selected population.",
                "distribution": "Gated: de-identified and CC BY 4.0, but the circle asks who uses "
                "patient-derived data and why; its stewards decide requests within 14 days.",
                "maintenance": "Historical data that will not change, kept by the circle's stewards.",
            },
        },
    ),
    DemoDataset(
        "load_diabetes",
        "progression",
        "ines",
        {
            "slug": "diabetes-progression",
            "community": "nurses-on-ai",
            "title": "Diabetes progression after one year",
            "summary": "Baseline measurements of 442 diabetes patients and their progression a year later.",
            "license": "BSD-3-Clause",
            "policy": "federated",
            "keywords": ["diabetes", "regression", "federated learning"],
            "sdgs": [3],
            "sectors": ["health", "research"],
            "datasheet": {
                "motivation": "Published with Efron, Hastie, Johnstone and Tibshirani's 'Least Angle "
                "Regression' (2004); here it stands in for patient data that stays at the clinic while "
                "models are trained on it by federated learning.",
                "composition": "442 patients; age, sex, body mass index, average blood pressure, six blood "
                "serum measurements (s1-s6) and a quantitative measure of disease progression one year "
                "after baseline.",
                "collection_process": "Baseline measurements of diabetes patients from the study behind "
                "Efron et al. (2004); source: https://www4.stat.ncsu.edu/~boos/var.select/diabetes.html.",
                "preprocessing": "scikit-learn's unscaled copy (load_diabetes(scaled=False)), whole-number "
                "columns as integers. The commons holds only the schema, the row count and ten synthetic "
                "rows drawn from each column's mean and spread, in whole numbers: nobody's real values.",
                "uses": "Trying federated regression and the federated workflow. Too small and too old for "
                "clinical use.",
                "distribution": "Federated: the rows never leave the owner's node and nobody downloads "
                "them. Distributed with scikit-learn under its BSD-3-Clause license.",
                "maintenance": "Inês publishes a new version when the node's copy changes.",
            },
        },
        options=(("scaled", False),),
    ),
)
ACCESS_REQUESTS = (  # on the gated dataset: (member, reason, answer, approved)
    (
        "liam",
        "Teaching a course on evaluating diagnostic models.",
        "Exempt: public de-identified data.",
        True,
    ),
    (
        "jonas",
        "Testing federated training against a central baseline.",
        "My lab's review board, 2026-14.",
        False,
    ),
)
LICENSES = (("wine-recognition", "kofi"), ("wine-recognition", "ahmed"))  # ahmed's stays in escrow
DOWNLOADS = (
    ("iris-flowers", "lucia"),
    ("iris-flowers", "priya"),
    ("wine-recognition", "kofi"),
    ("breast-cancer-wisconsin", "liam"),
)
SAMPLE_ROWS = 10


def _seed_datasets(session: Session, people: dict[str, Member], store: BlobStore) -> None:
    """Each policy once, with requests waiting and decided, licenses bought, and downloads on the log."""
    found = {spec.form["slug"]: _add_dataset(session, spec, people, store) for spec in DATASETS}
    _access_requests(session, people, found["breast-cancer-wisconsin"])
    for slug, handle in LICENSES:
        datasets.buy(session=session, member=people[handle], dataset=found[slug])
    for slug, handle in DOWNLOADS:
        datasets.download(
            session=session, store=store, member=people[handle], dataset=found[slug], number=None
        )


def _add_dataset(session: Session, spec: DemoDataset, people: dict[str, Member], store: BlobStore) -> Dataset:
    """Register the dataset and publish its first version, as its owner would."""
    publisher = people[spec.publisher]
    dataset = datasets.create(
        session=session, creator=publisher, form=DatasetCreate.model_validate(spec.form)
    )
    frame = _frame(spec)
    if dataset.policy == Policy.FEDERATED:
        _publish_federated(session, publisher, dataset, frame)
    else:
        _publish_csv(session, store, publisher, dataset, frame)
    return dataset


def _frame(spec: DemoDataset) -> Any:
    """The dataset as a pandas frame: named classes, and whole numbers as integers."""
    from sklearn import datasets as bundled  # here, not at the top: it takes seconds to import

    bunch = getattr(bundled, spec.loader)(as_frame=True, **dict(spec.options))
    frame = bunch.frame.rename(columns={"target": spec.target})
    if "target_names" in bunch:
        frame[spec.target] = bunch.target_names[bunch.target]
    whole = [name for name in frame.columns if frame[name].dtype.kind == "f" and (frame[name] % 1 == 0).all()]
    return frame.astype({name: "int64" for name in whole})


def _publish_csv(session: Session, store: BlobStore, publisher: Member, dataset: Dataset, frame: Any) -> None:
    """Upload the frame as CSV the way the API does: into the store's scratch space, then publish."""
    with datasets.csv_upload(store, frame) as upload:
        datasets.publish(session=session, store=store, actor=publisher, dataset=dataset, upload=upload)


def _publish_federated(session: Session, publisher: Member, dataset: Dataset, frame: Any) -> None:
    """What the owner's node shows of the rows it keeps: the schema, the row count and a synthetic sample."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    described = {
        "columns": ingest.columns(table.schema),
        "row_count": len(frame),
        "statistics": _node_statistics(table),
        "sample": _synthetic(frame, SAMPLE_ROWS),
    }
    form = FederatedVersion.model_validate(described)
    datasets.publish_federated(session=session, actor=publisher, dataset=dataset, form=form)


def _node_statistics(table: pa.Table) -> dict[str, Any]:
    """The statistics the owner's node computes on the rows it keeps, with the commons' own DuckDB code."""
    with tempfile.TemporaryDirectory(prefix="aicommons-node-") as directory:
        path = Path(directory) / "rows.parquet"
        pq.write_table(table, path)
        return statistics.compute(path, ingest.columns(table.schema))


def _synthetic(frame: Any, count: int) -> list[list[float]]:
    """Rows drawn column by column from each column's mean and spread: plausible, but nobody's."""
    draw = random.Random(2026)
    figures = frame.describe()

    def cell(name: str) -> float:
        low, high, mean, spread = (float(figures[name][key]) for key in ("min", "max", "mean", "std"))
        return round(min(max(draw.gauss(mean, spread), low), high), 4)

    return [[cell(name) for name in frame.columns] for _ in range(count)]


def _access_requests(session: Session, people: dict[str, Member], dataset: Dataset) -> None:
    """Requests answering the owners' question; the circle's steward approves the first."""
    question = dataset.request_fields[0]
    for handle, reason, answer, approved in ACCESS_REQUESTS:
        form = AccessRequestCreate(reason=reason, answers={question: answer})
        asked = datasets.request_access(session=session, member=people[handle], dataset=dataset, form=form)
        if approved:
            datasets.decide(
                session=session,
                actor=people["amina"],
                dataset=dataset,
                request_id=asked.id,
                approve=True,
                reason="A teaching use the circle supports.",
            )


# --- problems ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Solver:
    """A demo member's honest baseline: a scikit-learn model trained on the problem's training part."""

    handle: str
    model: str  # a key of _ESTIMATORS
    declares: bool  # whether the submission declares the dataset it used
    note: str
    team: str | None = None  # a named team (joined before submitting), else the member alone
    teammates: tuple[str, ...] = ()  # handles of members who join the named team too


@dataclass(frozen=True)
class DemoProblem:
    """A problem on a demo dataset: its held-out rows are the hidden evaluation data."""

    dataset: str  # the slug of one of DATASETS
    owner: str
    form: dict[str, Any]
    solvers: tuple[Solver, ...]
    closed: bool = False  # submitted, scored, then closed with its bounty paid


BEDSIDE_STATEMENT = """\
Predict whether a breast mass is **malignant** from the 30 cell-nucleus features of its fine-needle
aspirate (the columns of `breast-cancer-wisconsin` version 1).

- Evaluation: 171 held-out cases (the `case` column), scored by **ROC AUC** on the probability that
  the mass is malignant.
- Submit a CSV `case,prediction`, the prediction a probability between 0 and 1.
- A teaching problem of the *Nurses on AI in Care* circle: not for clinical decisions.
"""
DIABETES_STATEMENT = """\
Predict each patient's **disease progression one year after baseline** from age, sex, body mass
index, blood pressure and six blood serum measurements.

- The rows stay at three clinics' nodes (Dakar, Lisbon, Nairobi); the columns follow
  `diabetes-progression` version 1. A federated run trains a model on them: see *Federated training*.
- Evaluation: 133 held-out patients (the `patient` column), scored by **RMSE** (lower is better).
- Submit a CSV `patient,prediction`, the prediction a number.
"""
WINE_STATEMENT = """\
Tell the **cultivar** of a wine from its 13 chemical measurements, as the co-op's lab checks do.

- Evaluation: 54 held-out wines (the `wine` column), scored by **accuracy**.
- Submit a CSV `wine,prediction`, the prediction one of `class_0`, `class_1`, `class_2`.
- Closed: the private leaderboard and the payout are public.
"""
PROBLEMS = (
    DemoProblem(
        "breast-cancer-wisconsin",
        "amina",
        {
            "title": "Malignant or benign? Reading fine-needle aspirates",
            "slug": "bedside-biopsy-triage",
            "statement": BEDSIDE_STATEMENT,
            "task": "binary",
            "metric": "roc_auc",
            "id_column": "case",
            "target_column": "diagnosis",
            "sdg_targets": ["3.4", "3.8"],
            "bounty": 50,
            "payout_rule": "top3",
            "daily_limit": 5,
            "total_limit": 50,
            "team_size_limit": 3,
        },
        (
            Solver("liam", "logistic", True, "Standardised features, logistic regression."),
            Solver("grace", "forest", True, "A forest of 50 trees.", team="bedside-ml", teammates=("priya",)),
            Solver("ana", "naive", False, "Naive baseline: the malignant rate of the training part."),
        ),
    ),
    DemoProblem(
        "diabetes-progression",
        "ines",
        {
            "title": "Diabetes progression after one year",
            "slug": "diabetes-progression-forecast",
            "statement": DIABETES_STATEMENT,
            "task": "regression",
            "metric": "rmse",
            "id_column": "patient",
            "target_column": "progression",
            "sdg_targets": ["3.4"],
            "bounty": 60,
            "payout_rule": "winner",
            "daily_limit": 3,
        },
        (
            Solver("jonas", "ridge", True, "Ridge regression, trained federated at the node."),
            Solver("liam", "forest", True, "A random forest of 50 trees."),
            Solver("mei", "naive", False, "Naive baseline: the mean progression."),
        ),
    ),
    DemoProblem(
        "wine-recognition",
        "diego",
        {
            "title": "Which cultivar? Wine from its chemistry",
            "slug": "wine-cultivar-check",
            "statement": WINE_STATEMENT,
            "task": "multiclass",
            "metric": "accuracy",
            "id_column": "wine",
            "target_column": "cultivar",
            "sdg_targets": ["2.3", "12.3"],
            "bounty": 40,
            "payout_rule": "top3",
            "dividend_percent": 10,
        },
        (
            Solver("kofi", "logistic", True, "Standardised features, logistic regression."),
            Solver("ahmed", "forest", True, "A random forest of 50 trees."),
            Solver("lucia", "nearest", False, "Five nearest neighbours, unscaled."),
            Solver("priya", "naive", False, "Naive baseline: the most common cultivar."),
        ),
        closed=True,
    ),
)
HELD_OUT = 0.3  # the share of each dataset's rows kept back as the hidden evaluation data


def _seed_problems(session: Session, people: dict[str, Member], store: BlobStore) -> dict[str, Any]:
    """Each problem stated, its evaluation rows uploaded, published, with baselines scored by the real job;
    the training part of each problem's rows, by slug."""
    training_parts = {}
    for spec in PROBLEMS:
        parts = _split(spec)
        training_parts[spec.form["slug"]] = parts[0]
        problem = _add_problem(session, spec, people, store, parts[1])
        submitted = [
            _submit_baseline(session, store, problem, people=people, solver=solver, parts=parts)
            for solver in spec.solvers
        ]
        _score(session, store, submitted)
        if spec.closed:
            _close(session, problem, people[spec.owner])
    return training_parts


def _split(spec: DemoProblem) -> tuple[Any, Any]:
    """The dataset's rows as a training part and a held-out part, each row named in the id column."""
    from sklearn.model_selection import train_test_split  # here, not at the top: it takes seconds to import

    frame = _frame(next(one for one in DATASETS if one.form["slug"] == spec.dataset))
    frame.insert(
        0, spec.form["id_column"], [f"{spec.form['id_column'][0]}{n:04d}" for n in range(len(frame))]
    )
    target = spec.form["target_column"]
    stratify = None if spec.form["task"] == "regression" else frame[target]
    train, held_out = train_test_split(frame, test_size=HELD_OUT, random_state=2026, stratify=stratify)
    return train, held_out


def _add_problem(
    session: Session, spec: DemoProblem, people: dict[str, Member], store: BlobStore, held_out: Any
) -> Problem:
    """State the problem on version 1 of its dataset, upload the held-out rows (their inputs too, on which
    the commons scores federated models; never downloadable), and publish it."""
    owner, now = people[spec.owner], utcnow()
    window = (now - timedelta(days=1), now + timedelta(minutes=5 if spec.closed else 60 * 24 * 45))
    version = {"dataset": spec.dataset, "version": 1}
    form = ProblemCreate.model_validate(
        spec.form | {"opens_at": window[0], "closes_at": window[1], "input": version, "datasets": [version]}
    )
    problem = problems.create(session=session, creator=owner, form=form)
    with datasets.csv_upload(store, held_out) as upload:
        problems.set_evaluation(session=session, store=store, actor=owner, problem=problem, upload=upload)
    return problems.publish(session=session, actor=owner, problem=problem)


def _submit_baseline(
    session: Session,
    store: BlobStore,
    problem: Problem,
    *,
    people: dict[str, Member],
    solver: Solver,
    parts: tuple[Any, Any],
) -> Submission:
    """The solver's predictions for the held-out rows, from a model trained on the training part."""
    train, held_out = parts
    member = people[solver.handle]
    if solver.team:
        _form_team(session, problem, people, solver)
    predictions = _predict(problem, solver.model, train, held_out)
    used = problem.dataset_versions if solver.declares else []
    with datasets.csv_upload(store, predictions) as upload:
        return problems.submit(
            session=session,
            store=store,
            member=member,
            problem=problem,
            upload=upload,
            datasets_used=used,
            note=solver.note,
        )


def _form_team(session: Session, problem: Problem, people: dict[str, Member], solver: Solver) -> None:
    """The solver founds the team and invites the teammates, who accept (a team takes members by consent)."""
    assert solver.team is not None
    founder = people[solver.handle]
    teams.join_team(session=session, problem=problem, member=founder, team_name=solver.team)
    for handle in solver.teammates:
        invitation = teams.invite(
            session=session, problem=problem, actor=founder, team_name=solver.team, handle=handle
        )
        teams.accept(session=session, problem=problem, actor=people[handle], request_id=invitation.id)


def _estimator(model: str, task: Task) -> Any:
    """A scikit-learn estimator by its demo name, for the task."""
    from sklearn import dummy, ensemble, linear_model, neighbors, pipeline, preprocessing

    regression = task is Task.REGRESSION
    choices: dict[str, Callable[[], Any]] = {
        "naive": dummy.DummyRegressor if regression else lambda: dummy.DummyClassifier(strategy="prior"),
        "logistic": lambda: pipeline.make_pipeline(
            preprocessing.StandardScaler(), linear_model.LogisticRegression(max_iter=1000)
        ),
        "ridge": linear_model.Ridge,
        "forest": lambda: (ensemble.RandomForestRegressor if regression else ensemble.RandomForestClassifier)(
            n_estimators=20, random_state=2026
        ),
        "nearest": lambda: neighbors.KNeighborsClassifier(n_neighbors=5),
    }
    return choices[model]()


def _predict(problem: Problem, model: str, train: Any, held_out: Any) -> Any:
    """The submission file's frame: the id column and the model's prediction for each held-out row."""
    task, target = Task(problem.task), problem.target_column
    features = [name for name in train.columns if name not in {problem.id_column, target}]
    estimator = _estimator(model, task).fit(train[features], train[target])
    if prediction_kind(task, Metric(problem.metric)) is Prediction.PROBABILITY:
        positive = list(estimator.classes_).index(problem.classes[1])
        predicted = estimator.predict_proba(held_out[features])[:, positive].round(6)
    else:
        predicted = estimator.predict(held_out[features])
    frame = held_out[[problem.id_column]].copy()
    frame["prediction"] = predicted
    return frame


def _score(session: Session, store: BlobStore, submitted: list[Submission]) -> None:
    """Run the real scoring job on each submission inside the seed's transaction, and mark the job done.

    The job's units of work join the seed's connection: what they write commits with the seed, or not at
    all."""
    session.flush()
    joined = sessionmaker(bind=session.connection(), expire_on_commit=False)
    handler = scoring_job(store)
    for submission in submitted:
        assert submission.job_id is not None
        result = handler(
            JobContext(job_id=submission.job_id, payload={"submission_id": submission.id}, factory=joined)
        )
        job = session.get(Job, submission.job_id)
        assert job is not None
        job.state, job.result, job.progress, job.worker = JobState.SUCCEEDED, result, 1.0, "demo-seed"
        job.started_at = job.finished_at = utcnow()
    session.flush()
    session.expire_all()


def _close(session: Session, problem: Problem, owner: Member) -> None:
    """The closing time passes (as if weeks went by) and the owner closes: the bounty is paid."""
    problem.closes_at = utcnow() - timedelta(seconds=1)
    problems.close(session=session, actor=owner, problem=problem)


# --- federated learning ------------------------------------------------------------------------------------


FEDERATED_PROBLEM = "diabetes-progression-forecast"
CLINICS = (  # (node, the organizer of the nurses' circle who runs it): their own machines, simulated here
    ("dakar-clinic", "amina"),
    ("lisbon-clinic", "ines"),
    ("nairobi-clinic", "grace"),
)
DEMO_RUN = {
    "family": "linear",
    "strategy": "fedavg",
    "rounds": 5,
    "local_epochs": 5,
    "learning_rate": 0.05,
    "min_nodes": 3,
    "license": "CC-BY-4.0",
}


def _seed_federation(session: Session, people: dict[str, Member], store: BlobStore, training: Any) -> None:
    """Three clinics of the nurses' circle each upload a non-IID part of the diabetes rows to their node; a
    training run for the diabetes problem is queued, for the commons' worker to run once it serves."""
    circle = communities.get(session=session, slug="nurses-on-ai", viewer=people["amina"])
    communities.set_role(
        session=session, actor=people["amina"], community=circle, handle="grace", role=Role.ORGANIZER
    )
    parts = partitions.dirichlet(
        training["progression"].to_numpy(dtype=float), len(CLINICS), alpha=0.5, seed=7
    )
    for (name, handle), rows in zip(CLINICS, parts, strict=True):
        form = NodeCreate(name=name, dataset="diabetes-progression")
        with datasets.csv_upload(store, training.iloc[rows].drop(columns=["patient"])) as upload:
            federation_nodes.register_with_rows(
                session=session, store=store, actor=people[handle], form=form, upload=upload
            )
    problem = problems.get(session=session, ref=FEDERATED_PROBLEM, viewer=None)
    federation.start_run(
        session=session, store=store, actor=people["jonas"], problem=problem, form=RunCreate(**DEMO_RUN)
    )
