"""Teams consent: a member joins an existing team only by its invitation or approval (issue 15, item 8)."""

import pytest
from sqlalchemy import func, select, update

from aicommons.ledger.models import LogRecord
from aicommons.problems.models import Problem, Team, TeamMember, TeamRequest
from tests.problems import test_api
from tests.problems.test_api import predictions, submit

owner, published = test_api.owner, test_api.published  # the API tests' fixtures, shared
API = "/api/v1/problems"


@pytest.fixture
def people(make_member, token_for) -> dict[str, dict[str, str]]:
    """The authorization headers of ana, ben, cyd and mal (who tries to take over others' teams)."""
    return {handle: token_for(make_member(handle)) for handle in ("ana", "ben", "cyd", "mal")}


def found(client, slug, headers, name):
    return client.post(f"{API}/{slug}/teams/{name}", headers=headers)


def invite(client, slug, headers, name, handle):
    return client.post(f"{API}/{slug}/teams/{name}/invitations", json={"handle": handle}, headers=headers)


def ask(client, slug, headers, name):
    return client.post(f"{API}/{slug}/teams/{name}/requests", headers=headers)


def decide(client, slug, headers, kind, number, decision):
    return client.post(f"{API}/{slug}/{kind}/{number}/{decision}", headers=headers)


def members_of(factory, name: str) -> list[str]:
    with factory() as db:
        team = db.scalars(select(Team).where(Team.name == name)).one()
        return sorted(row.member.handle for row in team.members)


def log_size(factory) -> int:
    with factory() as db:
        return int(db.scalar(select(func.count()).select_from(LogRecord)) or 0)


def team_events(factory) -> list[str]:
    with factory() as db:
        query = select(LogRecord.event).where(LogRecord.event.like("problems:team:%")).order_by(LogRecord.id)
        return list(db.scalars(query))


# --- the attack ----------------------------------------------------------------------------------------


def test_joining_an_existing_team_by_name_is_refused_and_changes_nothing(client, published, people, factory):
    """The hijack: mal names ana's team to join it, to read its submissions, change its finals, spend its
    quota and take a share of its bounty."""
    assert found(client, published, people["ana"], "rivers").status_code == 200
    assert submit(client, published, people["ana"], predictions(1)).status_code == 201
    before = log_size(factory)
    refused = found(client, published, people["mal"], "rivers")
    assert (refused.status_code, refused.json()["code"]) == (403, "team_consent_required")
    assert members_of(factory, "rivers") == ["ana"]
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(TeamMember)) == 1  # mal has no team at all
    assert log_size(factory) == before
    assert client.get(f"{API}/{published}/submissions/mine", headers=people["mal"]).json() == []
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(TeamRequest)) == 0  # not even a request


def test_an_invitation_is_taken_only_by_its_invitee_and_changes_nothing_otherwise(
    client, published, people, factory
):
    """mal learns the number of ben's invitation and tries every door: accepting it, declining it, naming the
    team, inviting himself, approving a request of his own."""
    found(client, published, people["ana"], "rivers")
    invitation = invite(client, published, people["ana"], "rivers", "ben").json()
    before = log_size(factory)
    for kind, decision in (("invitations", "accept"), ("invitations", "decline"), ("requests", "approve")):
        refused = decide(client, published, people["mal"], kind, invitation["id"], decision)
        assert (refused.status_code, refused.json()["code"]) == (404, "request_not_found"), (kind, decision)
    named = found(client, published, people["mal"], "rivers")
    assert (named.status_code, named.json()["code"]) == (403, "team_consent_required")
    himself = invite(client, published, people["mal"], "rivers", "mal")
    assert (himself.status_code, himself.json()["code"]) == (403, "forbidden")
    assert members_of(factory, "rivers") == ["ana"] and log_size(factory) == before
    asked = ask(client, published, people["mal"], "rivers").json()
    refused = decide(client, published, people["mal"], "requests", asked["id"], "approve")
    assert (refused.status_code, refused.json()["code"]) == (404, "request_not_found")
    assert members_of(factory, "rivers") == ["ana"]
    mine = client.get(f"{API}/{published}/team", headers=people["mal"]).json()
    assert (mine["team"], mine["invitations"], [row["team"] for row in mine["outgoing"]]) == (
        None,
        [],
        ["rivers"],
    )
    accepted = decide(client, published, people["ben"], "invitations", invitation["id"], "accept")
    assert (accepted.status_code, accepted.json()["state"]) == (200, "accepted")
    assert members_of(factory, "rivers") == ["ana", "ben"]


# --- consent, both ways --------------------------------------------------------------------------------


