"""Proposals through the service, at explicit moments: every state transition, votes and their power, the
execution of each kind through the domains' services, and the refusals that change nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from aicommons.communities import service as communities
from aicommons.communities.models import Role
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import PageRequest
from aicommons.datasets import service as datasets
from aicommons.datasets.schemas import DatasetCreate
from aicommons.governance import parameters, service
from aicommons.governance.models import Proposal, ProposalStep, State, Vote
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens
from aicommons.ledger.models import LogRecord
from aicommons.members.notifications import Notification
from aicommons.problems import service as problems
from aicommons.problems.models import Problem, ProblemState
from aicommons.problems.schemas import ProblemCreate
from tests.governance.conftest import (
    COMMUNITY_ACCOUNT,
    DELAY,
    EXTENSION,
    GRACE,
    PERIOD,
    TIMELOCK,
    TREASURY,
    at,
    close,
    community_form,
    draft,
    opened,
    vote,
)

TO_BOB = {"action": {"kind": "treasury_transfer", "recipient": "member", "to": "bob", "amount": 30}}


def refused(code: ErrorCode, call, *args, **kwargs) -> CommonsError:
    with pytest.raises(CommonsError) as error:
        call(*args, **kwargs)
    assert error.value.code is code, error.value.detail
    return error.value


def events(session, proposal: Proposal) -> list[str]:
    rows = session.execute(
        select(LogRecord.body).where(LogRecord.event.like("governance:%")).order_by(LogRecord.id)
    )
    return [
        body.decode().split('"event":"')[1].split('"')[0]
        for (body,) in rows
        if f'"proposal":{proposal.id}' in body.decode()
    ]


def balance(session, account: str) -> int:
    return tokens.balance(session, account)


# --- the lifecycle ------------------------------------------------------------------------------------


def test_a_proposal_goes_from_draft_to_executed_and_each_step_is_on_the_log(session, world, start):
    proposal = draft(session, world, community="water-watch", now=start, **TO_BOB)
    assert proposal.state == State.DRAFT
    service.submit(session=session, actor=world["alice"], proposal=proposal, now=start)
    assert (proposal.state, proposal.voting_starts_at, proposal.voting_ends_at) == (
        State.PENDING,
        at(start, DELAY),
        at(start, DELAY + PERIOD),
    )
    assert service.advance(session, proposal.id, at(start, DELAY - 1)) is None  # not due yet
    assert service.advance(session, proposal.id, at(start, DELAY)) == State.ACTIVE
    assert (proposal.snapshot, proposal.electorate, proposal.quorum) == (ledger.tree_size(session), 4, 2)
    for who, choice in (("alice", "for"), ("bob", "for"), ("carol", "against")):
        vote(session, world, proposal, who, choice)
    assert close(session, proposal, start) == State.SUCCEEDED
    assert proposal.result["counts"] == [2, 1, 0]
    assert service.advance(session, proposal.id, at(start, DELAY + PERIOD)) == State.QUEUED
    assert proposal.eta == at(start, DELAY + PERIOD + TIMELOCK)
    bob_before = balance(session, tokens.member_account(world["bob"].id))
    assert service.advance(session, proposal.id, proposal.eta) == State.EXECUTED
    assert balance(session, tokens.member_account(world["bob"].id)) == bob_before + 30
    assert balance(session, tokens.community_account(world.community.id)) == COMMUNITY_ACCOUNT - 30
    assert proposal.outcome == {
        "from": f"community:{world.community.id}",
        "to": f"member:{world['bob'].id}",
        "amount": 30,
    }
    assert events(session, proposal) == [
        "governance:proposal:create",
        "governance:proposal:submit",
        "governance:proposal:open",
        "governance:vote:cast",
        "governance:vote:cast",
        "governance:vote:cast",
        "governance:proposal:succeed",
        "governance:proposal:queue",
        "governance:proposal:execute",
    ]
    steps = [step.step for step in service.steps(session=session, proposal=proposal)]
    assert steps == ["draft", "pending", "active", "succeeded", "queued", "executed"]


def test_a_vote_without_quorum_is_defeated_and_never_executes(session, world, start):
    proposal = opened(session, world, start, community="water-watch", **TO_BOB)
    vote(session, world, proposal, "bob", "for")  # 1 of a quorum of 2
    assert close(session, proposal, start) == State.DEFEATED
    assert (proposal.result["quorum_reached"], proposal.next_step_at, proposal.ended_at) == (
        False,
        None,
        at(start, DELAY + PERIOD),
    )
    refused(
        ErrorCode.PROPOSAL_STATE,
        service.execute,
        session=session,
        proposal=proposal,
        actor=None,
        now=at(start, 9999),
    )


def test_more_against_than_for_is_defeated(session, world, start):
    proposal = opened(session, world, start, community="water-watch", **TO_BOB)
    for who, choice in (("alice", "for"), ("bob", "against"), ("carol", "against")):
        vote(session, world, proposal, who, choice)
    assert close(session, proposal, start) == State.DEFEATED


def test_the_proposer_cancels_a_draft_and_a_guardian_cancels_an_active_vote(session, world, start):
    mine = draft(session, world, now=start)
    service.cancel(session=session, actor=world["alice"], proposal=mine, now=start)
    assert (mine.state, mine.next_step_at) == (State.CANCELED, None)
    theirs = opened(session, world, start, who="bob", community="water-watch", **TO_BOB)
    refused(ErrorCode.FORBIDDEN, service.cancel, session=session, actor=world["carol"], proposal=theirs)
    assert theirs.state == State.ACTIVE
    service.cancel(
        session=session, actor=world["alice"], proposal=theirs, now=at(start, DELAY + 5)
    )  # a steward
    assert theirs.state == State.CANCELED
    refused(ErrorCode.VOTING_CLOSED, vote, session, world, theirs, "bob", "for", DELAY + 6)
    assert service.advance(session, theirs.id, at(start, DELAY + PERIOD)) is None


@pytest.mark.parametrize("state", [State.PENDING, State.SUCCEEDED, State.QUEUED])
def test_an_admin_may_cancel_a_commons_proposal_in_any_state_before_execution(session, world, start, state):
    proposal = draft(session, world, now=start)
    service.submit(session=session, actor=world["alice"], proposal=proposal, now=start)
    if state != State.PENDING:
        service.advance(session, proposal.id, at(start, DELAY))
        for who in ("alice", "bob", "carol", "dave"):
            vote(session, world, proposal, who, "for")
        close(session, proposal, start)
    if state == State.QUEUED:
        service.advance(session, proposal.id, at(start, DELAY + PERIOD))
    assert proposal.state == state
    refused(ErrorCode.FORBIDDEN, service.cancel, session=session, actor=world["erin"], proposal=proposal)
    service.cancel(session=session, actor=world["root"], proposal=proposal, now=at(start, DELAY + PERIOD))
    assert proposal.state == State.CANCELED


def test_an_executed_proposal_is_not_canceled_nor_executed_twice(session, world, start):
    proposal = opened(session, world, start, **TO_BOB)
    for who in ("alice", "bob", "carol", "erin"):
        vote(session, world, proposal, who, "for")
    close(session, proposal, start)
    service.advance(session, proposal.id, at(start, DELAY + PERIOD))
    refused(
        ErrorCode.TIMELOCK_PENDING,
        service.execute,
        session=session,
        proposal=proposal,
        actor=world["erin"],
        now=at(start, DELAY + PERIOD + 1),
    )
    service.execute(session=session, proposal=proposal, actor=world["erin"], now=proposal.eta)
    treasury = balance(session, tokens.TREASURY)
    assert treasury == TREASURY - 30
    refused(
        ErrorCode.ALREADY_EXECUTED,
        service.execute,
        session=session,
        proposal=proposal,
        actor=world["erin"],
        now=proposal.eta,
    )
    refused(ErrorCode.PROPOSAL_STATE, service.cancel, session=session, actor=world["root"], proposal=proposal)
    assert (balance(session, tokens.TREASURY), proposal.state) == (treasury, State.EXECUTED)
    assert service.advance(session, proposal.id, at(start, 99_999)) is None


def test_an_execution_the_services_refuse_is_retried_then_the_proposal_expires(session, world, start):
    proposal = opened(
        session,
        world,
        start,
        action={"kind": "treasury_transfer", "recipient": "member", "to": "bob", "amount": 5000},
    )
    for who in ("alice", "bob", "carol"):
        vote(session, world, proposal, who, "for")
    close(session, proposal, start)
    service.advance(session, proposal.id, at(start, DELAY + PERIOD))
    attempt = session.begin_nested()  # the worker's transaction, rolled back by the refusal
    refused(ErrorCode.INSUFFICIENT_FUNDS, service.advance, session, proposal.id, proposal.eta)
    attempt.rollback()
    session.refresh(proposal)
    assert proposal.state == State.QUEUED
    service.note_failure(
        session, proposal.id, "the paying account holds fewer than 5000 tokens", proposal.eta
    )
    assert (proposal.last_error, proposal.next_step_at) == (
        "the paying account holds fewer than 5000 tokens",
        at(proposal.eta, 1),
    )
    assert service.advance(session, proposal.id, at(proposal.eta, GRACE)) == State.EXPIRED
    assert balance(session, tokens.TREASURY) == TREASURY
    assert [step.step for step in service.steps(session=session, proposal=proposal)][-2:] == [
        "failed",
        "expired",
    ]


def test_only_a_draft_is_submitted_and_only_by_its_proposer(session, world, start):
    proposal = draft(session, world, now=start)
    refused(ErrorCode.FORBIDDEN, service.submit, session=session, actor=world["bob"], proposal=proposal)
    service.submit(session=session, actor=world["alice"], proposal=proposal, now=start)
    refused(
        ErrorCode.PROPOSAL_STATE, service.submit, session=session, actor=world["alice"], proposal=proposal
    )


def test_submitting_takes_the_proposal_threshold_of_tokens(session, world, start):
    proposal = draft(session, world, who="carol", now=start)  # carol holds 9 tokens, the threshold is 10
    refused(
        ErrorCode.BELOW_THRESHOLD, service.submit, session=session, actor=world["carol"], proposal=proposal
    )
    assert (proposal.state, proposal.submitted_at) == (State.DRAFT, None)


def test_the_rules_are_those_of_the_moment_of_submission(session, world, start):
    proposal = draft(session, world, now=start)
    service.submit(session=session, actor=world["alice"], proposal=proposal, now=start)
    tokens.set_parameter(session, parameters.VOTING_PERIOD, 60)
    assert proposal.rules["voting_period"] == PERIOD
    assert proposal.voting_ends_at == at(start, DELAY + PERIOD)


def test_quorum_reached_late_extends_the_voting(session, world, start):
    proposal = opened(session, world, start, community="water-watch")
    vote(session, world, proposal, "bob", "for", DELAY + 10)
    assert proposal.quorum_reached_at is None
    late = DELAY + PERIOD - 30  # half an hour before the close, quorum (2) is reached
    vote(session, world, proposal, "carol", "against", late)
    assert (proposal.extended, proposal.voting_ends_at) == (True, at(start, late + EXTENSION))
    assert close(session, proposal, start) is None  # the old end: not due any more
    vote(session, world, proposal, "dave", "for", DELAY + PERIOD + 60)  # in the extension
    assert service.advance(session, proposal.id, at(start, late + EXTENSION)) == State.SUCCEEDED
    assert "extended" in [step.step for step in service.steps(session=session, proposal=proposal)]


def test_quorum_reached_early_does_not_extend(session, world, start):
    proposal = opened(session, world, start, community="water-watch")
    vote(session, world, proposal, "bob", "for", DELAY + 10)
    vote(session, world, proposal, "carol", "for", DELAY + 11)
    assert (proposal.quorum_reached_at, proposal.extended) == (at(start, DELAY + 11), False)
    assert proposal.voting_ends_at == at(start, DELAY + PERIOD)


def test_opening_and_closing_a_vote_notify_its_members(session, world, start):
    proposal = opened(session, world, start, community="water-watch")
    titles = session.scalars(
        select(Notification.title).where(Notification.member_id == world["dave"].id)
    ).all()
    assert titles == ["Vote open: Fund the sensor repairs"]
    assert session.scalar(select(func.count()).where(Notification.member_id == world["erin"].id)) == 0
    vote(session, world, proposal, "bob", "for")
    close(session, proposal, start)
    closed = select(Notification.member_id).where(Notification.title.like("Vote closed:%"))
    assert set(session.scalars(closed)) == {world["alice"].id, world["bob"].id}


# --- votes --------------------------------------------------------------------------------------------


def test_a_changed_vote_counts_once_as_last_cast(session, world, start):
    proposal = opened(session, world, start, community="water-watch")
    vote(session, world, proposal, "bob", "for", DELAY + 1)
    vote(session, world, proposal, "bob", "against", DELAY + 2)
    vote(session, world, proposal, "bob", "abstain", DELAY + 3)
    assert service.count(session=session, proposal=proposal).counts == [0, 0, 1]
    history = service.votes_of(session=session, proposal=proposal, member=world["bob"])
    assert [(v.choice, v.current) for v in history] == [("abstain", True), ("against", False), ("for", False)]
    assert service.votes(session=session, proposal=proposal, page=PageRequest()).total == 1


@pytest.mark.parametrize("minutes", [DELAY - 1, DELAY + PERIOD, DELAY + PERIOD + 5])
def test_a_vote_outside_the_window_is_refused_and_not_recorded(session, world, start, minutes):
    proposal = opened(session, world, start, community="water-watch")
    records = session.scalar(select(func.count()).select_from(LogRecord))
    refused(ErrorCode.VOTING_CLOSED, vote, session, world, proposal, "bob", "for", minutes)
    assert session.scalar(select(func.count()).select_from(Vote)) == 0
    assert session.scalar(select(func.count()).select_from(LogRecord)) == records


def test_a_pending_proposal_takes_no_vote(session, world, start):
    proposal = draft(session, world, now=start)
    service.submit(session=session, actor=world["alice"], proposal=proposal, now=start)
    refused(ErrorCode.VOTING_CLOSED, vote, session, world, proposal, "bob", "for", DELAY + 1)


def test_only_members_of_the_community_when_the_voting_opened_vote_on_its_proposals(session, world, start):
    """Who votes is fixed when the voting opens (tests/governance/test_electorate.py has the attacks)."""
    proposal = opened(session, world, start, community="water-watch")
    refused(ErrorCode.NO_VOTING_POWER, vote, session, world, proposal, "erin", "for")
    communities.leave(session=session, community=world.community, member=world["dave"])
    assert vote(session, world, proposal, "dave", "for").power == 1  # a member at the snapshot
    assert service.count(session=session, proposal=proposal).voters == 1


@pytest.mark.parametrize("choice", ["yes", ["for"], [0], ""])
def test_an_invalid_choice_is_refused(session, world, start, choice):
    proposal = opened(session, world, start, community="water-watch")
    refused(ErrorCode.INVALID_CHOICE, vote, session, world, proposal, "bob", choice)
    assert session.scalar(select(func.count()).select_from(Vote)) == 0


def test_token_power_comes_from_the_snapshot_and_later_moves_change_nothing(session, world, start, log):
    proposal = opened(session, world, start, method="token")
    bob, dave = world["bob"], world["dave"]
    tokens.transfer(
        session,
        initiator="test",
        key="after",
        source=tokens.member_account(bob.id),
        target=tokens.member_account(dave.id),
        amount=300,
        reason="gift",
    )
    ledger.integrate(session, log)
    assert service.voting_power(session=session, proposal=proposal, member=bob) == 400
    assert service.voting_power(session=session, proposal=proposal, member=dave) == 0
    refused(ErrorCode.NO_VOTING_POWER, vote, session, world, proposal, "dave", "for")
    assert vote(session, world, proposal, "bob", "against").power == 400
    assert vote(session, world, proposal, "alice", "for").power == 100
    assert vote(session, world, proposal, "erin", "for").power == 50  # commons-wide: any member
    # electorate: alice 100 + bob 400 + carol 9 + erin 50 = 559; quorum 50%: 280
    assert (proposal.electorate, proposal.quorum) == (559, 280)
    assert close(session, proposal, start) == State.DEFEATED
    assert proposal.result["counts"] == [150, 400, 0]


def test_tokens_not_yet_on_the_log_when_voting_opens_do_not_count(session, world, start):
    proposal = draft(session, world, now=start, method="quadratic")
    service.submit(session=session, actor=world["alice"], proposal=proposal, now=start)
    dave = tokens.member_account(world["dave"].id)
    tokens.mint(session, key="unsequenced", target=dave, amount=49, reason="tests")
    service.advance(session, proposal.id, at(start, DELAY))  # the mint waits for the sequencer
    assert service.voting_power(session=session, proposal=proposal, member=world["dave"]) == 0
    assert service.voting_power(session=session, proposal=proposal, member=world["bob"]) == 20


def test_quadratic_power_is_the_integer_square_root_of_the_snapshot(session, world, start):
    proposal = opened(session, world, start, method="quadratic")
    powers = {
        who: vote(session, world, proposal, who, "for").power for who in ("alice", "bob", "carol", "erin")
    }
    assert powers == {"alice": 10, "bob": 20, "carol": 3, "erin": 7}


def test_approval_and_ranked_votes_take_option_numbers(session, world, start):
    options = ["Solar pumps", "Rain tanks", "Filters"]
    ranked = opened(session, world, start, community="water-watch", method="ranked", options=options)
    # First preferences: solar 1, rain 2 (bob, dave), filters 1; of solar and filters, filters (listed
    # last) is eliminated, and carol's ballot goes to rain: 3 of 4.
    for who, ranking in (("alice", [0, 1]), ("bob", [1, 0]), ("carol", [2, 1]), ("dave", [1])):
        vote(session, world, ranked, who, ranking)
    refused(ErrorCode.INVALID_CHOICE, vote, session, world, ranked, "bob", [3])
    refused(ErrorCode.INVALID_CHOICE, vote, session, world, ranked, "bob", "for")
    assert close(session, ranked, start) == State.SUCCEEDED
    assert (ranked.result["rounds"], ranked.result["winner"]) == ([[1, 2, 1], [1, 3, 0]], 1)
    service.advance(session, ranked.id, at(start, DELAY + PERIOD))
    service.advance(session, ranked.id, ranked.eta)
    assert (ranked.state, ranked.outcome) == (State.EXECUTED, {"winner": 1})
    approval = opened(session, world, start, community="water-watch", method="approval", options=options)
    for who, approved in (("alice", [0, 1]), ("bob", [1]), ("carol", [])):
        vote(session, world, approval, who, approved)
    assert service.count(session=session, proposal=approval).counts == [1, 2, 0, 1]


# --- what executing each kind does --------------------------------------------------------------------


def passed(session, world, start, **form) -> Proposal:
    """A proposal voted through by everyone able, queued, its timelock passed: executed."""
    proposal = opened(session, world, start, **form)
    voters = ("alice", "bob", "carol", "dave") if proposal.community_id else ("alice", "bob", "carol", "erin")
    for who in voters:
        vote(session, world, proposal, who, "for")
    close(session, proposal, start)
    service.advance(session, proposal.id, at(start, DELAY + PERIOD))
    assert service.advance(session, proposal.id, proposal.eta) == State.EXECUTED, proposal.last_error
    return proposal


def test_a_parameter_change_sets_the_reward_policy(session, world, start):
    name = tokens.REWARD_PREFIX + "communities:community:create"
    proposal = passed(session, world, start, action={"kind": "parameter_change", "name": name, "value": 75})
    assert tokens.parameter(session, name) == 75
    assert proposal.outcome == {"parameter": name, "from": 0, "to": 75}
    tokens.set_parameter(session, "members:established-age", 0)  # the world signed up a moment ago
    new_one = communities.create(session=session, creator=world["erin"], form=community_form("new-one"))
    for handle in ("bob", "carol", "dave"):  # the reward is paid once three members have joined
        communities.join(session=session, community=new_one, member=world[handle])
    assert balance(session, tokens.member_account(world["erin"].id)) == 50 + 75


def test_parameter_changes_are_checked_against_the_declared_range(session, world, start):
    name = parameters.QUORUM_PERCENT
    error = refused(
        ErrorCode.VALIDATION_FAILED,
        draft,
        session,
        world,
        action={"kind": "parameter_change", "name": name, "value": 0},
    )
    assert "between 1 and 100" in error.detail
    refused(
        ErrorCode.VALIDATION_FAILED,
        draft,
        session,
        world,
        action={"kind": "parameter_change", "name": "nonsense", "value": 1},
    )
    assert session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_a_community_proposal_appoints_a_steward(session, world, start):
    passed(session, world, start, community="water-watch", action={"kind": "membership", "handle": "bob"})
    assert communities.membership_of(session, world.community, world["bob"]).role == Role.STEWARD


def test_kinds_are_decided_where_they_belong(session, world, start):
    refused(
        ErrorCode.VALIDATION_FAILED, draft, session, world, action={"kind": "membership", "handle": "bob"}
    )
    refused(
        ErrorCode.VALIDATION_FAILED,
        draft,
        session,
        world,
        community="water-watch",
        action={"kind": "parameter_change", "name": parameters.QUORUM_PERCENT, "value": 20},
    )
    refused(ErrorCode.FORBIDDEN, draft, session, world, who="erin", community="water-watch")
    refused(
        ErrorCode.NOT_MEMBER,
        draft,
        session,
        world,
        community="water-watch",
        action={"kind": "membership", "handle": "erin"},
    )
    refused(
        ErrorCode.MEMBER_NOT_FOUND,
        draft,
        session,
        world,
        action={"kind": "treasury_transfer", "recipient": "member", "to": "nobody", "amount": 1},
    )
    refused(
        ErrorCode.VALIDATION_FAILED,
        draft,
        session,
        world,
        community="water-watch",
        action={"kind": "treasury_transfer", "recipient": "community", "to": "water-watch", "amount": 1},
    )
    assert session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_a_treasury_transfer_to_a_community(session, world, start):
    proposal = passed(
        session,
        world,
        start,
        action={"kind": "treasury_transfer", "recipient": "community", "to": "water-watch", "amount": 120},
    )
    assert balance(session, tokens.community_account(world.community.id)) == COMMUNITY_ACCOUNT + 120
    assert balance(session, tokens.TREASURY) == TREASURY - 120
    assert proposal.action["account"] == f"community:{world.community.id}"


def test_every_step_leaves_a_timeline_entry_with_who_moved_it(session, world, start):
    proposal = draft(session, world, now=start)
    service.submit(session=session, actor=world["alice"], proposal=proposal, now=start)
    steps = session.scalars(select(ProposalStep).where(ProposalStep.proposal_id == proposal.id)).all()
    assert [(step.step, step.actor_id) for step in steps] == [
        ("draft", world["alice"].id),
        ("pending", world["alice"].id),
    ]


def test_proposals_are_rate_limited(session, world, start):
    for _ in range(10):
        draft(session, world, now=start)
    refused(ErrorCode.RATE_LIMITED, draft, session, world, now=start)


def test_a_dataset_admission_marks_the_dataset_and_pays_its_owner_the_subsidy(session, world, start):
    form = DatasetCreate(title="River gauges 2020-2025", license="CC-BY-4.0", policy="open")
    dataset = datasets.create(session=session, creator=world["carol"], form=form)
    admission = {"kind": "dataset_admission", "dataset": dataset.slug, "subsidy": 40}
    proposal = passed(session, world, start, action=admission)
    assert dataset.admitted_at is not None
    assert balance(session, tokens.member_account(world["carol"].id)) == 9 + 40
    assert proposal.outcome == {"dataset": dataset.id, "subsidy": 40, "to": f"member:{world['carol'].id}"}
    refused(ErrorCode.DATASET_ADMITTED, draft, session, world, action=admission)


def test_only_open_data_is_admitted(session, world):
    form = DatasetCreate(title="Clinic visits", license="CC-BY-4.0", policy="gated")
    gated = datasets.create(session=session, creator=world["carol"], form=form)
    admission = {"kind": "dataset_admission", "dataset": gated.slug, "subsidy": 0}
    refused(ErrorCode.WRONG_POLICY, draft, session, world, action=admission)
    refused(ErrorCode.DATASET_NOT_FOUND, draft, session, world, action=admission | {"dataset": "nope"})


def test_a_treasury_grant_grows_an_open_problems_bounty(session, world, start):
    problem = open_problem(session, world)
    grant = {"kind": "treasury_transfer", "recipient": "problem", "to": problem.slug, "amount": 100}
    passed(session, world, start, action=grant)
    assert problem.bounty == 100
    assert balance(session, problems.bounty_escrow(problem)) == 100
    assert balance(session, tokens.TREASURY) == TREASURY - 100


def test_a_grant_to_a_problem_that_closed_meanwhile_fails_and_changes_nothing(session, world, start):
    problem = open_problem(session, world)
    grant = {"kind": "treasury_transfer", "recipient": "problem", "to": problem.slug, "amount": 100}
    proposal = opened(session, world, start, action=grant)
    for who in ("alice", "bob", "carol"):
        vote(session, world, proposal, who, "for")
    close(session, proposal, start)
    service.advance(session, proposal.id, at(start, DELAY + PERIOD))
    problem.state = ProblemState.CLOSED
    refused(ErrorCode.PROBLEM_CLOSED, service.advance, session, proposal.id, proposal.eta)


def open_problem(session, world) -> Problem:
    window = {"opens_at": utcnow() - timedelta(days=1), "closes_at": utcnow() + timedelta(days=30)}
    fields = {"title": "Unsafe wells", "task": "binary", "metric": "roc_auc", "target_column": "unsafe"}
    form = ProblemCreate(**fields, sdg_targets=["6.1"], **window)
    problem = problems.create(session=session, creator=world["alice"], form=form)
    problem.evaluation_blob = "0" * 64  # as if the owner had uploaded the held-out rows
    return problems.publish(session=session, actor=world["alice"], problem=problem)


def test_a_new_problem_takes_the_defaults_the_members_voted(session, world, start):
    passed(
        session, world, start, action={"kind": "parameter_change", "name": "problems:daily-limit", "value": 3}
    )
    problem = open_problem(session, world)
    assert (problem.daily_limit, problem.total_limit, problem.dividend_percent) == (3, 100, 10)
