"""The rules of teams: founding one, and joining one only with its consent (an invitation or an approval).

A member of a team reads its submissions, chooses its finals, spends its quota and shares its bounty, so
nobody joins a team by naming it: one of its members invites them and they accept, or they ask and one of
its members approves. A member competes in one team per problem and may leave only a team of their own
that has not submitted yet (it is then removed)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.ledger import service as ledger
from aicommons.members import service as members
from aicommons.members.models import Member
from aicommons.problems.models import (
    Problem,
    RequestKind,
    RequestState,
    Submission,
    Team,
    TeamMember,
    TeamRequest,
)
from aicommons.problems.service import current_team, require_open

TEAM_NAME_LENGTH = 60


def join_team(*, session: Session, problem: Problem, member: Member, team_name: str) -> Team:
    """Found a team by a fresh name, or take up the invitation of the team of that name.

    An existing team the member was not invited to answers `team_consent_required` and changes nothing:
    they ask to join it instead (`ask`)."""
    require_open(problem)
    name = _checked_name(team_name)
    team = _team_named(session, problem, name)
    if team is None:
        return _found(session, problem, member, name)
    if _is_in(team, member):
        return team
    invitation = _latest(session, team, member)
    if not _waiting(invitation, RequestKind.INVITATION):
        raise CommonsError(
            ErrorCode.TEAM_CONSENT_REQUIRED,
            f"{team.name} takes members by its invitation or its approval: ask to join it",
        )
    return _admit(session, problem, invitation, member, "problems:team:accept").team


def invite(*, session: Session, problem: Problem, actor: Member, team_name: str, handle: str) -> TeamRequest:
    """A member of the team invites another member, who then accepts or declines (a pending request of
    theirs to join is approved instead)."""
    require_open(problem)
    team = _team_of_actor(session, problem, actor, team_name)
    invitee = members.get(session=session, handle=handle)
    _require_room_for(problem, team, invitee)
    row = _latest(session, team, invitee)
    if _waiting(row, RequestKind.REQUEST):
        return _admit(session, problem, row, actor, "problems:team:approve")
    if _waiting(row, RequestKind.INVITATION):
        return row
    row = _open(session, team, invitee, RequestKind.INVITATION, row, invited_by=actor)
    _record(session, "problems:team:invite", actor, team, {"member": invitee.id, "request": row.id})
    return row


def ask(*, session: Session, problem: Problem, member: Member, team_name: str) -> TeamRequest:
    """The member asks to join a team; one of its members approves or declines (a pending invitation of
    the team's is accepted instead)."""
    require_open(problem)
    team = _team_named(session, problem, _checked_name(team_name))
    if team is None:
        raise CommonsError(
            ErrorCode.TEAM_NOT_FOUND, f"no team {team_name.strip()!r} competes in {problem.slug}"
        )
    _require_room_for(problem, team, member)
    row = _latest(session, team, member)
    if _waiting(row, RequestKind.INVITATION):
        return _admit(session, problem, row, member, "problems:team:accept")
    if _waiting(row, RequestKind.REQUEST):
        return row
    row = _open(session, team, member, RequestKind.REQUEST, row)
    _record(session, "problems:team:request", member, team, {"member": member.id, "request": row.id})
    return row


def accept(*, session: Session, problem: Problem, actor: Member, request_id: int) -> TeamRequest:
    """The invitee accepts an invitation addressed to them, and joins the team."""
    row = _pending(
        session, problem, request_id, RequestKind.INVITATION, lambda found: found.member_id == actor.id
    )
    return _admit(session, problem, row, actor, "problems:team:accept")


def approve(*, session: Session, problem: Problem, actor: Member, request_id: int) -> TeamRequest:
    """A member of the team approves a request to join it: the member who asked joins."""
    row = _pending(session, problem, request_id, RequestKind.REQUEST, lambda found: _is_in(found.team, actor))
    return _admit(session, problem, row, actor, "problems:team:approve")


def decline(
    *, session: Session, problem: Problem, actor: Member, request_id: int, kind: RequestKind
) -> TeamRequest:
    """The side that decides says no: the invitee to an invitation, a member of the team to a request."""
    require_open(problem)
    row = _pending(session, problem, request_id, kind, lambda found: _decides(found, actor))
    row.state, row.decided_at = RequestState.DECLINED, utcnow()
    facts = {"member": row.member_id, "request": row.id, "kind": str(row.kind)}
    _record(session, "problems:team:decline", actor, row.team, facts)
    session.flush()
    return row


@dataclass
class Pending:
    """A member's pending invitations and requests on a problem, as their team section shows them."""

    invitations: list[TeamRequest] = field(default_factory=list)  # to the member: accept or decline
    requests: list[TeamRequest] = field(default_factory=list)  # to the member's team: approve or decline
    outgoing: list[TeamRequest] = field(
        default_factory=list
    )  # the member's requests, their team's invitations


def pending(*, session: Session, problem: Problem, member: Member) -> Pending:
    """What waits on the member or on others for them: only the parties to an invitation or request see it."""
    team = current_team(session, problem, member)
    parties = [TeamRequest.member_id == member.id] + ([TeamRequest.team_id == team.id] if team else [])
    query = select(TeamRequest).where(
        TeamRequest.problem_id == problem.id, TeamRequest.state == RequestState.PENDING, or_(*parties)
    )
    found = Pending()
    for row in session.scalars(query.order_by(TeamRequest.created_at, TeamRequest.id)):
        if row.member_id == member.id:
            (found.invitations if row.kind == RequestKind.INVITATION else found.outgoing).append(row)
        else:
            (found.requests if row.kind == RequestKind.REQUEST else found.outgoing).append(row)
    return found


def may_leave(session: Session, team: Team) -> bool:
    """Whether its member may leave the team for another: a team of one that has not submitted yet."""
    submitted = select(Submission.id).where(Submission.team_id == team.id).limit(1)
    return len(team.members) == 1 and session.scalar(submitted) is None


# --- the steps ---------------------------------------------------------------------------------------------


def _checked_name(team_name: str) -> str:
    name = team_name.strip()
    if not 1 <= len(name) <= TEAM_NAME_LENGTH:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"a team name has 1 to {TEAM_NAME_LENGTH} characters")
    return name