def test_an_invited_member_accepts_and_competes_with_the_team(client, published, people, factory):
    assert found(client, published, people["ana"], "rivers").json() == {"team": "rivers", "members": ["ana"]}
    sent = invite(client, published, people["ana"], "rivers", "ben")
    assert sent.status_code == 201
    invitation = sent.json()
    assert {key: invitation[key] for key in ("kind", "state", "team", "member", "invited_by")} == {
        "kind": "invitation",
        "state": "pending",
        "team": "rivers",
        "member": "ben",
        "invited_by": "ana",
    }
    assert members_of(factory, "rivers") == ["ana"]  # an invitation alone changes no team
    waiting = client.get(f"{API}/{published}/team", headers=people["ben"]).json()
    assert [row["id"] for row in waiting["invitations"]] == [invitation["id"]]
    shown = client.get(f"{API}/{published}/team", headers=people["ana"]).json()
    assert [row["member"] for row in shown["outgoing"]] == ["ben"]
    accepted = decide(client, published, people["ben"], "invitations", invitation["id"], "accept")
    assert (accepted.json()["state"], accepted.json()["decided_at"] is not None) == ("accepted", True)
    assert members_of(factory, "rivers") == ["ana", "ben"]
    assert submit(client, published, people["ben"], predictions(1)).json()["team"] == "rivers"
    assert len(client.get(f"{API}/{published}/submissions/mine", headers=people["ana"]).json()) == 1
    assert team_events(factory) == ["problems:team:create", "problems:team:invite", "problems:team:accept"]


def test_an_invitee_may_also_take_up_the_invitation_by_the_teams_name(client, published, people, factory):
    found(client, published, people["ana"], "rivers")
    invite(client, published, people["ana"], "rivers", "ben")
    assert found(client, published, people["ben"], "rivers").json() == {
        "team": "rivers",
        "members": ["ana", "ben"],
    }
    assert team_events(factory)[-1] == "problems:team:accept"


def test_a_request_to_join_is_approved_by_a_member_of_the_team(client, published, people, factory):
    found(client, published, people["ana"], "rivers")
    sent = ask(client, published, people["ben"], "rivers")
    assert (sent.status_code, sent.json()["kind"], sent.json()["state"]) == (201, "request", "pending")
    assert members_of(factory, "rivers") == ["ana"]  # a request alone changes no team
    waiting = client.get(f"{API}/{published}/team", headers=people["ana"]).json()
    assert [(row["id"], row["member"]) for row in waiting["requests"]] == [(sent.json()["id"], "ben")]
    approved = decide(client, published, people["ana"], "requests", sent.json()["id"], "approve")
    assert (approved.status_code, approved.json()["state"]) == (200, "accepted")
    assert members_of(factory, "rivers") == ["ana", "ben"]
    assert team_events(factory) == ["problems:team:create", "problems:team:request", "problems:team:approve"]
    with factory() as db:
        approval = db.scalars(select(LogRecord).where(LogRecord.event == "problems:team:approve")).one()
        ana = db.scalars(select(TeamMember).join(Team)).first()
        assert approval.actor_id == ana.member_id


def test_a_declined_request_changes_no_team_and_may_be_made_again(client, published, people, factory):
    found(client, published, people["ana"], "rivers")
    sent = ask(client, published, people["ben"], "rivers").json()
    own = decide(client, published, people["ben"], "requests", sent["id"], "decline")  # not his to decide
    assert (own.status_code, own.json()["code"]) == (404, "request_not_found")
    declined = decide(client, published, people["ana"], "requests", sent["id"], "decline")
    assert (declined.status_code, declined.json()["state"]) == (200, "declined")
    assert members_of(factory, "rivers") == ["ana"]
    late = decide(client, published, people["ana"], "requests", sent["id"], "approve")
    assert (late.status_code, late.json()["code"]) == (404, "request_not_found")
    assert client.get(f"{API}/{published}/team", headers=people["ana"]).json()["requests"] == []
    again = ask(client, published, people["ben"], "rivers").json()
    assert (again["id"], again["state"]) == (sent["id"], "pending")
    assert team_events(factory)[1:] == [
        "problems:team:request",
        "problems:team:decline",
        "problems:team:request",
    ]


def test_a_declined_invitation_changes_no_team(client, published, people, factory):
    found(client, published, people["ana"], "rivers")
    invitation = invite(client, published, people["ana"], "rivers", "ben").json()
    declined = decide(client, published, people["ben"], "invitations", invitation["id"], "decline")
    assert (declined.status_code, declined.json()["state"]) == (200, "declined")
    assert members_of(factory, "rivers") == ["ana"]
    assert client.get(f"{API}/{published}/team", headers=people["ben"]).json()["invitations"] == []


def test_an_invitation_meeting_a_request_is_consent_on_both_sides(client, published, people, factory):
    found(client, published, people["ana"], "rivers")
    ask(client, published, people["ben"], "rivers")
    assert invite(client, published, people["ana"], "rivers", "ben").json()["state"] == "accepted"
    invite(client, published, people["ana"], "rivers", "cyd")
    assert ask(client, published, people["cyd"], "rivers").json()["state"] == "accepted"
    assert members_of(factory, "rivers") == ["ana", "ben", "cyd"]


