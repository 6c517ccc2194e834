"""The rules of problems: stating them, publishing with a bounty in escrow, submitting, scoring, closing."""

import secrets
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.core import jobs
from aicommons.core.blobs import BlobStore
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest, paginate
from aicommons.core.slugs import free_slug, slugify
from aicommons.datasets import ingest
from aicommons.datasets import permissions as dataset_permissions
from aicommons.datasets import service as datasets
from aicommons.datasets.models import Dataset, DatasetVersion
from aicommons.datasets.service import Upload
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens
from aicommons.members.models import GlobalRole, Member
from aicommons.problems import scoring, standings
from aicommons.problems.models import (
    Problem,
    ProblemDataset,
    ProblemState,
    ProblemTarget,
    Submission,
    SubmissionState,
    Team,
    TeamMember,
)
from aicommons.problems.schemas import DatasetVersionRef, ProblemCreate
from aicommons.problems.scoring import Task

SCORE_JOB = "problems:submission:score"
# Commons parameters (members change them by vote): the defaults of a new problem that does not set its own.
DAILY_LIMIT = "problems:daily-limit"
TOTAL_LIMIT = "problems:total-limit"
DIVIDEND_PERCENT = "problems:dividend-percent"
COMMONS_DEFAULTS = {
    "daily_limit": (DAILY_LIMIT, 5),
    "total_limit": (TOTAL_LIMIT, 100),
    "dividend_percent": (DIVIDEND_PERCENT, 10),
}
SPLITS = {"winner": (100,), "top3": (50, 30, 20)}


def create(*, session: Session, creator: Member, form: ProblemCreate) -> Problem:
    """A problem in draft: the owner uploads its evaluation data, then publishes it."""
    community = (
        communities.get(session=session, slug=form.community, viewer=creator) if form.community else None
    )
    if community is not None and not dataset_permissions.may_own_for(session, community.id, creator):
        raise CommonsError(
            ErrorCode.FORBIDDEN, "only a community's stewards and organizers state its problems"
        )
    values = form.model_dump(exclude={"slug", "sdg_targets", "input", "datasets", "community"})
    for field, (parameter, default) in COMMONS_DEFAULTS.items():
        if values[field] is None:
            values[field] = tokens.parameter(session, parameter, default)
    problem = Problem(
        **values,
        slug=free_slug(session, Problem.slug, form.slug or slugify(form.title, fallback_prefix="problem")),
        split_seed=secrets.randbits(31),
        owner_member_id=None if community else creator.id,
        owner_community_id=community.id if community else None,
        created_by_id=creator.id,
    )
    problem.target_rows = [ProblemTarget(target=t, goal=int(t.split(".")[0])) for t in form.sdg_targets]
    problem.dataset_rows = [ProblemDataset(version_id=_version_id(session, ref)) for ref in form.datasets]
    if form.input is not None:
        schema_source = _version(session, form.input)
        problem.input_version_id, problem.input_columns = schema_source.id, list(schema_source.columns)
    session.add(problem)
    session.flush()
    _record(
        session, "problems:problem:create", creator, problem, {"slug": problem.slug, "metric": problem.metric}
    )
    return problem


def _version(session: Session, ref: DatasetVersionRef) -> Any:
    dataset = datasets.get(session=session, ref=ref.dataset)
    return datasets.version(session=session, dataset=dataset, number=ref.version)


def _version_id(session: Session, ref: DatasetVersionRef) -> int:
    return int(_version(session, ref).id)


def _record(
    session: Session, event: str, actor: Member | None, problem: Problem, data: dict[str, Any]
) -> None:
    ledger.record(
        session,
        event,
        actor_id=actor.id if actor else None,
        subject={"problem": problem.id},
        community_id=problem.owner_community_id,
        data=data,
    )


def get(*, session: Session, ref: str, viewer: Member | None) -> Problem:
    """A problem by slug or number; drafts exist only for their owners."""
    condition = Problem.id == int(ref) if ref.isdigit() else Problem.slug == ref
    found = session.scalar(select(Problem).where(condition))
    if found is None or (found.state == ProblemState.DRAFT and not is_owner(session, found, viewer)):
        raise CommonsError(ErrorCode.PROBLEM_NOT_FOUND, f"no problem {ref!r}")
    return found


def is_owner(session: Session, problem: Problem, member: Member | None) -> bool:
    if member is None:
        return False
    if member.role == GlobalRole.ADMIN or problem.owner_member_id == member.id:
        return True
    return problem.owner_community_id is not None and dataset_permissions.may_own_for(
        session, problem.owner_community_id, member
    )


