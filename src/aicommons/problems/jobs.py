"""The problems domain's background work: scoring a submission against the hidden evaluation rows, and
closing the problems their owners leave open past their closing time."""

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from aicommons.core.blobs import BlobStore
from aicommons.core.db import unit_of_work
from aicommons.core.errors import CommonsError
from aicommons.core.jobs import Handler, JobContext
from aicommons.problems import scoring, service
from aicommons.problems.models import Problem, Submission
from aicommons.problems.scoring import Metric, Task
from aicommons.problems.submissions import read_predictions


def scoring_job(store: BlobStore) -> Handler:
    """The handler of SCORE_JOB for the commons whose blobs are in `store`."""

    def run(context: JobContext) -> dict[str, Any]:
        submission_id = int(context.payload["submission_id"])
        with context.step() as session:
            submission = session.get(Submission, submission_id)
            problem = session.get(Problem, submission.problem_id) if submission else None
            if submission is None or problem is None or problem.evaluation_blob is None:
                raise LookupError(f"submission {submission_id} has no problem to be scored against")
            session.expunge_all()
        try:
            scores = _score(store, problem, submission)
        except CommonsError as refused:
            error = {"detail": refused.detail, "problems": refused.extra.get("problems", [])}
            with context.step() as session:
                service.save_failure(session=session, submission_id=submission_id, error=error)
            return {"state": "failed", "detail": refused.detail}
        with context.step() as session:
            service.save_score(
                session=session, submission_id=submission_id, public=scores[:3], private=scores[3]
            )
        return {"state": "scored", "public": scores[0]}

    return run


log = logging.getLogger(__name__)


def close_chore(factory: sessionmaker[Session]) -> Callable[[], None]:
    """The worker's chore: close each problem due, each in a transaction of its own, so that one that
    cannot close (logged) neither stops the others nor the worker."""

    def close_due() -> None:
        with unit_of_work(factory) as session:
            due = service.due_for_close(session)
        for problem_id in due:
            try:
                with unit_of_work(factory) as session:
                    service.close_on_time(session, problem_id)
            except CommonsError as refused:
                log.error("problem %s could not be closed on time: %s", problem_id, refused.detail)

    return close_due


def _score(store: BlobStore, problem: Problem, submission: Submission) -> tuple[float, float, float, float]:
    """The public score with its 95% bootstrap interval, and the private score."""
    ids, truth_values = service.evaluation_columns(store.path(problem.evaluation_blob or ""), problem)
    task, metric = Task(problem.task), Metric(problem.metric)
    keys = [str(row_id) for row_id in ids]
    predictions = read_predictions(
        store.path(submission.blob_sha256),
        expected_ids=keys,
        task=task,
        metric=metric,
        classes=problem.classes,
        id_column=problem.id_column,
        max_bytes=service.submission_limit_bytes(problem),
    )
    truth = (
        np.asarray(truth_values, dtype=np.float64)
        if task is Task.REGRESSION
        else scoring.encode_labels(truth_values, problem.classes)
    )
    public = scoring.public_private_split(
        keys, public_fraction=problem.public_percent / 100, seed=problem.split_seed
    )
    shown = scoring.score(metric, truth[public], predictions[public])
    low, high = scoring.confidence_interval(metric, truth[public], predictions[public], seed=submission.id)
    return shown, low, high, scoring.score(metric, truth[~public], predictions[~public])
