"""Where teams stand: kept on each team's row, so that a leaderboard page is one indexed query.

A team's public standing (its best public score with its interval, how many scored submissions, the
last one's time) is refreshed whenever one of its submissions is scored; its private rank and score are
set once, at the close. The database computes both from the submissions with window functions.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, func, null, or_, select, update
from sqlalchemy.orm import Session

from aicommons.core.pagination import Page, PageRequest
from aicommons.problems.models import Problem, Submission, SubmissionState, Team
from aicommons.problems.scoring import Metric


def _ordered(problem: Problem, score: Any) -> Any:
    """`score` ordered best first, whichever way the metric goes."""
    return score.desc() if Metric(problem.metric).higher_is_better else score.asc()


def _figures(problem: Problem, teams: Sequence[int] | None) -> Any:
    """Every scored submission (of `teams`, or of all) with its team's figures, by window functions."""
    team = Submission.team_id
    scored = [Submission.problem_id == problem.id, Submission.state == SubmissionState.SCORED]
    if teams is not None:
        scored.append(Submission.team_id.in_(list(teams)))
    return (
        select(
            Submission.team_id,
            Submission.public_score,
            Submission.public_low,
            Submission.public_high,
            Submission.private_score,
            Submission.created_at,
            Submission.datasets,
            Submission.contributions,
            func.row_number()
            .over(partition_by=team, order_by=(_ordered(problem, Submission.public_score), Submission.id))
            .label("public_place"),
            func.count().over(partition_by=team).label("submissions"),
            func.max(Submission.created_at).over(partition_by=team).label("last_submission_at"),
            func.sum(case((Submission.selected, 1), else_=0)).over(partition_by=team).label("selected_count"),
            Submission.selected,
        )
        .where(*scored)
        .subquery()
    )


def refresh(session: Session, problem: Problem, teams: Sequence[int] | None = None) -> None:
    """Recompute the public standing of `teams` (all of the problem's when None) from their submissions."""
    if teams is not None:  # one scoring at a time per team, so that none overwrites a newer standing
        session.execute(select(Team.id).where(Team.id.in_(list(teams))).with_for_update())
    figures = _figures(problem, teams)
    rows = session.execute(select(figures).where(figures.c.public_place == 1)).mappings()
    values = [
        {
            "id": row["team_id"],
            "public_score": row["public_score"],
            "public_low": row["public_low"],
            "public_high": row["public_high"],
            "scored_submissions": row["submissions"],
            "last_submission_at": row["last_submission_at"],
        }
        for row in rows
    ]
    if values:
        session.execute(update(Team), values)


def rank_private(session: Session, problem: Problem) -> list[dict[str, Any]]:
    """At the close: each team's best final (its selected submissions, or else its best public one), ranked
    by private score and stored on the team; the ranked finals, with the datasets they declared."""
    figures = _figures(problem, None)
    finals = or_(figures.c.selected, and_(figures.c.selected_count == 0, figures.c.public_place == 1))
    best = (_ordered(problem, figures.c.private_score), figures.c.created_at)
    place = func.row_number().over(partition_by=figures.c.team_id, order_by=best)
    chosen = select(figures, place.label("final_place")).where(finals).subquery()
    ranked = session.execute(
        select(chosen.c.team_id, chosen.c.private_score, chosen.c.datasets, chosen.c.contributions)
        .where(chosen.c.final_place == 1)
        .order_by(_ordered(problem, chosen.c.private_score), chosen.c.last_submission_at, chosen.c.team_id)
    ).mappings()
    board = [dict(row) | {"rank": rank} for rank, row in enumerate(ranked, start=1)]
    if board:
        stored = [
            {"id": row["team_id"], "private_rank": row["rank"], "private_score": row["private_score"]}
            for row in board
        ]
        session.execute(update(Team), stored)
    return board


def leaderboard(
    *, session: Session, problem: Problem, private: bool, page: PageRequest | None = None
) -> Page[dict[str, Any]]:
    """Teams ranked by their best public score, or by their private rank once the problem closed."""
    placed: Any
    order: tuple[Any, ...]
    shown: tuple[Any, ...]
    if private:  # the private score has no interval: only the public split is bootstrapped
        placed, order = Team.private_rank, (Team.private_rank,)
        shown = (Team.private_score, null(), null())
    else:
        placed, order = Team.public_score, (_ordered(problem, Team.public_score), Team.last_submission_at)
        shown = (Team.public_score, Team.public_low, Team.public_high)
    on_board = (Team.problem_id == problem.id, placed.is_not(None))
    total = session.scalar(select(func.count()).select_from(Team).where(*on_board)) or 0
    wanted = page or PageRequest.model_construct(page=1, size=max(total, 1))  # the whole board
    query: Any = select(
        Team.id.label("team_id"),
        Team.name.label("team"),
        *(column.label(name) for column, name in zip(shown, ("score", "low", "high"), strict=True)),
        Team.scored_submissions.label("submissions"),
        Team.last_submission_at,
    ).where(*on_board)
    rows = session.execute(query.order_by(*order, Team.id).limit(wanted.size).offset(wanted.offset))
    ranked = [row._asdict() | {"rank": wanted.offset + place} for place, row in enumerate(rows, start=1)]
    return Page(ranked, total, wanted.page, wanted.size)