def _require_owner(session: Session, problem: Problem, member: Member, action: str) -> None:
    if not is_owner(session, problem, member):
        raise CommonsError(ErrorCode.FORBIDDEN, f"only the problem's owners may {action}")


def search(*, session: Session, sdg: int | None, page: PageRequest) -> Page[Problem]:
    """Published problems, open ones first, optionally for one SDG."""
    query = select(Problem).where(Problem.state != ProblemState.DRAFT)
    if sdg is not None:
        query = query.where(Problem.id.in_(select(ProblemTarget.problem_id).where(ProblemTarget.goal == sdg)))
    return paginate(session, query.order_by(Problem.state.desc(), Problem.closes_at, Problem.id), page)


# --- evaluation data and publishing ----------------------------------------------------------------------


def set_evaluation(
    *, session: Session, store: BlobStore, actor: Member, problem: Problem, upload: Upload
) -> Problem:
    """The hidden evaluation rows (id and target columns): stored privately, never downloadable."""
    _require_owner(session, problem, actor, "upload evaluation data")
    if problem.state != ProblemState.DRAFT:
        raise CommonsError(
            ErrorCode.PROBLEM_NOT_DRAFT, "evaluation data is fixed once the problem is published"
        )
    with store.scratch(".parquet") as parquet:
        ingest.to_parquet(upload.path, upload.file_format, parquet)
        ids, truth = evaluation_columns(parquet, problem)
        blob, _ = store.adopt(parquet)
    problem.evaluation_blob, problem.evaluation_rows = blob, len(ids)
    problem.classes = _classes(problem, truth)
    _record(session, "problems:evaluation:upload", actor, problem, {"rows": len(ids), "blob": blob})
    session.flush()
    return problem


def evaluation_columns(path: Path, problem: Problem) -> tuple[list[Any], list[Any]]:
    """The ids and targets of an evaluation file, checked: both columns there, ids unique, nothing missing."""
    table = pq.read_table(path)
    missing = [name for name in (problem.id_column, problem.target_column) if name not in table.column_names]
    if missing:
        raise CommonsError(ErrorCode.BAD_DATA, f"the evaluation data has no column {missing[0]!r}")
    ids, truth = table.column(problem.id_column).to_pylist(), table.column(problem.target_column).to_pylist()
    if len(set(ids)) != len(ids) or None in ids:
        raise CommonsError(ErrorCode.BAD_DATA, f"every row needs its own {problem.id_column!r}")
    if None in truth:
        raise CommonsError(ErrorCode.BAD_DATA, f"every row needs a {problem.target_column!r}")
    return ids, truth


def _classes(problem: Problem, truth: list[Any]) -> list[str]:
    """The labels of a classification problem, sorted (a binary problem's positive class is the second)."""
    if problem.task == Task.REGRESSION:
        if not all(isinstance(value, int | float) for value in truth):
            raise CommonsError(
                ErrorCode.BAD_DATA, f"a regression target {problem.target_column!r} holds numbers"
            )
        return []
    classes = sorted({str(value) for value in truth})
    if len(classes) < 2 or (problem.task == Task.BINARY and len(classes) != 2):
        wanted = "two" if problem.task == Task.BINARY else "two or more"
        raise CommonsError(
            ErrorCode.BAD_DATA, f"a {problem.task} target has {wanted} classes, not {len(classes)}"
        )
    return classes


def publish(*, session: Session, actor: Member, problem: Problem) -> Problem:
    """Open the problem: its bounty moves to escrow, where it waits for the close."""
    _require_owner(session, problem, actor, "publish it")
    if problem.state != ProblemState.DRAFT:
        raise CommonsError(ErrorCode.PROBLEM_NOT_DRAFT, "the problem is already published")
    if problem.evaluation_blob is None:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "upload the evaluation data before publishing")
    if problem.bounty:
        tokens.transfer(
            session,
            initiator=bounty_escrow(problem),
            key=f"bounty/{problem.id}/hold",
            source=tokens.owner_account(problem.owner_member_id, problem.owner_community_id),
            target=bounty_escrow(problem),
            amount=problem.bounty,
            reason="problems:bounty:hold",
            actor_id=actor.id,
        )
    problem.state, problem.published_at = ProblemState.OPEN, utcnow()
    _record(session, "problems:problem:publish", actor, problem, {"bounty": problem.bounty})
    session.flush()
    return problem


def bounty_escrow(problem: Problem) -> str:
    return tokens.escrow_account(f"bounty:{problem.id}")