def _team_named(session: Session, problem: Problem, name: str) -> Team | None:
    return session.scalar(select(Team).where(Team.problem_id == problem.id, Team.name == name))


def _team_of_actor(session: Session, problem: Problem, actor: Member, team_name: str) -> Team:
    team = _team_named(session, problem, _checked_name(team_name))
    if team is None:
        raise CommonsError(
            ErrorCode.TEAM_NOT_FOUND, f"no team {team_name.strip()!r} competes in {problem.slug}"
        )
    if not _is_in(team, actor):
        raise CommonsError(ErrorCode.FORBIDDEN, f"only the members of {team.name} invite others to it")
    return team


def _is_in(team: Team, member: Member) -> bool:
    return any(row.member_id == member.id for row in team.members)


def _decides(row: TeamRequest, actor: Member) -> bool:
    return row.member_id == actor.id if row.kind == RequestKind.INVITATION else _is_in(row.team, actor)


def _found(session: Session, problem: Problem, member: Member, name: str) -> Team:
    """A new team of the member alone, who leaves a team of their own that has not submitted yet."""
    current = current_team(session, problem, member)
    if current is not None:
        _leave_own_team(session, problem, current, member)
    team = Team(problem_id=problem.id, name=name)
    team.members = [TeamMember(member_id=member.id, problem_id=problem.id)]
    session.add(team)
    session.flush()
    _record(session, "problems:team:create", member, team, {"name": name})
    return team


def _leave_own_team(session: Session, problem: Problem, team: Team, member: Member) -> None:
    if not may_leave(session, team):
        reason = f"{member.handle} competes in team {team.name}, which has other members or submissions"
        raise CommonsError(ErrorCode.ALREADY_IN_TEAM, reason)
    _record(session, "problems:team:remove", member, team, {"name": team.name})
    session.delete(team)
    session.flush()


def _require_room_for(problem: Problem, team: Team, member: Member) -> None:
    if _is_in(team, member):
        raise CommonsError(ErrorCode.ALREADY_IN_TEAM, f"{member.handle} is already in team {team.name}")
    if len(team.members) >= (limit := problem.team_size_limit):
        members_word = "member" if limit == 1 else "members"
        raise CommonsError(ErrorCode.TEAM_FULL, f"a team has at most {limit} {members_word}")


def _latest(session: Session, team: Team, member: Member) -> TeamRequest | None:
    return session.scalar(
        select(TeamRequest).where(TeamRequest.team_id == team.id, TeamRequest.member_id == member.id)
    )


def _waiting(row: TeamRequest | None, kind: RequestKind) -> TypeGuard[TeamRequest]:
    """Whether the row is a pending invitation or request of that kind."""
    return row is not None and row.kind == kind and row.state == RequestState.PENDING


def _open(
    session: Session,
    team: Team,
    member: Member,
    kind: RequestKind,
    row: TeamRequest | None,
    *,
    invited_by: Member | None = None,
) -> TeamRequest:
    """A pending invitation or request: a new row, or the team's and member's decided one opened again."""
    if row is None:
        row = TeamRequest(team=team, problem_id=team.problem_id, member=member)
        session.add(row)
    row.kind, row.state, row.invited_by = kind, RequestState.PENDING, invited_by
    row.created_at, row.decided_at = utcnow(), None
    session.flush()
    return row


def _pending(
    session: Session,
    problem: Problem,
    request_id: int,
    kind: RequestKind,
    decides: Callable[[TeamRequest], bool],
) -> TeamRequest:
    """A pending invitation or request of the problem that `decides` says the actor decides; nobody else
    learns that it exists."""
    row = session.get(TeamRequest, request_id)
    if (
        row is None
        or row.problem_id != problem.id
        or row.state != RequestState.PENDING
        or row.kind != kind
        or not decides(row)
    ):
        wanted = kind or "invitation or request"
        raise CommonsError(
            ErrorCode.REQUEST_NOT_FOUND, f"you have no pending {wanted} #{request_id} to decide"
        )
    return row


def _admit(session: Session, problem: Problem, row: TeamRequest, actor: Member, event: str) -> TeamRequest:
    """Both sides consented: the member joins the team (leaving a team of their own without submissions),
    within the team size limit, counted under a lock on the team so that two approvals cannot overfill it."""
    require_open(problem)
    team = session.scalars(select(Team).where(Team.id == row.team_id).with_for_update()).one()
    session.refresh(team, ["members"])
    _require_room_for(problem, team, row.member)
    current = current_team(session, problem, row.member)
    if current is not None:
        _leave_own_team(session, problem, current, row.member)
    team.members.append(TeamMember(member_id=row.member_id, problem_id=problem.id))
    row.state, row.decided_at = RequestState.ACCEPTED, utcnow()
    _record(session, event, actor, team, {"member": row.member_id, "request": row.id})
    session.flush()
    return row


def _record(session: Session, event: str, actor: Member, team: Team, data: dict[str, Any]) -> None:
    problem = session.get(Problem, team.problem_id)
    ledger.record(
        session,
        event,
        actor_id=actor.id,
        subject={"problem": team.problem_id},
        community_id=problem.owner_community_id if problem else None,
        data={"team": team.id, **data},
    )
