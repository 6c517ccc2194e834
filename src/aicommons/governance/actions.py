"""What a proposal does when it executes, checked when it is made and carried out through the services a
person would use: a token transfer, a parameter, a dataset's admission, a role in a community."""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.communities.models import Community, Membership, MembershipStatus, Role
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.datasets import service as datasets
from aicommons.datasets.models import Policy
from aicommons.governance import parameters
from aicommons.governance.models import Kind, Proposal
from aicommons.governance.schemas import (
    AdmissionAction,
    MembershipAction,
    ParameterAction,
    Recipient,
    TransferAction,
)
from aicommons.ledger import tokens
from aicommons.members import service as members
from aicommons.members.models import Member
from aicommons.problems import service as problems
from aicommons.problems.models import ProblemState

INITIATOR = "governance"  # the initiator of its transfers' idempotency keys
EXECUTED = "governance:proposal:execute"


def prepare(
    session: Session, action: BaseModel | None, community: Community | None, proposer: Member
) -> dict[str, Any]:
    """The action as the proposal keeps it, its references resolved and checked."""
    if action is None:
        return {}
    if isinstance(action, TransferAction):
        return _transfer(session, action, community, proposer)
    if isinstance(action, ParameterAction):
        parameters.check(action.name, action.value)
        return {"kind": action.kind, "name": action.name, "value": action.value}
    if isinstance(action, AdmissionAction):
        return _admission(session, action)
    assert isinstance(action, MembershipAction) and community is not None
    return _membership(session, action, community)


def _transfer(
    session: Session, action: TransferAction, community: Community | None, proposer: Member
) -> dict[str, Any]:
    source = tokens.TREASURY if community is None else tokens.community_account(community.id)
    found: dict[str, Any] = {"kind": action.kind, "recipient": action.recipient, "to": action.to}
    if action.recipient == Recipient.MEMBER:
        found["account"] = tokens.member_account(members.get(session=session, handle=action.to).id)
    elif action.recipient == Recipient.COMMUNITY:
        target = communities.get(session=session, slug=action.to, viewer=proposer)
        found["account"] = tokens.community_account(target.id)
    else:
        problem = problems.get(session=session, ref=action.to, viewer=None)
        if problem.state != ProblemState.OPEN:
            raise CommonsError(ErrorCode.PROBLEM_CLOSED, f"{problem.slug} is not open: its bounty is settled")
        found |= {"problem": problem.id, "account": problems.bounty_escrow(problem)}
    if found["account"] == source:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "a transfer goes to another account than its source")
    return found | {"from": source, "amount": action.amount}


def _admission(session: Session, action: AdmissionAction) -> dict[str, Any]:
    dataset = datasets.get(session=session, ref=action.dataset)
    if dataset.policy != Policy.OPEN:
        raise CommonsError(ErrorCode.WRONG_POLICY, "only open data is admitted to the commons")
    if dataset.admitted_at is not None:
        raise CommonsError(ErrorCode.DATASET_ADMITTED, f"{dataset.slug} is already admitted")
    return {"kind": action.kind, "dataset": dataset.slug, "dataset_id": dataset.id, "subsidy": action.subsidy}


def _membership(session: Session, action: MembershipAction, community: Community) -> dict[str, Any]:
    member = members.get(session=session, handle=action.handle)
    membership = communities.membership_of(session, community, member)
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        raise CommonsError(ErrorCode.NOT_MEMBER, f"{member.handle} is not a member of {community.slug}")
    return {"kind": action.kind, "handle": member.handle, "member_id": member.id, "role": str(action.role)}


def execute(session: Session, proposal: Proposal) -> dict[str, Any]:
    """Carry out the proposal's action; returns what was done, for the log. Raises what the service
    refused (the treasury short of tokens, a problem closed meanwhile), and then nothing is changed."""
    return EXECUTORS[proposal.kind](session, proposal)


def _signal(_session: Session, proposal: Proposal) -> dict[str, Any]:
    return {"winner": (proposal.result or {}).get("winner")}