def add_to_bounty(*, session: Session, problem: Problem, source: str, amount: int, key: str) -> Problem:
    """More tokens into an open problem's bounty, from another account (a grant the members voted)."""
    if problem.state != ProblemState.OPEN:
        raise CommonsError(ErrorCode.PROBLEM_CLOSED, f"{problem.slug} is not open: its bounty is settled")
    tokens.transfer(
        session,
        initiator=bounty_escrow(problem),
        key=key,
        source=source,
        target=bounty_escrow(problem),
        amount=amount,
        reason="problems:bounty:add",
    )
    problem.bounty += amount
    _record(session, "problems:bounty:add", None, problem, {"amount": amount, "from": source})
    session.flush()
    return problem


# --- teams and submissions -------------------------------------------------------------------------------


def team_of(session: Session, problem: Problem, member: Member) -> Team:
    """The member's team for the problem: the one they are in, or else a new team of one named after them."""
    found = current_team(session, problem, member)
    if found is not None:
        return found
    team = Team(problem_id=problem.id, name=_free_name(session, problem, member.handle))
    team.members = [TeamMember(member_id=member.id, problem_id=problem.id)]
    session.add(team)
    session.flush()
    return team


def _free_name(session: Session, problem: Problem, handle: str) -> str:
    """The member's handle as their team's name, or handle-2, -3… where a team took it first."""
    taken = set(session.scalars(select(Team.name).where(Team.problem_id == problem.id)))
    name, number = handle, 1
    while name in taken:
        number += 1
        name = f"{handle}-{number}"
    return name


def submit(
    *,
    session: Session,
    store: BlobStore,
    member: Member,
    problem: Problem,
    upload: Upload,
    datasets_used: Sequence[int] = (),
    note: str = "",
    contributions: Sequence[dict[str, Any]] = (),
) -> Submission:
    """Predictions for the evaluation rows; a job scores them. Failed ones do not count against the limits.

    `contributions` are measured shares of the data behind the predictions (a federated model's
    contributors, given by the federation), which the data dividend follows."""
    require_open(problem)
    team = team_of(session, problem, member)
    _require_under_limits(session, problem, team)
    unknown = sorted(set(datasets_used) - set(problem.dataset_versions))
    if unknown:
        raise CommonsError(
            ErrorCode.VALIDATION_FAILED, f"dataset versions {unknown} are not among the problem's"
        )
    blob, _ = store.adopt(upload.path)
    submission = Submission(
        problem_id=problem.id,
        team_id=team.id,
        member_id=member.id,
        blob_sha256=blob,
        size_bytes=upload.size,
        note=note,
        datasets=sorted(set(datasets_used)),
        contributions=list(contributions),
    )
    session.add(submission)
    session.flush()
    submission.job_id = jobs.enqueue(
        session, SCORE_JOB, {"submission_id": submission.id}, submitted_by_id=member.id
    ).id
    _record(
        session, "problems:submission:create", member, problem, {"submission": submission.id, "team": team.id}
    )
    return submission


def require_open(problem: Problem) -> None:
    now = utcnow()
    if problem.state != ProblemState.OPEN or now < problem.opens_at:
        raise CommonsError(ErrorCode.PROBLEM_CLOSED, "the problem does not take submissions yet")
    if now >= problem.closes_at:
        raise CommonsError(ErrorCode.PROBLEM_CLOSED, "the problem closed")


def _require_under_limits(session: Session, problem: Problem, team: Team) -> None:
    counted = (
        select(func.count())
        .select_from(Submission)
        .outerjoin(jobs.Job, jobs.Job.id == Submission.job_id)
        .where(
            Submission.problem_id == problem.id,
            Submission.team_id == team.id,
            Submission.state != SubmissionState.FAILED,
            or_(jobs.Job.state.is_(None), jobs.Job.state != jobs.JobState.FAILED),  # a stuck job failed too
        )
    )
    if (session.scalar(counted) or 0) >= problem.total_limit:
        raise CommonsError(ErrorCode.SUBMISSION_LIMIT, f"the limit is {problem.total_limit} submissions")
    today = session.scalar(counted.where(Submission.created_at >= utcnow() - timedelta(days=1))) or 0
    if today >= problem.daily_limit:
        raise CommonsError(
            ErrorCode.SUBMISSION_LIMIT, f"the limit is {problem.daily_limit} submissions a day"
        )


def my_submissions(*, session: Session, member: Member, problem: Problem) -> list[Submission]:
    team = current_team(session, problem, member)
    if team is None:
        return []
    query = select(Submission).where(Submission.problem_id == problem.id, Submission.team_id == team.id)
    return list(session.scalars(query.order_by(Submission.id.desc())))


