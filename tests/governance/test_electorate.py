"""Who votes is fixed when the voting opens: the members of the commons (of the community, for its
proposals) in the log's first `snapshot` entries. Accounts made and communities joined later are refused
with `no_voting_power` and nothing is recorded; quorum is a share of that electorate; leaving and
re-joining afterwards changes nobody's place in it; and the recount from the log applies the same rule."""

from typing import Any

import pytest
from sqlalchemy import func, select

from aicommons.communities import service as communities
from aicommons.core.db import unit_of_work
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.governance import service
from aicommons.governance.audit import recount
from aicommons.governance.jobs import move_due
from aicommons.governance.models import Proposal, State, Vote
from aicommons.ledger import service as ledger
from aicommons.ledger.entries import canonical
from aicommons.ledger.models import LogEntry, LogRecord
from aicommons.members.models import Member
from tests.governance.conftest import DELAY, add_member, at, close, draft, opened, vote

OPTIONS = ["Solar pumps", "Rain tanks"]
# Each method, what its proposal needs and a choice it takes.
METHODS: dict[str, tuple[dict[str, Any], Any]] = {
    "one_member": ({}, "for"),
    "token": ({"method": "token"}, "for"),
    "quadratic": ({"method": "quadratic"}, "for"),
    "approval": ({"method": "approval", "options": OPTIONS}, [0]),
    "ranked": ({"method": "ranked", "options": OPTIONS}, [1, 0]),
}


def written(session) -> tuple[int, int]:
    """The votes stored and the log entries waiting: what a refused vote must leave as it found them."""
    votes = session.scalar(select(func.count()).select_from(Vote))
    records = session.scalar(select(func.count()).select_from(LogRecord))
    return votes or 0, records or 0


def refused_vote(session, proposal: Proposal, voter: Member, choice: Any) -> str:
    """Cast `voter`'s vote, expect `no_voting_power` with nothing written, and return the error's detail."""
    before = written(session)
    with pytest.raises(CommonsError) as error:
        service.cast(
            session=session,
            voter=voter,
            proposal=proposal,
            choice=choice,
            now=at(proposal.submitted_at, DELAY + 5),
        )
    assert error.value.code is ErrorCode.NO_VOTING_POWER, error.value.detail
    assert written(session) == before
    assert service.voting_power(session=session, proposal=proposal, member=voter) == 0
    return error.value.detail


# --- the attacks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["one_member", "approval", "ranked"])
def test_accounts_made_after_the_voting_opens_do_not_vote_commons_wide(session, world, start, log, method):
    form, choice = METHODS[method]
    proposal = opened(session, world, start, **form)
    late = add_member(session, "mallory")
    ledger.integrate(session, log)  # the signup is on the log now, after the snapshot
    detail = refused_vote(session, proposal, late, choice)
    assert f"not a member of the commons in the log's first {proposal.snapshot} entries" in detail
    assert service.count(session=session, proposal=proposal).voters == 0


@pytest.mark.parametrize("method", list(METHODS))
def test_joining_the_community_after_the_voting_opens_gives_no_vote(session, world, start, log, method):
    """erin's account (and her 50 tokens) are older than the vote, but her membership is not; mallory's
    account is not either."""
    form, choice = METHODS[method]
    proposal = opened(session, world, start, community="water-watch", **form)
    newcomer = add_member(session, "mallory")
    for member in (world["erin"], newcomer):
        communities.join(session=session, community=world.community, member=member)
    ledger.integrate(session, log)
    for member in (world["erin"], newcomer):
        detail = refused_vote(session, proposal, member, choice)
        assert "not a member of water-watch" in detail
    assert service.count(session=session, proposal=proposal).voters == 0


def test_two_late_accounts_cannot_turn_three_to_one_into_a_tie(session, world, start, log):
    proposal = opened(session, world, start)
    for who, choice in (("alice", "for"), ("bob", "for"), ("carol", "for"), ("dave", "against")):
        vote(session, world, proposal, who, choice)
    socks = [add_member(session, handle) for handle in ("sock-one", "sock-two")]
    ledger.integrate(session, log)
    for sock in socks:
        refused_vote(session, proposal, sock, "against")
    assert close(session, proposal, start) == State.SUCCEEDED
    assert proposal.result["counts"] == [3, 1, 0]


def test_a_member_who_left_before_the_snapshot_and_rejoined_after_it_does_not_vote(
    session, world, start, log
):
    communities.leave(session=session, community=world.community, member=world["carol"])
    ledger.integrate(session, log)
    proposal = opened(session, world, start, community="water-watch")
    communities.join(session=session, community=world.community, member=world["carol"])
    ledger.integrate(session, log)
    refused_vote(session, proposal, world["carol"], "for")


@pytest.mark.parametrize(
    ("form", "electorate", "quorum"),
    [
        ({}, 6, 3),  # alice, bob, carol, dave, erin and root; not the four accounts still unsequenced
        ({"community": "water-watch"}, 4, 2),  # alice, bob, carol and dave; not erin, whose join waits
        ({"community": "water-watch", "method": "token"}, 509, 255),  # 100 + 400 + 9 + 0 tokens
    ],
)
def test_quorum_is_a_share_of_the_electorate_at_the_snapshot(session, world, start, form, electorate, quorum):
    proposal = draft(session, world, now=start, **form)
    service.submit(session=session, actor=world["alice"], proposal=proposal, now=start)
    # Made before the voting opens, but not on the log yet when it does: not in the electorate.
    waiting = [add_member(session, f"waiting-{n}") for n in range(4)]
    communities.join(session=session, community=world.community, member=world["erin"])
    assert service.advance(session, proposal.id, at(start, DELAY)) == State.ACTIVE
    assert (proposal.electorate, proposal.quorum) == (electorate, quorum)
    for member in [*waiting, world["erin"]] if form else waiting:
        refused_vote(session, proposal, member, "for")