def _send(session: Session, proposal: Proposal) -> dict[str, Any]:
    action, key = proposal.action, f"proposal/{proposal.id}"
    if "problem" in action:
        problem = problems.get(session=session, ref=str(action["problem"]), viewer=None)
        problems.add_to_bounty(
            session=session, problem=problem, source=action["from"], amount=action["amount"], key=key
        )
    else:
        tokens.transfer(
            session,
            initiator=INITIATOR,
            key=key,
            source=action["from"],
            target=action["account"],
            amount=action["amount"],
            reason=EXECUTED,
        )
    return {"from": action["from"], "to": action["account"], "amount": action["amount"]}


def _set_parameter(session: Session, proposal: Proposal) -> dict[str, Any]:
    name, value = proposal.action["name"], proposal.action["value"]
    return {"parameter": name, "from": parameters.set_value(session, name, value), "to": value}


def _admit(session: Session, proposal: Proposal) -> dict[str, Any]:
    action = proposal.action
    dataset = datasets.admit(
        session=session, dataset=datasets.get(session=session, ref=str(action["dataset_id"]))
    )
    owner = tokens.owner_account(dataset.owner_member_id, dataset.owner_community_id)
    if action["subsidy"]:
        tokens.transfer(
            session,
            initiator=INITIATOR,
            key=f"proposal/{proposal.id}",
            source=tokens.TREASURY,
            target=owner,
            amount=action["subsidy"],
            reason=EXECUTED,
        )
    return {"dataset": dataset.id, "subsidy": action["subsidy"], "to": owner}


def _appoint(session: Session, proposal: Proposal) -> dict[str, Any]:
    """The role is set by the community's longest-serving steward on the members' behalf: the service
    takes a member who may set roles, and the decision was the members' (the log links both)."""
    community, action = proposal.community, proposal.action
    assert community is not None
    member = members.get(session=session, handle=action["handle"])
    communities.set_role(
        session=session,
        actor=_acting_steward(session, community),
        community=community,
        handle=member.handle,
        role=Role(action["role"]),
    )
    return {"member": member.id, "role": action["role"]}


def _acting_steward(session: Session, community: Community) -> Member:
    steward = session.scalar(
        select(Member)
        .join(Membership, Membership.member_id == Member.id)
        .where(
            Membership.community_id == community.id,
            Membership.role == Role.STEWARD,
            Membership.status == MembershipStatus.ACTIVE,
        )
        .order_by(Membership.id)
        .limit(1)
    )
    if steward is None:
        raise CommonsError(ErrorCode.LAST_STEWARD, f"{community.slug} has no steward to act for it")
    return steward


EXECUTORS: dict[Kind, Callable[[Session, Proposal], dict[str, Any]]] = {
    Kind.SIGNAL: _signal,
    Kind.TREASURY_TRANSFER: _send,
    Kind.PARAMETER_CHANGE: _set_parameter,
    Kind.DATASET_ADMISSION: _admit,
    Kind.MEMBERSHIP: _appoint,
}


def summary(proposal: Proposal) -> str:
    """What executing the proposal does, in words."""
    action, community = proposal.action, proposal.community
    if proposal.kind == Kind.TREASURY_TRANSFER:
        source = "the commons' treasury" if community is None else f"the account of {community.name}"
        target = (
            f"problem {action['to']}'s bounty"
            if "problem" in action
            else f"{action['recipient']} {action['to']}"
        )
        return f"Send {action['amount']:,} tokens from {source} to {target}."
    if proposal.kind == Kind.PARAMETER_CHANGE:
        parameter = parameters.declared(action["name"])
        return f"Set “{parameter.label}” ({parameter.name}) to {parameter.describe(action['value'])}."
    if proposal.kind == Kind.DATASET_ADMISSION:
        subsidy = (
            f", with {action['subsidy']:,} tokens from the treasury to its owner" if action["subsidy"] else ""
        )
        return f"Admit the dataset {action['dataset']} to the commons{subsidy}."
    if proposal.kind == Kind.MEMBERSHIP and community is not None:
        return f"Make {action['handle']} a {action['role']} of {community.name}."
    return "Nothing executes: the vote records what the members think."