def test_asking_to_join_a_team_that_does_not_exist_is_refused(client, published, people):
    refused = ask(client, published, people["ben"], "nowhere")
    assert (refused.status_code, refused.json()["code"]) == (404, "team_not_found")
    unknown = invite(client, published, people["ana"], "nowhere", "ben")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "team_not_found")
    found(client, published, people["ana"], "rivers")
    nobody = invite(client, published, people["ana"], "rivers", "nobody")
    assert (nobody.status_code, nobody.json()["code"]) == (404, "member_not_found")


# --- the limits ----------------------------------------------------------------------------------------


def test_a_team_keeps_its_size_limit_however_members_come(client, published, people, factory):
    with factory.begin() as db:
        db.execute(update(Problem).values(team_size_limit=2))
    found(client, published, people["ana"], "rivers")
    to_ben = invite(client, published, people["ana"], "rivers", "ben").json()
    to_cyd = invite(client, published, people["ana"], "rivers", "cyd").json()
    decide(client, published, people["ben"], "invitations", to_ben["id"], "accept")
    full = decide(client, published, people["cyd"], "invitations", to_cyd["id"], "accept")
    assert (full.status_code, full.json()["code"]) == (409, "team_full")
    for refused in (
        invite(client, published, people["ana"], "rivers", "mal"),
        ask(client, published, people["mal"], "rivers"),
    ):
        assert (refused.status_code, refused.json()["code"]) == (409, "team_full")
    assert members_of(factory, "rivers") == ["ana", "ben"]
    with factory() as db:
        assert db.scalars(select(TeamRequest.state).where(TeamRequest.id == to_cyd["id"])).one() == "pending"


def test_a_member_competes_in_one_team_per_problem(client, published, people, factory):
    found(client, published, people["ana"], "rivers")
    invitation = invite(client, published, people["ana"], "rivers", "ben").json()
    decide(client, published, people["ben"], "invitations", invitation["id"], "accept")
    found(client, published, people["cyd"], "lakes")
    to_ben = invite(client, published, people["cyd"], "lakes", "ben").json()
    for refused in (  # ben's team is shared: he stays in it
        decide(client, published, people["ben"], "invitations", to_ben["id"], "accept"),
        found(client, published, people["ben"], "deltas"),
        invite(client, published, people["ana"], "rivers", "ben"),
    ):
        assert (refused.status_code, refused.json()["code"]) == (409, "already_in_team")
    assert submit(client, published, people["mal"], predictions(1)).status_code == 201  # mal's own team
    asked = ask(client, published, people["mal"], "lakes").json()
    submitted = decide(client, published, people["cyd"], "requests", asked["id"], "approve")
    assert (submitted.status_code, submitted.json()["code"]) == (409, "already_in_team")
    to_cyd = invite(client, published, people["ana"], "rivers", "cyd").json()  # cyd's team of one moves
    assert decide(client, published, people["cyd"], "invitations", to_cyd["id"], "accept").status_code == 200
    assert members_of(factory, "rivers") == ["ana", "ben", "cyd"]
    with factory() as db:
        assert set(db.scalars(select(Team.name))) == {"rivers", "mal"}  # lakes went with cyd
    assert "problems:team:remove" in team_events(factory)


def test_a_member_alone_without_submissions_moves_by_founding_another_team(
    client, published, people, factory
):
    found(client, published, people["cyd"], "lakes")
    assert found(client, published, people["cyd"], "deltas").json() == {"team": "deltas", "members": ["cyd"]}
    assert submit(client, published, people["cyd"], predictions(1)).status_code == 201
    refused = found(client, published, people["cyd"], "ponds")  # a team that submitted stays
    assert (refused.status_code, refused.json()["code"]) == (409, "already_in_team")
    with factory() as db:
        assert set(db.scalars(select(Team.name))) == {"deltas"}  # the team cyd left is gone
    assert team_events(factory) == ["problems:team:create", "problems:team:remove", "problems:team:create"]


def test_a_team_named_after_a_member_does_not_take_their_own_team(client, published, people, factory):
    """Squatting: mal founds a team named ana; ana's first submission still makes her a team of her own."""
    found(client, published, people["mal"], "ana")
    sent = submit(client, published, people["ana"], predictions(1))
    assert (sent.status_code, sent.json()["team"]) == (201, "ana-2")
    assert members_of(factory, "ana") == ["mal"]


@pytest.mark.parametrize("name", ["%20%20", "x" * 61])
def test_a_team_name_has_1_to_60_characters(client, published, people, name):
    for refused in (
        found(client, published, people["ana"], name),
        ask(client, published, people["ana"], name),
    ):
        assert (refused.status_code, refused.json()["code"]) == (422, "validation_failed")
