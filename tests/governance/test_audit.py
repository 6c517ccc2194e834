"""`aicommons governance tally PROPOSAL --from-log URL`: an auditor recounts a vote from a running commons'
log alone, and catches a published tally or a claimed power that the log does not back."""

import json
import time

import httpx
from sqlalchemy import func, select
from typer.testing import CliRunner

from aicommons.cli.main import app as cli
from aicommons.core.db import unit_of_work
from aicommons.governance import service
from aicommons.governance.audit import recount
from aicommons.governance.jobs import move_due
from aicommons.governance.models import Proposal
from aicommons.ledger.entries import canonical
from aicommons.ledger.models import LogRecord
from aicommons.ledger.tokens import TRANSFER_EVENT
from tests.governance.conftest import World, draft

runner = CliRunner()


def token_vote(factory, world: World) -> int:
    """A token-weighted proposal voted on (bob changes his mind) and closed; returns its number."""
    with unit_of_work(factory) as session:
        proposal = draft(session, world, title="Buy a spectrometer", method="token")
        service.submit(session=session, actor=session.merge(world["alice"]), proposal=proposal)
        proposal_id, starts, ends = proposal.id, proposal.voting_starts_at, proposal.voting_ends_at
    move_due(factory, starts)
    for who, choice in (("alice", "for"), ("bob", "for"), ("bob", "against"), ("erin", "abstain")):
        with unit_of_work(factory) as session:
            voter = session.merge(world[who])
            service.cast(
                session=session, voter=voter, proposal=session.get(Proposal, proposal_id), choice=choice
            )
    move_due(factory, ends)
    return proposal_id


def sequenced(factory) -> None:
    deadline = time.monotonic() + 30
    while True:
        with factory() as session:
            if not session.scalar(select(func.count()).select_from(LogRecord)):
                return
        assert time.monotonic() < deadline, "the log was not sequenced"
        time.sleep(0.05)


def tally(*args: str):
    return runner.invoke(cli, ["governance", "tally", *args])


def test_a_recount_from_the_log_matches_the_published_tally(live_server, factory, commons):
    proposal_id = token_vote(factory, commons)
    sequenced(factory)
    answer = tally(str(proposal_id), "--from-log", live_server, "--format", "json")
    assert answer.exit_code == 0, answer.output
    found = json.loads(answer.stdout)
    assert found["agrees"] is True and found["votes_read"] == 4
    assert found["recounted"]["counts"] == [100, 400, 50]  # bob's last vote counts, with his 400 tokens
    assert found["recounted"] == found["recorded"]
    assert {key: found["published"][key] for key in found["recounted"]} == found["recounted"]
    shown = tally(str(proposal_id), "--from-log", live_server)
    assert shown.exit_code == 0 and "matches the published result" in shown.stdout


def test_a_published_tally_the_log_does_not_back_is_caught(live_server, factory, commons):
    proposal_id = token_vote(factory, commons)
    sequenced(factory)
    with unit_of_work(factory) as session:
        proposal = session.get(Proposal, proposal_id)
        proposal.result = proposal.result | {"counts": [500, 0, 50], "passed": True}
    answer = tally(str(proposal_id), "--from-log", live_server)
    assert answer.exit_code == 1
    assert "counts: recounted [100, 400, 50], the published tally says [500, 0, 50]" in answer.output


def test_a_proposal_never_voted_on_and_a_log_that_is_not_there(live_server, factory, commons):
    with unit_of_work(factory) as session:
        draft(session, commons, title="Just a draft")
    sequenced(factory)
    answer = tally("1", "--from-log", live_server)
    assert answer.exit_code == 1 and "the log shows no voting on proposal 1" in answer.output
    gone = tally("1", "--from-log", "http://127.0.0.1:9/")
    assert gone.exit_code == 1 and "Verification failed (source)" in gone.output
    assert httpx.get(f"{live_server}/api/v1/governance/proposals/1/tally").status_code == 200


def test_a_claimed_power_the_snapshot_does_not_give_is_reported():
    entries = [
        {"event": "members:member:signup", "subject": {}, "actor": "member:1", "data": {"role": "member"}},
        {"event": TRANSFER_EVENT, "subject": {}, "data": {"from": "issuance", "to": "member:1", "amount": 9}},
        {"event": "governance:proposal:open", "subject": {"proposal": 7}, "actor": None,
         "data": {"snapshot": 2, "quorum": 1, "method": "quadratic", "options": 0}},
        {"event": "governance:vote:cast", "subject": {"proposal": 7}, "actor": "member:1",
         "data": {"choice": "for", "power": 30}},
    ]  # fmt: skip
    found = recount([canonical(entry) for entry in entries], 7)
    assert found.tally["counts"] == [3, 0, 0]
    assert found.wrong_power == ["member:1 voted with power 30; the snapshot gives 3"]
    assert found.differences() == found.wrong_power
    assert recount([canonical(entry) for entry in entries], 8).differences() == [
        "the log shows no voting on proposal 8"
    ]


def test_entries_the_fast_reading_does_not_match_are_parsed_to_the_same_recount():
    """Votes and transfers are read by pattern; one with a field the pattern does not know (a later schema)
    is parsed as JSON instead, to the same recount."""
    entries = [
        {"event": "members:member:signup", "subject": {}, "actor": "member:1", "data": {"role": "member"}},
        {"event": TRANSFER_EVENT, "actor": None, "at": "2027-01-01T00:00:00.000000Z", "subject": {}, "v": 1,
         "data": {"amount": 16, "from": "issuance", "key": "k", "note": "", "reason": "r", "to": "member:1"}},
        {"event": "governance:proposal:open", "subject": {"proposal": 7}, "actor": None,
         "data": {"snapshot": 2, "quorum": 1, "method": "quadratic", "options": 0}},
        {"event": "governance:vote:cast", "subject": {"community": 2, "proposal": 7}, "actor": "member:1",
         "v": 1, "at": "2027-01-01T00:00:01.000000Z", "data": {"choice": "against", "power": 4}},
    ]  # fmt: skip
    later = [entry | {"data": entry["data"] | {"zone": "x"}} for entry in entries]
    fast = recount([canonical(entry) for entry in entries], 7)
    parsed = recount([canonical(entry) for entry in later], 7)
    assert fast == parsed
    assert (fast.tally["counts"], fast.wrong_power, fast.votes) == ([0, 4, 0], [], 1)