def current_team(session: Session, problem: Problem, member: Member) -> Team | None:
    return session.scalar(
        select(Team)
        .join(TeamMember)
        .where(TeamMember.problem_id == problem.id, TeamMember.member_id == member.id)
    )


def save_score(
    *, session: Session, submission_id: int, public: tuple[float, float, float], private: float
) -> None:
    """A scored submission: its public score with its 95% interval, and its private score (hidden until
    the close)."""
    found = session.get(Submission, submission_id)
    assert found is not None
    found.public_score, found.public_low, found.public_high = public
    found.private_score, found.state, found.scored_at = private, SubmissionState.SCORED, utcnow()
    problem = session.get(Problem, found.problem_id)
    assert problem is not None
    session.flush()
    standings.refresh(session, problem, [found.team_id])
    facts = {"submission": found.id, "team": found.team_id, "public": _decimal(public[0])}
    _record(session, "problems:submission:score", None, problem, facts)


def _decimal(score: float) -> str:
    """A score as the log holds it: decimal text (log entries are canonical JSON, without floats)."""
    return f"{score:.6g}"


def save_failure(*, session: Session, submission_id: int, error: dict[str, Any]) -> None:
    """A submission whose file was refused: it stays visible to its team and does not count."""
    found = session.get(Submission, submission_id)
    assert found is not None
    found.state, found.error, found.scored_at = SubmissionState.FAILED, error, utcnow()


def select_finals(
    *, session: Session, member: Member, problem: Problem, submission_ids: Sequence[int]
) -> list[Submission]:
    """Choose up to two scored submissions for the private leaderboard (by default, the best public one)."""
    require_open(problem)
    chosen = set(submission_ids)
    if not 1 <= len(chosen) <= 2:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "select one or two submissions")
    mine = {found.id: found for found in my_submissions(session=session, member=member, problem=problem)}
    if not chosen <= {sid for sid, found in mine.items() if found.state == SubmissionState.SCORED}:
        raise CommonsError(ErrorCode.SUBMISSION_NOT_FOUND, "select scored submissions of your own team")
    for found in mine.values():
        found.selected = found.id in chosen
    session.flush()
    return [mine[sid] for sid in sorted(chosen)]


# --- leaderboards and the close ----------------------------------------------------------------------------


def close(*, session: Session, actor: Member, problem: Problem) -> Problem:
    """The owners' close, after the closing time (the worker closes on time those they leave open)."""
    _require_owner(session, problem, actor, "close it")
    return _close(session, problem, actor)


def due_for_close(session: Session) -> list[int]:
    """Open problems past their closing time, oldest first."""
    due = select(Problem.id).where(Problem.state == ProblemState.OPEN, Problem.closes_at <= utcnow())
    return list(session.scalars(due.order_by(Problem.closes_at)))


def close_on_time(session: Session, problem_id: int) -> Problem | None:
    """The worker's close on the commons' behalf, once every submission made in time is scored."""
    problem = session.get(Problem, problem_id)
    if problem is None or problem.state != ProblemState.OPEN or _still_scoring(session, problem):
        return None
    return _close(session, problem, None)


def _still_scoring(session: Session, problem: Problem) -> int:
    """Submissions queued for scoring whose job has not failed (a failed job's submission never counts)."""
    waiting = (
        select(func.count())
        .select_from(Submission)
        .outerjoin(jobs.Job, jobs.Job.id == Submission.job_id)
        .where(
            Submission.problem_id == problem.id,
            Submission.state == SubmissionState.QUEUED,
            or_(jobs.Job.state.is_(None), jobs.Job.state != jobs.JobState.FAILED),
        )
    )
    return session.scalar(waiting) or 0


def _close(session: Session, problem: Problem, actor: Member | None) -> Problem:
    """Reveal the private leaderboard, pay the bounty by the payout rule and the data dividend, publish how
    well the public ranks foretold the private ones."""
    session.refresh(problem, with_for_update=True)  # one close at a time: the second finds it closed
    if problem.state != ProblemState.OPEN:
        raise CommonsError(ErrorCode.PROBLEM_CLOSED, "only an open problem is closed")
    if utcnow() < problem.closes_at:
        raise CommonsError(
            ErrorCode.PROBLEM_STILL_OPEN, f"the problem closes at {problem.closes_at:%Y-%m-%d %H:%M} UTC"
        )
    if waiting := _still_scoring(session, problem):
        raise CommonsError(ErrorCode.PROBLEM_STILL_OPEN, f"submissions still being scored: {waiting}")
    board = standings.rank_private(session, problem)
    paid = _pay_bounty(session, problem, board)
    public = standings.leaderboard(session=session, problem=problem, private=False).items
    problem.rank_correlation = _rank_correlation(public, board)
    problem.state, problem.closed_at = ProblemState.CLOSED, utcnow()
    private = [
        {"team": entry["team_id"], "rank": entry["rank"], "score": _decimal(entry["private_score"])}
        for entry in board
    ]
    _record(session, "problems:problem:close", actor, problem, {"private": private[:50], "paid": paid})
    session.flush()
    return problem


