"""Concerns through the JSON API: raising one with or without an account, tracking it, bad input, every role
against every action, redaction, a private policy community, the AIID export and flags from members and
addresses."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aicommons.concerns.models import Concern, Flag, OrganisationResponse, Responder
from aicommons.core.ratelimit import RateHit
from aicommons.ledger.models import LogRecord
from tests.concerns.conftest import concern_form, concern_row, events

BASE = "/api/v1/concerns"


def count(factory, model) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_anyone_raises_a_concern_and_follows_it_by_its_private_link(client, raised):
    answer = raised(contact="jane@example.org")
    token, concern = answer["tracking_token"], answer["concern"]
    assert answer["tracking_url"] == f"http://testserver/concerns/track/{token}"
    assert (concern["status"], concern["contact"], concern["reporter_role"]) == ("received", None, "nurse")
    tracked = client.get(f"{BASE}/track/{token}").json()
    assert [change["to_status"] for change in tracked["history"]] == ["received"]
    assert client.get(f"{BASE}/track/aict_not-a-real-token").json()["code"] == "concern_not_found"
    shown = client.get(f"{BASE}/{concern['id']}").json()
    assert "tracking" not in str(shown) and shown["contact"] is None


def test_the_public_sees_redacted_text_and_moderators_the_whole_of_it(client, scene, headers_of, raised):
    text = "Call Dr Okafor on +44 20 7946 0958 or okafor@clinic.example.org: the bot misread her notes."
    concern_id = raised(what_happened=text, contact="rita@example.org")["concern"]["id"]
    public = client.get(f"{BASE}/{concern_id}").json()
    assert (
        public["what_happened"]
        == "Call Dr Okafor on [phone removed] or [email removed]: the bot misread her notes."
    )
    assert (
        public["summary"] == public["what_happened"] and public["contact"] is None and public["flags"] is None
    )
    listed = client.get(BASE).json()["items"][0]
    assert listed["summary"] == public["summary"]
    moderated = client.get(f"{BASE}/{concern_id}", headers=headers_of("mona")).json()
    assert (moderated["what_happened"], moderated["contact"], moderated["flags"]) == (
        text,
        "rita@example.org",
        0,
    )


REQUIRED = ("ai_tool", "where_seen", "what_happened", "who_affected", "harm", "worry")


@pytest.mark.parametrize(
    "change",
    [
        *({field: None} for field in REQUIRED),
        {"ai_tool": "x"},
        {"ai_tool": "x" * 121},
        {"where_seen": " "},
        {"what_happened": "too short"},
        {"what_happened": "x" * 5001},
        {"who_affected": "p" * 501},
        {"harm": "maybe"},
        {"worry": "panic"},
        {"worry": 3},
        {"reporter_role": "r" * 81},
        {"contact": "not an email"},
        {"contact": "a" * 250 + "@example.org"},
        {"reporter_id": 1},
    ],
)
def test_bad_concerns_are_422_and_nothing_is_written(client, factory, change):
    form = {key: value for key, value in (concern_form() | change).items() if value is not None}
    answer = client.post(BASE, json=form)
    assert (answer.status_code, answer.json()["code"]) == (422, "validation_failed")
    assert count(factory, Concern) == count(factory, RateHit) == count(factory, LogRecord) == 0


def test_a_body_over_a_megabyte_is_refused_before_it_is_read(client, factory):
    answer = client.post(BASE, json=concern_form(what_happened="x" * 1_100_000))
    assert answer.status_code == 413 and count(factory, Concern) == 0


def test_a_signed_in_reporter_finds_their_concerns_under_mine(client, scene, headers_of):
    mine = client.get(f"{BASE}/mine", headers=headers_of("rita")).json()
    assert [item["id"] for item in mine["items"]] == [scene.concern_id]
    assert client.get(f"{BASE}/mine", headers=headers_of("mel")).json()["total"] == 0
    assert client.get(f"{BASE}/mine").json()["code"] == "not_authenticated"
    shown = client.get(f"{BASE}/{scene.concern_id}").json()
    assert "rita" not in str(shown)


def test_the_list_filters_by_status_and_refuses_an_unknown_one(client, scene):
    assert [item["id"] for item in client.get(f"{BASE}?status=triaged").json()["items"]] == [scene.other_id]
    assert client.get(f"{BASE}?status=escalated").json()["total"] == 1
    assert client.get(f"{BASE}?status=lost").status_code == 422


# --- every role against every action -------------------------------------------------------------------

ACTIONS: dict[str, tuple[str, str, Any]] = {
    "move": ("POST", "{concern}/status", {"status": "under-discussion", "reason": "The forum is on it."}),
    "triage": ("PUT", "{concern}/tags", {"risk_entity": "ai", "harm_types": ["physical"]}),
    "merge": ("POST", "{concern}/merge", {"into": "{other}"}),
    "escalate": ("POST", "{other}/escalate", {"aiid": True, "reason": "For the incident database."}),
    "hide": ("POST", "{concern}/hide", {"reason": "It names a patient."}),
    "restore": ("POST", "{concern}/restore", None),
    "name_responder": (
        "POST",
        "responders",
        {"handle": "mel", "organisation": "Grades Inc", "concern": "{other}"},
    ),
    "respond": ("POST", "{concern}/responses", {"body": "We paused TriageBot at night."}),
    "queue": ("GET", "moderation", None),
}
MODERATORS = {"mona", "ada"}
ALLOWED = {action: MODERATORS for action in ACTIONS} | {"move": MODERATORS | {"stella"}, "respond": {"rory"}}
EVENT_OF = {
    "move": "concerns:concern:status",
    "triage": "concerns:concern:triage",
    "merge": "concerns:concern:merge",
    "escalate": "concerns:concern:escalate",
    "hide": "concerns:concern:hide",
    "restore": "concerns:concern:restore",
    "name_responder": "concerns:responder:name",
    "respond": "concerns:response:post",
}
PEOPLE = ("anonymous", "mel", "rita", "rory", "stella", "oscar", "mona", "ada")


def send(client: TestClient, scene, action: str, headers: dict[str, str]) -> Any:
    method, path, body = ACTIONS[action]

    def filled(value: Any) -> Any:
        if isinstance(value, str):
            named = value.format(concern=scene.concern_id, other=scene.other_id)
            return int(named) if named.isdigit() else named
        return {key: filled(item) for key, item in value.items()} if isinstance(value, dict) else value

    return client.request(method, f"{BASE}/{filled(path)}", json=filled(body), headers=headers)


def snapshot(factory, scene) -> tuple[Any, ...]:
    tables = (OrganisationResponse, Responder, Flag)
    rows = (concern_row(factory, scene.concern_id), concern_row(factory, scene.other_id))
    return (*rows, *(count(factory, table) for table in tables), len(events(factory)))


@pytest.mark.parametrize("person", PEOPLE)
def test_every_action_a_person_may_not_do_is_refused_and_changes_nothing(
    client, scene, headers_of, factory, person
):
    headers, before = headers_of(person), snapshot(factory, scene)
    refused = [action for action in ACTIONS if person not in ALLOWED[action]]
    for action in refused:
        answer = send(client, scene, action, headers)
        expected = (401, "not_authenticated") if person == "anonymous" else (403, "forbidden")
        assert (answer.status_code, answer.json()["code"]) == expected, action
    assert snapshot(factory, scene) == before


ALLOWED_PAIRS = [(person, action) for action in ACTIONS for person in sorted(ALLOWED[action])]


@pytest.mark.parametrize(("person", "action"), ALLOWED_PAIRS, ids=[f"{p}-{a}" for p, a in ALLOWED_PAIRS])
def test_every_action_a_person_may_do_is_done_and_logged(client, scene, headers_of, factory, person, action):
    answer = send(client, scene, action, headers_of(person))
    assert answer.status_code in (200, 201), answer.text
    if action in EVENT_OF:
        last = events(factory)[-1]
        assert (last["event"], last["actor"]) == (EVENT_OF[action], f"member:{scene.people[person].id}")


def test_a_steward_of_another_policy_community_cannot_move_the_concern(client, scene, headers_of):
    answer = send(client, scene, "move", headers_of("oscar"))
    assert answer.json()["code"] == "forbidden"


def test_closing_without_a_reason_is_422_and_with_one_the_reporter_reads_it(client, scene, headers_of):
    path = f"{BASE}/{scene.concern_id}/status"
    refused = client.post(path, json={"status": "closed"}, headers=headers_of("mona"))
    assert (refused.status_code, refused.json()["code"]) == (422, "validation_failed")
    closed = client.post(
        path, json={"status": "closed", "reason": "Fixed by the hospital."}, headers=headers_of("mona")
    )
    assert closed.json()["status"] == "closed"
    history = client.get(f"{BASE}/track/{scene.token}").json()["history"]
    assert [(change["to_status"], change["reason"]) for change in history] == [
        ("received", ""),
        ("triaged", "A real risk to patients."),
        ("escalated", "The forum drafts hospital guidance."),
        ("closed", "Fixed by the hospital."),
    ]
    again = client.post(path, json={"status": "triaged"}, headers=headers_of("mona"))
    assert (again.status_code, again.json()["code"]) == (409, "bad_transition")


# --- escalation, private communities and the AIID ------------------------------------------------------


def private_scene(client, headers_of) -> tuple[int, str]:
    """A private policy council (stella steward, mona member) and a concern escalated to it by mona."""
    steward, mona = headers_of("stella"), headers_of("mona")
    form = {
        "name": "Quiet Council",
        "slug": "quiet-council",
        "format": "policy",
        "sectors": ["health"],
        "sdgs": [3],
        "region": "europe",
        "visibility": "private",
        "join_policy": "invite",
    }
    assert client.post("/api/v1/communities", json=form, headers=steward).status_code == 201
    client.post("/api/v1/communities/quiet-council/invitations", json={"handle": "mona"}, headers=steward)
    client.post("/api/v1/communities/quiet-council/members", headers=mona)
    raised = client.post(BASE, json=concern_form(ai_tool="ShiftPlanner")).json()
    concern_id, token = raised["concern"]["id"], raised["tracking_token"]
    client.post(f"{BASE}/{concern_id}/status", json={"status": "triaged"}, headers=mona)
    escalation = {
        "community": "quiet-council",
        "reason": "The council drafts rules.",
        "note": "Compare with ward 7.",
    }
    assert client.post(f"{BASE}/{concern_id}/escalate", json=escalation, headers=mona).status_code == 200
    return int(concern_id), str(token)


def test_a_concern_escalated_to_a_private_community_shows_only_that_it_was_escalated(
    client, scene, headers_of
):
    concern_id, token = private_scene(client, headers_of)
    tracked = client.get(f"{BASE}/track/{token}").json()["escalation"]
    assert (tracked["community"], tracked["note"], tracked["to_community"]) == (None, None, True)
    for outsider in ("anonymous", "mel", "oscar"):
        escalation = client.get(f"{BASE}/{concern_id}", headers=headers_of(outsider)).json()["escalation"]
        assert escalation["community"] is escalation["community_name"] is escalation["note"] is None
        assert escalation["to_community"] is True
    inside = client.get(f"{BASE}/{concern_id}", headers=headers_of("stella")).json()["escalation"]
    assert (inside["community"], inside["note"]) == ("quiet-council", "Compare with ward 7.")
    public = client.get(f"{BASE}/{scene.concern_id}").json()["escalation"]
    assert (public["community"], public["community_name"], public["note"]) == (
        "policy-forum",
        "Policy policy-forum",
        None,
    )


def test_the_steward_of_the_community_it_went_to_moves_it_on(client, scene, headers_of):
    change = {"status": "resolved", "reason": "Guidance published."}
    moved = client.post(f"{BASE}/{scene.concern_id}/status", json=change, headers=headers_of("stella"))
    assert moved.json()["status"] == "resolved"
    refused = client.put(
        f"{BASE}/{scene.concern_id}/tags", json={"risk_entity": "ai"}, headers=headers_of("stella")
    )
    assert refused.json()["code"] == "forbidden"


def test_the_aiid_export_is_only_for_concerns_escalated_to_it(client, scene, headers_of, raised):
    assert client.get(f"{BASE}/{scene.concern_id}/aiid").json()["code"] == "not_escalated"
    text = "It ranked pupils by postcode; ask Ms Diaz on 555-123-4567."
    concern_id = raised(ai_tool="GradeBot", what_happened=text, contact="diaz@example.org")["concern"]["id"]
    mona = headers_of("mona")
    client.post(f"{BASE}/{concern_id}/status", json={"status": "triaged"}, headers=mona)
    tags = {"risk_entity": "ai", "risk_domains": ["discrimination-toxicity"], "deployer": "City Schools"}
    client.put(f"{BASE}/{concern_id}/tags", json=tags | {"developer": "Grades Inc"}, headers=mona)
    client.post(f"{BASE}/{concern_id}/escalate", json={"aiid": True}, headers=mona)
    exported = client.get(f"{BASE}/{concern_id}/aiid").json()
    assert exported["description"] == "It ranked pupils by postcode; ask Ms Diaz on [phone removed]."
    assert (exported["deployers"], exported["developers"]) == (["City Schools"], ["Grades Inc"])
    assert (exported["implicated_systems"], exported["harmed_parties"]) == (
        ["GradeBot"],
        ["Patients who arrive at night"],
    )
    assert exported["url"] == f"http://testserver/concerns/{concern_id}"
    assert exported["source_domain"] == "testserver" and exported["submitters"] == ["AI Commons"]
    assert exported["authors"] == ["A nurse (anonymous reporter)"]
    assert {"harm:incident", "mit-entity:ai", "mit-domain:discrimination-toxicity"} <= set(exported["tags"])
    assert "diaz@example.org" not in str(exported) and "555-123" not in str(exported)


# --- corroborations and flags from many addresses ------------------------------------------------------


def from_address(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 50000))


def test_flags_from_addresses_wait_for_the_moderators_and_hide_nothing(app, client, scene, headers_of):
    path = f"{BASE}/{scene.other_id}"
    answers = [
        from_address(app, f"198.51.100.{n}").post(f"{path}/flags", json={"reason": "spam"}) for n in (1, 2, 3)
    ]
    assert [(answer.status_code, answer.json()["hidden"]) for answer in answers] == [(201, False)] * 3
    queue = client.get(f"{BASE}/moderation", headers=headers_of("mona")).json()["items"]
    assert [(item["id"], item["hidden"]) for item in queue] == [(scene.other_id, False)]


def test_flags_from_three_members_hide_a_concern_until_a_moderator_restores_it(
    app, client, scene, headers_of
):
    path = f"{BASE}/{scene.other_id}"
    answers = [
        client.post(f"{path}/flags", json={"reason": "spam"}, headers=headers_of(handle))
        for handle in ("mel", "oscar", "stella")
    ]
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert [answer.json()["hidden"] for answer in answers] == [False, False, True]
    again = from_address(app, "198.51.100.1").post(f"{path}/flags", json={"reason": "off-topic"})
    assert again.status_code == 404  # hidden: it no longer exists for the public
    assert client.get(path).json()["code"] == "concern_not_found"
    assert scene.other_id not in [item["id"] for item in client.get(BASE).json()["items"]]
    queue = client.get(f"{BASE}/moderation", headers=headers_of("mona")).json()["items"]
    assert [(item["id"], item["hidden"]) for item in queue] == [(scene.other_id, True)]
    client.post(f"{path}/restore", headers=headers_of("mona"))
    assert client.get(path).json()["hidden"] is False
    assert client.get(f"{BASE}/moderation", headers=headers_of("mona")).json()["total"] == 0


def test_a_repeated_flag_answers_200_and_a_bad_reason_422(client, scene, factory):
    path = f"{BASE}/{scene.other_id}/flags"
    assert client.post(path, json={"reason": "spam"}).status_code == 201
    assert client.post(path, json={"reason": "spam"}).status_code == 200
    assert client.post(path, json={"reason": "boring"}).status_code == 422
    assert count(factory, Flag) == 1


def test_anyone_corroborates_once_with_their_sector(app, client, scene, headers_of):
    path = f"{BASE}/{scene.concern_id}/corroborations"
    assert from_address(app, "192.0.2.1").post(path, json={"sector": "health"}).status_code == 201
    assert from_address(app, "192.0.2.2").post(path, json={"sector": "health"}).status_code == 201
    assert client.post(path, json={"sector": "education"}, headers=headers_of("mel")).status_code == 201
    again = from_address(app, "192.0.2.1").post(path, json={"sector": "labour"})
    assert (again.status_code, again.json()["code"]) == (409, "already_corroborated")
    own = client.post(path, json={"sector": "health"}, headers=headers_of("rita"))
    assert own.json()["code"] == "already_corroborated"
    assert client.post(path, json={"sector": "astrology"}).status_code == 422
    shown = client.get(f"{BASE}/{scene.concern_id}").json()
    assert (shown["corroborations"], shown["sectors"]) == (3, {"health": 2, "education": 1})


def test_the_sixth_anonymous_concern_in_an_hour_from_one_address_is_429(app, factory):
    reporter = from_address(app, "203.0.113.77")
    for _ in range(5):
        assert reporter.post(BASE, json=concern_form()).status_code == 201
    refused = reporter.post(BASE, json=concern_form())
    assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
    assert refused.json()["retry_after"] > 0
    assert from_address(app, "203.0.113.78").post(BASE, json=concern_form()).status_code == 201
    assert count(factory, Concern) == 6
    with factory() as db:
        assert "203.0.113" not in str(db.scalars(select(RateHit.bucket)).all())


def test_responses_are_public_and_redacted(client, scene, headers_of):
    body = {"body": "We paused the night mode. Questions: press@triagebot.example.org"}
    posted = client.post(f"{BASE}/{scene.concern_id}/responses", json=body, headers=headers_of("rory"))
    assert posted.status_code == 201
    shown = client.get(f"{BASE}/{scene.concern_id}").json()["responses"]
    assert [(row["organisation"], row["body"]) for row in shown] == [
        ("TriageBot Health Ltd", "We paused the night mode. Questions: [email removed]")
    ]
    assert (
        client.post(
            f"{BASE}/{scene.concern_id}/responses", json={"body": ""}, headers=headers_of("rory")
        ).status_code
        == 422
    )


def test_naming_a_responder_needs_one_scope_and_a_member_who_exists(client, scene, headers_of):
    mona = headers_of("mona")
    both = {"handle": "mel", "organisation": "Grades Inc", "concern": scene.other_id, "ai_tool": "GradeBot"}
    assert client.post(f"{BASE}/responders", json=both, headers=mona).status_code == 422
    nobody = {"handle": "nobody", "organisation": "Grades Inc", "ai_tool": "GradeBot"}
    assert client.post(f"{BASE}/responders", json=nobody, headers=mona).json()["code"] == "member_not_found"
    missing = {"handle": "mel", "organisation": "Grades Inc", "concern": 999}
    assert client.post(f"{BASE}/responders", json=missing, headers=mona).json()["code"] == "concern_not_found"
    named = client.post(f"{BASE}/responders", json=nobody | {"handle": "mel"}, headers=mona)
    assert named.json() == {
        "handle": "mel",
        "organisation": "Grades Inc",
        "concern": None,
        "ai_tool": "GradeBot",
    }
