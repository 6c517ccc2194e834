"""The demo commons' insights: what its communities learned, asked and reused from each other, seeded
through the services on the demo members and communities (aicommons.demo calls `seed`)."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from aicommons.core.db import utcnow
from aicommons.insights import service, subscriptions
from aicommons.insights.models import Insight, Subscription
from aicommons.insights.schemas import InsightCreate, ReplyCreate, ReuseCreate, SubscriptionCreate
from aicommons.members.models import Member

DEMO_LOGIN = "amina"  # aicommons.demo.DEMO_LOGIN, which a domain may not import


@dataclass(frozen=True)
class DemoInsight:
    """An insight, who posts it and how long ago, and what others then do with it."""

    key: str
    author: str
    hours_ago: int
    form: dict[str, Any]
    replies: tuple[tuple[str, str], ...] = ()  # (handle, text)
    accepted: int | None = None  # the index of the reply the asker accepts
    endorsers: tuple[str, ...] = ()
    reused_by: tuple[tuple[str, str, str], ...] = ()  # (handle, community slug, how it was used)


def _insight(community: str, kind: str, title: str, body: str, **fields: Any) -> dict[str, Any]:
    return {"community": community, "kind": kind, "title": title, "body": body, **fields}


INSIGHTS = (
    DemoInsight(
        "sepsis",
        "amina",
        300,
        _insight(
            "nurses-on-ai",
            "lesson-learned",
            "Sepsis early-warning scores need a nurse's override",
            "For three months our ward ran a vendor's **sepsis early-warning score**.\n\n"
            "- It caught two patients the night shift would have seen late.\n"
            "- It also fired 40 alarms a night, and nurses stopped reading them.\n\n"
            "What worked: a one-tap *override with a reason*, reviewed weekly with the vendor.",
            sdgs=[3],
            tags=["sepsis", "triage", "alert-fatigue"],
            risks=["system-safety-failures-limitations", "human-computer-interaction"],
            evidence=["https://www.who.int/news-room/fact-sheets/detail/sepsis"],
        ),
        replies=(("grace", "Same in our clinics: the override reasons became our best training data."),),
        endorsers=("ines", "grace", "sara", "nadia", "jonas"),
        reused_by=(("sara", "humanitarian-ai-summit", "A session on alert fatigue in field hospitals."),),
    ),
    DemoInsight(
        "validate",
        "ines",
        200,
        _insight(
            "nurses-on-ai",
            "question",
            "How do you validate a triage model on your own ward's data?",
            "A vendor reports an AUC of 0.91 on *their* hospitals. Before we switch it on, how do you check "
            "it on your own patients with a few hundred records and no data scientist?",
            sdgs=[3],
            tags=["triage", "validation"],
        ),
        replies=(
            (
                "liam",
                "Take the last 6 months, score them silently, and compare with what happened. "
                "Report calibration, not only AUC: a model can rank well and still be overconfident.",
            ),
            (
                "jonas",
                "If several wards want to check it together without pooling records, "
                "federated evaluation works: each ward scores locally and only the counts travel.",
            ),
            (
                "grace",
                "Ask the vendor for the score per subgroup (age, sex, language): ours was worse for "
                "older patients.",
            ),
        ),
        accepted=0,
        endorsers=("amina", "liam"),
    ),
    DemoInsight(
        "cap-alarms",
        "grace",
        40,
        _insight(
            "nurses-on-ai",
            "insight",
            "Alert fatigue: cap the alarms per nurse per shift",
            "Agree a **ceiling** with the vendor (ours: 8 per nurse per shift) and tune the threshold to it. "
            "A model that is right but ignored protects nobody.",
            sdgs=[3],
            tags=["alert-fatigue"],
            risks=["human-computer-interaction"],
        ),
        endorsers=("amina", "ines"),
    ),
    DemoInsight(
        "rota",
        "ana",
        100,
        _insight(
            "nurses-on-ai",
            "lesson-learned",
            "Our rota experiment with a scheduling assistant",
            "Kept in the circle while we ask the union: the assistant shortened handovers but moved "
            "night shifts onto the same three colleagues.",
            tags=["scheduling"],
            audience="community",
        ),
    ),
    DemoInsight(
        "rainfall",
        "mei",
        250,
        _insight(
            "climate-data-collaborative",
            "resource",
            "Open rainfall gauge data for 40 river basins",
            "Daily rainfall from 1,200 community gauges, cleaned and documented, with a datasheet. "
            "Useful for flood forecasts and for checking satellite estimates.",
            sdgs=[6, 13],
            tags=["rainfall", "open-data"],
            evidence=["https://www.wmo.int/"],
            license="CC-BY-4.0",
        ),
        endorsers=("pita", "diego", "raj"),
    ),
    DemoInsight(
        "missing-days",
        "liam",
        150,
        _insight(
            "climate-data-collaborative",
            "lesson-learned",
            "Missing sensor days: impute carefully, and say so",
            "Dropping the days a gauge was down biased our flood model towards dry weeks (gauges fail in "
            "storms). Impute from neighbours, and keep a column that says which values were imputed.",
            sdgs=[13],
            tags=["data-quality"],
        ),
        endorsers=("mei",),
    ),
    DemoInsight(
        "audit-clause",
        "nadia",
        220,
        _insight(
            "ai-policy-forum",
            "insight",
            "Procurement clause: the right to audit the model",
            "Every public contract for an AI system should give the buyer the right to an **independent "
            "audit**: access to test the system on local data, and to publish the results.\n\n"
            "A model clause is in the evidence link.",
            sdgs=[16],
            tags=["procurement", "audit"],
            risks=["discrimination-toxicity"],
            evidence=["https://www.example.org/model-clauses/right-to-audit"],
        ),
        endorsers=("olu", "elena", "hugo", "grace"),
        reused_by=(
            ("grace", "moh-digital-office", "Added to the ministry's tender template for triage software."),
            ("olu", "sdg-strategy-council", "A condition of the commons' partner grants."),
        ),
    ),
    DemoInsight(
        "register",
        "hugo",
        90,
        _insight(
            "ai-policy-forum",
            "idea",
            "A public register of the algorithms a city uses",
            "Amsterdam and Helsinki publish one. A register with the purpose, the data and a contact for "
            "each system would let residents ask questions before they are affected.",
            sdgs=[16],
            tags=["transparency"],
        ),
        endorsers=("nadia",),
    ),
    DemoInsight(
        "priorities",
        "olu",
        60,
        _insight(
            "sdg-strategy-council",
            "insight",
            "2027 priorities: water and health first",
            "Partners agreed to weight the bounty pool towards SDG 6 and SDG 3 problems next year.",
            sectors=["public-sector", "finance"],
            sdgs=[3, 6, 17],
            tags=["strategy"],
        ),
    ),
    DemoInsight(
        "blended",
        "ahmed",
        30,
        _insight(
            "sdg-strategy-council",
            "idea",
            "A blended-finance pool for microgrid forecasts",
            "Draft for the council only: guarantee the first loss of lenders who finance forecast-driven "
            "microgrids.",
            sectors=["finance", "energy"],
            sdgs=[7, 17],
            audience="community",
        ),
    ),
    DemoInsight(
        "cassava",
        "kofi",
        180,
        _insight(
            "smallholder-ml-meetups",
            "lesson-learned",
            "Photos of cassava leaves: light matters more than the model",
            "Our crop-disease classifier went from 71% to 88% accuracy when farmers took photos in the "
            "shade, with the leaf filling the frame. We now print a one-page photo guide.",
            sdgs=[2],
            tags=["crop-disease", "photos"],
        ),
        endorsers=("diego", "grace", "raj"),
        reused_by=(("raj", "water-sensing-lab", "Our photo guide for reading test strips."),),
    ),
    DemoInsight(
        "offline",
        "diego",
        70,
        _insight(
            "smallholder-ml-meetups",
            "question",
            "Which apps work offline for co-ops without signal?",
            "Half of our members have no signal in the fields. Which model formats run on cheap phones "
            "offline?",
            sdgs=[2, 9],
            tags=["offline"],
        ),
        replies=(
            ("jonas", "TensorFlow Lite or ONNX Runtime Mobile; quantise to 8 bits and test on the phone."),
        ),
    ),
    DemoInsight(
        "turbidity",
        "raj",
        260,
        _insight(
            "water-sensing-lab",
            "resource",
            "Bill of materials for a $30 turbidity sensor",
            "| part | cost |\n| --- | --- |\n| optical sensor | $9 |\n| microcontroller | $6 |\n"
            "| enclosure and cable | $15 |\n\nSchematics and firmware are open hardware.",
            sdgs=[6],
            tags=["open-hardware", "sensors"],
            license="CC-BY-SA-4.0",
        ),
        endorsers=("ana", "pita", "liam"),
        reused_by=(
            ("pita", "ocean-plastics-strategy", "The islands' lagoon monitoring uses the same sensor."),
        ),
    ),
    DemoInsight(
        "calibrate",
        "ana",
        120,
        _insight(
            "water-sensing-lab",
            "lesson-learned",
            "Calibrate against lab samples every month",
            "Cheap sensors drift. A monthly lab sample per site kept our unsafe-water flags honest.",
            sdgs=[6],
            tags=["calibration", "data-quality"],
        ),
    ),
    DemoInsight(
        "check-sources",
        "lucia",
        20,
        _insight(
            "teachers-ai-circle",
            "lesson-learned",
            "Students trust chatbot answers too much: teach them to check",
            "A lesson that works: students ask a chatbot a local history question, then find two sources "
            "that confirm or contradict each claim. Most found at least one invented fact.",
            sdgs=[4],
            tags=["chatbots", "media-literacy"],
            risks=["misinformation"],
        ),
        replies=(("fatima", "We did it on the radio with listeners calling in. It works aloud too."),),
        endorsers=("priya", "fatima", "hugo"),
        reused_by=(
            ("amina", "nurses-on-ai", "Adapted for patients who bring chatbot advice to the clinic."),
        ),
    ),
    DemoInsight(
        "practice",
        "priya",
        110,
        _insight(
            "teachers-ai-circle",
            "idea",
            "Use AI tutors for practice, not for grading",
            "Tutors are good at endless practice questions; grades should stay with a person who knows "
            "the student.",
            sdgs=[4],
            tags=["assessment"],
            risks=["human-computer-interaction"],
        ),
    ),
    DemoInsight(
        "rest-stops",
        "tom",
        160,
        _insight(
            "drivers-safety-watch",
            "insight",
            "Route optimisation cut our rest stops: log what the app asks",
            "Since the new routing app, rest stops moved to the end of shifts. We keep a shared log of "
            "what the app asks of us; the union uses it with the employer.",
            sdgs=[8],
            tags=["route-optimisation", "monitoring"],
            risks=["socioeconomic-environmental"],
        ),
        endorsers=("marta", "sam"),
    ),
    DemoInsight(
        "checklist",
        "marta",
        80,
        _insight(
            "drivers-safety-watch",
            "resource",
            "A worker's checklist for algorithmic management",
            "1. What does the system measure?\n2. Who sees it?\n3. How do I contest a decision?\n"
            "4. Was the works council consulted?",
            sdgs=[8],
            tags=["monitoring", "workers-rights"],
            license="CC0-1.0",
        ),
        reused_by=(
            ("lucia", "teachers-ai-circle", "Turned into a checklist for school proctoring software."),
        ),
    ),
    DemoInsight(
        "translate",
        "sara",
        5,
        _insight(
            "humanitarian-ai-summit",
            "lesson-learned",
            "Translate before you triage: language gaps in crisis chatbots",
            "Our intake chatbot understood Arabic and French but not the dialects people spoke in the "
            "camps. Test with real speakers before a crisis, not during one.",
            sdgs=[1, 3],
            tags=["chatbots", "translation"],
            risks=["discrimination-toxicity"],
        ),
        endorsers=("amina", "nadia"),
        reused_by=(("lucia", "teachers-ai-circle", "A lesson on who chatbots leave out."),),
    ),
    DemoInsight(
        "drones",
        "pita",
        140,
        _insight(
            "ocean-plastics-strategy",
            "insight",
            "Drone imagery finds beach plastic; the islands need boat time",
            "Detection is solved well enough. What limits clean-ups is boat time: fund fuel with the model.",
            sdgs=[14],
            tags=["drones", "plastic"],
        ),
    ),
    DemoInsight(
        "per-village",
        "yuki",
        230,
        _insight(
            "energy-access-network",
            "lesson-learned",
            "Forecast demand per village, not per grid",
            "A grid-level forecast hid the evening peaks of the villages with schools. Per-village "
            "models cut diesel use by a fifth.",
            sdgs=[7],
            tags=["forecasting", "microgrids"],
        ),
        endorsers=("ahmed", "kofi"),
        reused_by=(("kofi", "smallholder-ml-meetups", "Per-village forecasts for irrigation pumps."),),
    ),
    DemoInsight(
        "data-sharing",
        "grace",
        30,
        _insight(
            "moh-digital-office",
            "resource",
            "Template: a data-sharing agreement for clinics",
            "The ministry's template for clinics that share records for model validation: purpose, "
            "retention, who may see what, and how patients are told.",
            sdgs=[3],
            tags=["data-sharing", "procurement"],
            risks=["privacy-security"],
        ),
        endorsers=("amina", "nadia"),
    ),
)
FOLLOWED = (("sector", "health"), ("tag", "chatbots"), ("community", "humanitarian-ai-summit"))


def seed(session: Session, people: dict[str, Member]) -> None:
    """Publish the demo's insights with their conversations and reuse, and give the demo login
    subscriptions and one digest already delivered."""
    now = utcnow()
    login = people[DEMO_LOGIN]
    for spec in sorted(INSIGHTS, key=lambda spec: -spec.hours_ago):  # oldest first: ids grow with time
        insight = service.publish(
            session=session, author=people[spec.author], form=InsightCreate(**spec.form)
        )
        _converse(session, people, insight, spec)
        insight.created_at = now - timedelta(hours=spec.hours_ago)  # a feed that grew over two weeks
    for facet, value in FOLLOWED:
        subscriptions.subscribe(
            session=session, member=login, form=SubscriptionCreate(facet=facet, value=value)
        )
    earlier = update(Subscription).where(Subscription.member_id == login.id)
    session.execute(earlier.values(last_digest_at=now - timedelta(days=2)))  # yesterday's digest, and …
    subscriptions.send_digest(session, member_id=login.id, now=now)  # … today's, already delivered


def _converse(session: Session, people: dict[str, Member], insight: Insight, spec: DemoInsight) -> None:
    replies = [
        service.reply(session=session, author=people[handle], insight=insight, form=ReplyCreate(body=text))
        for handle, text in spec.replies
    ]
    if spec.accepted is not None:
        service.accept(
            session=session, actor=people[spec.author], insight=insight, reply_id=replies[spec.accepted].id
        )
    for handle in spec.endorsers:
        service.endorse(session=session, member=people[handle], insight=insight)
    for handle, community, note in spec.reused_by:
        form = ReuseCreate(community=community, note=note)
        service.record_reuse(session=session, actor=people[handle], insight=insight, form=form)