def _pay_bounty(session: Session, problem: Problem, board: list[dict[str, Any]]) -> dict[str, int]:
    """Winners' shares (each split among the team's members) and the dividend to declared datasets' owners."""
    if not problem.bounty:
        return {}
    if not board:
        return _pay(
            session,
            problem,
            {tokens.owner_account(problem.owner_member_id, problem.owner_community_id): problem.bounty},
            "refund",
        )
    winners = board[: len(SPLITS[problem.payout_rule])]
    owners = _dividend_weights(session, winners)
    dividend = problem.bounty * problem.dividend_percent // 100 if owners else 0
    shares = _split(problem.bounty - dividend, [SPLITS[problem.payout_rule][n] for n in range(len(winners))])
    amounts: dict[str, int] = {}
    for entry, share in zip(winners, shares, strict=True):
        for account, amount in _team_accounts(session, entry["team_id"], share).items():
            amounts[account] = amounts.get(account, 0) + amount
    weights = [round(weight * 1_000_000) for weight in owners.values()]
    for account, amount in zip(owners, _split(dividend, weights), strict=True):
        amounts[account] = amounts.get(account, 0) + amount
    return _pay(session, problem, amounts, "payout")


def _dividend_weights(session: Session, winners: list[dict[str, Any]]) -> dict[str, float]:
    """Who shares the data dividend, and in what proportion: each paid team's data weighs the same; within
    it, the measured shares its final submission carries (a federated model's contributors), or else the
    owners of the dataset versions it declared, evenly."""
    weights: dict[str, float] = {}
    for entry in winners:
        measured = {part["account"]: float(part["share"]) for part in entry["contributions"] or []}
        declared = dict.fromkeys(_dataset_owners(session, entry["datasets"]), 1.0)
        parts = measured or declared
        for account, part in parts.items():
            weights[account] = weights.get(account, 0.0) + part / sum(parts.values())
    return dict(sorted(weights.items()))


def _split(total: int, weights: Sequence[int]) -> list[int]:
    """`total` tokens in whole shares by weight, by largest remainders (`tokens.split`; of equal remainders,
    the first in order)."""
    if not weights:
        return []
    shares = tokens.split(total, {index: float(weight) for index, weight in enumerate(weights)})
    return [shares[index] for index in range(len(weights))]


def _team_accounts(session: Session, team_id: int, amount: int) -> dict[str, int]:
    members = sorted(session.scalars(select(TeamMember.member_id).where(TeamMember.team_id == team_id)))
    return {
        tokens.member_account(member): share
        for member, share in zip(members, _split(amount, [1] * len(members)), strict=True)
    }


def _dataset_owners(session: Session, version_ids: Sequence[int]) -> list[str]:
    """The accounts of the owners of the datasets behind these versions, each once, in a stable order."""
    query = (
        select(Dataset.owner_member_id, Dataset.owner_community_id)
        .join(DatasetVersion)
        .where(DatasetVersion.id.in_(set(version_ids)))
    )
    accounts = {tokens.owner_account(member, community) for member, community in session.execute(query)}
    return sorted(accounts)


def _pay(session: Session, problem: Problem, amounts: dict[str, int], step: str) -> dict[str, int]:
    for account, amount in sorted(amounts.items()):
        if amount > 0:
            tokens.transfer(
                session,
                initiator=bounty_escrow(problem),
                key=f"bounty/{problem.id}/{step}/{account}",
                source=bounty_escrow(problem),
                target=account,
                amount=amount,
                reason=f"problems:bounty:{step}",
            )
    return amounts


def _rank_correlation(public: list[dict[str, Any]], private: list[dict[str, Any]]) -> float | None:
    """Spearman's correlation between the teams' public and private ranks (None with fewer than 3 teams)."""
    if len(private) < 3:
        return None
    public_rank = {entry["team_id"]: entry["rank"] for entry in public}
    ranks = [(public_rank[entry["team_id"]], entry["rank"]) for entry in private]
    return round(scoring.spearman([a for a, _ in ranks], [b for _, b in ranks]), 6)


def submission_limit_bytes(problem: Problem) -> int:
    """The largest prediction file a problem takes: generous for its rows, refusing what cannot be one."""
    return 1_048_576 + 256 * problem.evaluation_rows