# --- what the electorate is, and what does not change it --------------------------------------------


def test_leaving_and_rejoining_after_the_snapshot_changes_nobodys_place_in_the_electorate(
    session, world, start, log
):
    proposal = opened(session, world, start, community="water-watch")
    communities.leave(session=session, community=world.community, member=world["dave"])
    communities.leave(session=session, community=world.community, member=world["bob"])
    communities.join(session=session, community=world.community, member=world["bob"])
    for _ in range(2):  # erin joins, leaves and joins again: never a member at the snapshot
        communities.join(session=session, community=world.community, member=world["erin"])
        communities.leave(session=session, community=world.community, member=world["erin"])
    communities.join(session=session, community=world.community, member=world["erin"])
    ledger.integrate(session, log)
    assert vote(session, world, proposal, "dave", "against").power == 1  # a member when the voting opened
    assert vote(session, world, proposal, "bob", "for").power == 1
    refused_vote(session, proposal, world["erin"], "for")
    assert service.count(session=session, proposal=proposal).counts == [1, 1, 0]


def test_an_older_account_votes_commons_wide_but_not_on_a_community_it_joined_late(
    session, world, start, log
):
    commons_wide = opened(session, world, start)
    community = opened(session, world, start, community="water-watch")
    communities.join(session=session, community=world.community, member=world["erin"])
    ledger.integrate(session, log)
    assert vote(session, world, commons_wide, "erin", "for").power == 1
    refused_vote(session, community, world["erin"], "for")


# --- the recount from the log applies the same rule -------------------------------------------------


def entry(event: str, actor: int | None, subject: dict[str, Any], data: dict[str, Any]) -> bytes:
    return canonical(
        {
            "v": 1,
            "event": event,
            "actor": f"member:{actor}" if actor is not None else None,
            "subject": subject,
            "at": "2027-01-01T00:00:00.000000Z",
            "data": data,
        }
    )


def signup(member: int) -> bytes:
    return entry("members:member:signup", member, {}, {"role": "member"})


def membership(event: str, member: int, community: int = 3) -> bytes:
    return entry(
        f"communities:member:{event}", member, {"community": community}, {"member": member, "role": "member"}
    )


def opening(snapshot: int, electorate: int, **subject: int) -> bytes:
    facts = {
        "snapshot": snapshot,
        "electorate": electorate,
        "quorum": 1,
        "method": "one_member",
        "options": 0,
    }
    return entry("governance:proposal:open", None, {"proposal": 7} | subject, facts)


def cast(member: int, choice: str, **subject: int) -> bytes:
    return entry("governance:vote:cast", member, {"proposal": 7} | subject, {"choice": choice, "power": 1})


def test_the_recount_does_not_count_accounts_made_after_the_snapshot():
    bodies = [
        signup(1),
        signup(2),
        opening(2, 2),
        signup(3),
        cast(1, "for"),
        cast(3, "against"),
        cast(2, "against"),
    ]
    found = recount(bodies, 7)
    assert (found.tally["counts"], found.tally["voters"]) == ([1, 1, 0], 2)
    assert found.ineligible == [
        "member:3 voted, but was not a member of the commons in the log's first 2 entries"
    ]
    assert found.differences() == found.ineligible


def test_the_recount_replays_the_communitys_joins_and_leaves_up_to_the_snapshot():
    """1 and 2 joined, 2 left and 4 joined before the snapshot; 2 came back and 5 joined after it."""
    before = [signup(n) for n in range(1, 6)] + [
        membership("join", 1),
        membership("join", 2),
        membership("join", 9, community=4),
        membership("leave", 2),
        membership("join", 4),
    ]
    after = [membership("join", 2), membership("join", 5), opening(len(before), 3, community=3)]
    votes = [cast(n, "for", community=3) for n in (1, 2, 4, 5)]
    found = recount([*before, *after, *votes], 7)
    assert found.tally["counts"] == [2, 0, 0]
    assert [line.split(",")[0] for line in found.ineligible] == ["member:2 voted", "member:5 voted"]
    assert "electorate: recounted 2, the log's open entry says 3" in found.differences()


def test_the_recount_agrees_with_the_commons_after_late_joins_and_leaves(session, world, start, log):
    proposal = opened(session, world, start, community="water-watch")
    communities.leave(session=session, community=world.community, member=world["dave"])
    communities.join(session=session, community=world.community, member=world["erin"])
    vote(session, world, proposal, "dave", "against")
    vote(session, world, proposal, "bob", "for")
    refused_vote(session, proposal, world["erin"], "for")
    close(session, proposal, start)
    ledger.integrate(session, log)
    bodies = list(session.scalars(select(LogEntry.body).order_by(LogEntry.index)))
    found = recount(bodies, proposal.id)
    assert found.differences() == []
    assert found.tally == proposal.result and found.electorate == proposal.electorate == 4


def test_an_account_made_after_the_voting_opens_gets_403_through_the_api(client, factory, commons, token_for):
    with unit_of_work(factory) as session:
        proposal = draft(session, commons, title="Repaint the pump house")
        service.submit(session=session, actor=session.merge(commons["alice"]), proposal=proposal)
        proposal_id, starts = proposal.id, proposal.voting_starts_at
    move_due(factory, starts)
    with unit_of_work(factory) as session:
        late = add_member(session, "mallory")
    answer = client.post(
        f"/api/v1/governance/proposals/{proposal_id}/votes", headers=token_for(late), json={"choice": "for"}
    )
    assert (answer.status_code, answer.json()["code"]) == (403, "no_voting_power")
    assert "when the voting opened" in answer.json()["detail"]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 0
