"""Governance through the JSON API: the whole lifecycle, who may do what, and bad requests that change
nothing. Time moves by running the worker's chore at chosen moments."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from aicommons.communities import service as communities
from aicommons.core.db import unit_of_work, utcnow
from aicommons.governance.jobs import move_due
from aicommons.governance.models import Proposal, Vote
from aicommons.governance.parameters import DECLARED
from aicommons.ledger import tokens
from tests.governance.conftest import TREASURY, community_form

API = "/api/v1/governance/proposals"
TRANSFER = {"kind": "treasury_transfer", "recipient": "member", "to": "dave", "amount": 25}


@pytest.fixture
def headers(commons, token_for) -> dict[str, dict[str, str]]:
    return {handle: token_for(member) for handle, member in commons.people.items()}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def proposed(client, headers, who: str = "alice", **form: Any) -> dict[str, Any]:
    body = {"title": "Pay dave for the pump", "body": "He fixed it **twice**."} | form
    created = client.post(API, headers=headers[who], json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


def voting(client, headers, factory, who: str = "alice", **form: Any) -> dict[str, Any]:
    """A proposal submitted and its voting opened (the chore run at the moment voting starts)."""
    proposal = proposed(client, headers, who, **form)
    submitted = client.post(f"{API}/{proposal['id']}/submit", headers=headers[who]).json()
    move_due(factory, moment(submitted["voting_starts_at"]))
    return dict(client.get(f"{API}/{proposal['id']}").json())


def rows(factory, model) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_treasury_transfer_from_draft_to_executed(client, headers, factory, commons):
    proposal = voting(client, headers, factory, action=TRANSFER)
    assert (proposal["state"], proposal["quorum"], proposal["electorate"]) == ("active", 3, 6)
    url = f"{API}/{proposal['id']}"
    for who, choice in (("alice", "for"), ("bob", "against"), ("bob", "for"), ("carol", "for")):
        answer = client.post(f"{url}/votes", headers=headers[who], json={"choice": choice})
        assert (answer.status_code, answer.json()["power"]) == (201, 1)
    live = client.get(f"{url}/tally").json()
    assert (live["counts"], live["labels"], live["final"], live["passed"]) == (
        [3, 0, 0],
        ["for", "against", "abstain"],
        False,
        True,
    )
    assert client.get(f"{url}/votes").json()["total"] == 3
    assert client.get(f"{url}/votes?history=true").json()["total"] == 4
    assert client.get(f"{url}/power", headers=headers["erin"]).json() == {
        "power": 1,
        "snapshot": proposal["snapshot"],
        "method": "one_member",
    }
    move_due(factory, moment(proposal["voting_ends_at"]))  # closes and queues it
    queued = client.get(url).json()
    assert (queued["state"], queued["result"]["counts"]) == ("queued", [3, 0, 0])
    early = client.post(f"{url}/execute", headers=headers["erin"])
    assert (early.status_code, early.json()["code"]) == (409, "timelock_pending")
    move_due(factory, moment(queued["eta"]))
    executed = client.get(url).json()
    assert (executed["state"], executed["outcome"]["amount"]) == ("executed", 25)
    again = client.post(f"{url}/execute", headers=headers["erin"])
    assert (again.status_code, again.json()["code"]) == (409, "already_executed")
    with factory() as session:
        assert tokens.balance(session, tokens.member_account(commons["dave"].id)) == 25
        assert tokens.balance(session, tokens.TREASURY) == TREASURY - 25
    assert client.get(f"{url}/tally").json()["final"] is True
    steps = [step["step"] for step in client.get(f"{url}/timeline").json()]
    assert steps == ["draft", "pending", "active", "succeeded", "queued", "executed"]


def test_executing_by_hand_after_the_timelock(client, headers, factory, commons):
    proposal = voting(client, headers, factory, action=TRANSFER)
    url = f"{API}/{proposal['id']}"
    for who in ("alice", "bob", "carol"):
        client.post(f"{url}/votes", headers=headers[who], json={"choice": "for"})
    move_due(factory, moment(proposal["voting_ends_at"]))
    with unit_of_work(factory) as session:  # as if the timelock had passed and the worker not come by
        session.get(Proposal, proposal["id"]).eta = utcnow() - timedelta(minutes=1)
    executed = client.post(f"{url}/execute", headers=headers["erin"])
    assert (executed.status_code, executed.json()["state"]) == (200, "executed")
    anonymous = client.post(f"{url}/execute")
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("who", "status"),
    [("bob", 200), ("alice", 200), ("root", 200), ("carol", 403), ("erin", 403), (None, 401)],
)
def test_who_may_cancel_a_community_proposal(client, headers, factory, commons, who, status):
    """bob proposed it; alice stewards the community; root is an admin; carol is a member, erin is not."""
    proposal = voting(client, headers, factory, who="bob", community="water-watch")
    answer = client.post(f"{API}/{proposal['id']}/cancel", headers=headers[who] if who else {})
    assert answer.status_code == status, answer.text
    assert client.get(f"{API}/{proposal['id']}").json()["state"] == (
        "canceled" if status == 200 else "active"
    )


@pytest.mark.parametrize(("who", "status"), [("alice", 200), ("bob", 403), ("root", 403), (None, 401)])
def test_only_the_proposer_submits_a_draft(client, headers, commons, who, status):
    proposal = proposed(client, headers)
    answer = client.post(f"{API}/{proposal['id']}/submit", headers=headers[who] if who else {})
    assert answer.status_code == status
    assert client.get(f"{API}/{proposal['id']}").json()["state"] == ("pending" if status == 200 else "draft")


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("dave", 201, None),
        ("erin", 403, "no_voting_power"),
        ("root", 403, "no_voting_power"),
        (None, 401, "not_authenticated"),
    ],
)
def test_who_may_vote_on_a_community_proposal(client, headers, factory, commons, who, status, code):
    proposal = voting(client, headers, factory, community="water-watch")
    answer = client.post(
        f"{API}/{proposal['id']}/votes", headers=headers[who] if who else {}, json={"choice": "for"}
    )
    assert answer.status_code == status
    assert answer.json().get("code") == code
    assert rows(factory, Vote) == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Hi"},
        {"title": "x" * 161},
        {"body": "b" * 20_001},
        {"method": "sortition"},
        {"options": ["A", "B"]},
        {"method": "approval", "options": ["Only one"]},
        {"method": "ranked", "options": ["Same", "Same"]},
        {"method": "ranked", "options": [f"Option {n}" for n in range(11)]},
        {"method": "approval", "options": ["A", "B"], "action": TRANSFER},
        {"action": {"kind": "bribe"}},
        {"action": TRANSFER | {"amount": 0}},
        {"action": TRANSFER | {"recipient": "alien"}},
        {"action": {"kind": "dataset_admission", "dataset": "x", "subsidy": -1}},
        {"action": {"kind": "parameter_change", "name": "governance:quorum-percent", "value": -5}},
        {"action": {"kind": "membership", "handle": "Not A Handle!"}},
        {"community": "Not a slug"},
        {"unexpected": True},
    ],
)
def test_bad_proposals_are_422_and_nothing_is_written(client, headers, factory, commons, change):
    body = {"title": "A good title", "body": ""} | change
    answer = client.post(API, headers=headers["alice"], json=body)
    assert (answer.status_code, answer.json()["code"]) == (422, "validation_failed")
    assert rows(factory, Proposal) == 0


@pytest.mark.parametrize(
    ("action", "status", "code"),
    [
        (TRANSFER | {"to": "nobody"}, 404, "member_not_found"),
        (
            {"kind": "parameter_change", "name": "governance:quorum-percent", "value": 101},
            422,
            "validation_failed",
        ),
        ({"kind": "dataset_admission", "dataset": "no-such-data", "subsidy": 1}, 404, "dataset_not_found"),
        ({"kind": "membership", "handle": "bob"}, 422, "validation_failed"),  # commons-wide
    ],
)
def test_actions_that_do_not_resolve_are_refused(client, headers, factory, commons, action, status, code):
    answer = client.post(API, headers=headers["alice"], json={"title": "A good title", "action": action})
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert rows(factory, Proposal) == 0


@pytest.mark.parametrize(
    ("choice", "code"), [("maybe", "invalid_choice"), ([0], "invalid_choice"), (["for"], "validation_failed")]
)
def test_bad_votes_are_refused_and_not_counted(client, headers, factory, commons, choice, code):
    proposal = voting(client, headers, factory)
    answer = client.post(f"{API}/{proposal['id']}/votes", headers=headers["bob"], json={"choice": choice})
    assert (answer.status_code, answer.json()["code"]) == (422, code)
    assert rows(factory, Vote) == 0


def test_a_vote_before_the_voting_opens_is_409(client, headers, factory, commons):
    proposal = proposed(client, headers)
    answer = client.post(f"{API}/{proposal['id']}/votes", headers=headers["bob"], json={"choice": "for"})
    assert (answer.status_code, answer.json()["code"]) == (409, "voting_closed")
    submit = client.post(f"{API}/{proposal['id']}/submit", headers=headers["carol"])
    assert submit.json()["code"] == "forbidden"


def test_submitting_below_the_threshold_is_403(client, headers, commons):
    proposal = proposed(client, headers, who="carol", community="water-watch")
    answer = client.post(f"{API}/{proposal['id']}/submit", headers=headers["carol"])
    assert (answer.status_code, answer.json()["code"]) == (403, "below_threshold")
    assert client.get(f"{API}/{proposal['id']}").json()["state"] == "draft"


def test_a_private_communitys_proposals_exist_only_for_its_members(client, headers, factory, commons):
    with unit_of_work(factory) as session:
        form = community_form("quiet-room", visibility="private", join_policy="invite")
        room = communities.create(session=session, creator=session.merge(commons["bob"]), form=form)
        communities.invite(
            session=session, actor=session.merge(commons["bob"]), community=room, handle="carol"
        )
        communities.join(session=session, community=room, member=session.merge(commons["carol"]))
    proposal = proposed(client, headers, who="bob", community="quiet-room")
    assert client.get(f"{API}/{proposal['id']}", headers=headers["carol"]).status_code == 200
    hidden = client.get(f"{API}/{proposal['id']}", headers=headers["erin"])
    assert (hidden.status_code, hidden.json()["code"]) == (404, "proposal_not_found")
    assert client.get(f"{API}/{proposal['id']}/tally").status_code == 404
    listed = client.get(f"{API}?community=quiet-room", headers=headers["erin"])
    assert listed.json()["code"] == "community_not_found"
    assert client.get(API).json()["total"] == 0  # commons-wide list: not there either


def test_lists_are_per_community_or_commons_wide_and_filter_by_state_and_kind(
    client, headers, factory, commons
):
    proposed(client, headers, title="Commons signal")
    voting(client, headers, factory, community="water-watch", action={"kind": "membership", "handle": "bob"})
    proposed(client, headers, community="water-watch", title="A community signal")
    assert [p["title"] for p in client.get(API).json()["items"]] == ["Commons signal"]
    mine = client.get(f"{API}?community=water-watch").json()
    assert [p["kind"] for p in mine["items"]] == ["signal", "membership"]
    assert client.get(f"{API}?community=water-watch&state=active").json()["total"] == 1
    assert client.get(f"{API}?community=water-watch&kind=signal").json()["total"] == 1
    assert client.get(f"{API}?state=nonsense").status_code == 422
    assert client.get(f"{API}/99").json()["code"] == "proposal_not_found"


def test_the_governable_parameters_and_their_values(client, commons):
    listed = {row["name"]: row for row in client.get("/api/v1/governance/parameters").json()}
    assert set(listed) == {parameter.name for parameter in DECLARED}
    quorum = listed["governance:quorum-percent"]
    assert (quorum["value"], quorum["minimum"], quorum["maximum"], quorum["unit"]) == (50, 1, 100, "percent")
    assert listed["problems:dividend-percent"]["value"] == 10
