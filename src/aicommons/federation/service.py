"""The rules of federated learning: training runs, their rounds' rewards, the models (nodes: `nodes`).

A run trains a model for a problem on the nodes of the federated datasets the problem names, without a
row leaving a node. Each round is one log entry: the new model's hash, each participant's update hash,
its measured contribution and its reward (minted by the reward policy's `reward:federation:round`,
split by positive contribution by largest remainders), and the metrics. A completed run registers its
model with a card; the model belongs to its contributors by their shares of the rounds' rewards.
"""

import io
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from aicommons.core import jobs
from aicommons.core.blobs import BlobStore
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.slugs import free_slug, slugify
from aicommons.datasets import service as datasets
from aicommons.datasets.models import DatasetVersion
from aicommons.federation import learning, plans
from aicommons.federation.learning import Architecture, Family, Training
from aicommons.federation.models import Node, RunNode, RunState, TrainedModel, TrainingRound, TrainingRun
from aicommons.federation.nodes import nodes_for, policy
from aicommons.federation.plans import Evaluation, Plan, RoundReport, RunSettings
from aicommons.federation.schemas import RunCreate
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens
from aicommons.members.models import GlobalRole, Member
from aicommons.problems import service as problems
from aicommons.problems.models import Problem, ProblemState, Submission
from aicommons.problems.scoring import PREDICTION_COLUMN, Metric, Prediction, Task, prediction_kind

TRAIN_JOB = "federation:run:train"
ROUND_REWARD = "federation:round"  # the reward policy's parameter is "reward:federation:round"
DEFAULT_ROUND_REWARD = 10
NUMERIC = (pa.types.is_integer, pa.types.is_floating)


# --- runs --------------------------------------------------------------------------------------------------


def start_run(
    *, session: Session, store: BlobStore, actor: Member, problem: Problem, form: RunCreate
) -> TrainingRun:
    """A run queued as a background job, on the chosen (or every) node whose policy accepts it.

    A node the starter chose whose privacy budget the run would exceed refuses the whole run; otherwise
    the nodes whose policies decline are left out, and why is kept with the run's job and on the log."""
    if problem.state == ProblemState.DRAFT or problem.evaluation_blob is None:
        raise CommonsError(ErrorCode.NOT_FEDERABLE, "a run needs a published problem with evaluation data")
    run = TrainingRun(problem_id=problem.id, created_by_id=actor.id, **_run_fields(form))
    plan = _plan(store, problem, run)
    chosen = _chosen_nodes(session, problem, form.nodes)
    if form.nodes is not None:
        _refuse_over_budget(plan, chosen)
    accepting, declined = _accepting(plan, chosen, form.min_nodes)
    _one_engine(accepting)
    run.nodes = [RunNode(node_id=node.id) for node in accepting]
    session.add(run)
    session.flush()
    payload = {"run_id": run.id, "declined": declined}
    run.job_id = jobs.enqueue(session, TRAIN_JOB, payload, submitted_by_id=actor.id).id
    nodes = [node.id for node in accepting]
    facts = {"run": run.id, "nodes": nodes, "declined": declined, "config": _config_facts(form)}
    _record(session, "federation:run:start", actor.id, run, facts)
    session.flush()
    return run


def _accepting(plan: Plan, chosen: Sequence[Node], needed: int) -> tuple[list[Node], dict[str, str]]:
    """The nodes whose policies accept the run, and why each other one declines; too few, the run is
    refused with the reasons."""
    reasons = {node.id: _declines(plan, node) for node in chosen}
    accepting = [node for node in chosen if reasons[node.id] is None]
    declined = {node.name: reason for node in chosen if (reason := reasons[node.id]) is not None}
    if len(accepting) < needed:
        raise CommonsError(
            ErrorCode.NOT_ENOUGH_NODES,
            f"{len(accepting)} of the problem's nodes accept this run, {needed} are needed",
            refusals=declined,
        )
    return accepting, declined


def _declines(plan: Plan, node: Node) -> str | None:
    """Why the node's policy declines the run (the node enforces the same policy), or None; an exceeded
    privacy budget is told with the ε the run would spend."""
    other = replace(policy(node), max_epsilon=None).refusal(plan, node.rows)
    spent = _over_budget(plan, node)
    return other or (None if spent is None else _budget_reason(plan, node, spent))


def _over_budget(plan: Plan, node: Node) -> float | None:
    """The ε the whole run would spend on the node's rows, when that is more than its policy allows."""
    if node.max_epsilon is None or node.rows <= 0:
        return None
    spent = plans.spent_epsilon(plan, node.rows, plan.rounds)
    return spent if spent > node.max_epsilon else None


def _budget_reason(plan: Plan, node: Node, spent: float) -> str:
    budget = node.max_epsilon or 0.0
    noise = plans.noise_for(plan, node.rows, budget)
    return (
        f"the run would spend ε = {_epsilon_text(spent)} (δ = {plan.delta:g}) on the {node.rows} rows of "
        f"{node.name}, more than its budget ε = {budget:g}; a noise multiplier of at least {noise:g} "
        "keeps within it"
    )


def _epsilon_text(spent: float) -> str:
    return "∞ (no noise)" if math.isinf(spent) else f"{spent:.3g}"


def _refuse_over_budget(plan: Plan, chosen: Sequence[Node]) -> None:
    """Refuse, before it starts, a run that would spend more privacy on a node the starter chose than the
    node allows: each such node named, with the ε the run would spend and its budget."""
    over = [(node, spent) for node in chosen if (spent := _over_budget(plan, node)) is not None]
    if over:
        raise CommonsError(
            ErrorCode.PRIVACY_BUDGET_EXCEEDED,
            "; ".join(_budget_reason(plan, node, spent) for node, spent in over),
            budgets={node.name: _budget_facts(plan, node, spent) for node, spent in over},
        )


def _budget_facts(plan: Plan, node: Node, spent: float) -> dict[str, Any]:
    return {
        "epsilon": None if math.isinf(spent) else round(spent, 3),  # None: unbounded, without noise
        "max_epsilon": node.max_epsilon,
        "delta": plan.delta,
        "noise_multiplier_needed": plans.noise_for(plan, node.rows, node.max_epsilon or 0.0),
    }


def _run_fields(form: RunCreate) -> dict[str, Any]:
    return form.model_dump(exclude={"nodes"})


def _config_facts(form: RunCreate) -> dict[str, Any]:
    """The run's configuration as the log holds it (no floats in canonical JSON: decimal text)."""
    return {
        key: value if isinstance(value, int | str) or value is None else f"{value:.6g}"
        for key, value in _run_fields(form).items()
    }


def _chosen_nodes(session: Session, problem: Problem, wanted: Sequence[int] | None) -> list[Node]:
    available = nodes_for(session, problem)
    if wanted is None:
        return available
    unknown = sorted(set(wanted) - {node.id for node in available})
    if unknown:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"nodes {unknown} do not serve this problem's data")
    return [node for node in available if node.id in set(wanted)]


def get_run(*, session: Session, run_id: int) -> TrainingRun:
    found = session.get(TrainingRun, run_id)
    if found is None:
        raise CommonsError(ErrorCode.RUN_NOT_FOUND, f"no training run {run_id}")
    return found


def declined(session: Session, run: TrainingRun) -> dict[str, str]:
    """Why each node of the problem that the run left out declined it, as the run's job keeps it."""
    job = jobs.get(session, run.job_id) if run.job_id else None
    found = job.payload.get("declined", {}) if job else {}
    return {str(name): str(reason) for name, reason in found.items()}


def runs_of(*, session: Session, problem: Problem) -> list[TrainingRun]:
    query = select(TrainingRun).where(TrainingRun.problem_id == problem.id)
    return list(session.scalars(query.order_by(TrainingRun.id.desc())))


# --- the plan and the evaluation ---------------------------------------------------------------------------


def _plan(store: BlobStore, problem: Problem, run: TrainingRun) -> Plan:
    """What the nodes are asked: the numeric features the evaluation rows carry, standardised as `_scaling`
    says."""
    table = _evaluation_table(store, problem)
    features = _features(problem, table)
    means, scales = _scaling(problem, table.select(features).to_pandas())
    task = Task(problem.task)
    return Plan(
        architecture=Architecture(
            family=Family(run.family),
            features=len(features),
            outputs=1 if task is Task.REGRESSION else len(problem.classes),
        ),
        task=task,
        features=tuple(features),
        target=problem.target_column,
        classes=tuple(problem.classes),
        means=means,
        scales=scales,
        training=Training(
            epochs=run.local_epochs,
            learning_rate=run.learning_rate,
            proximal_mu=run.proximal_mu,
            clip_norm=run.clip_norm,
            noise_multiplier=run.noise_multiplier,
        ),
        problem_id=problem.id,
        rounds=run.rounds,
        delta=run.delta,
        seed=run.seed,
    )


Scaling = tuple[tuple[float, ...], tuple[float, ...]]  # each feature's mean, and its spread


def _scaling(problem: Problem, frame: Any) -> Scaling:
    """Each feature's mean and spread: pooled from the statistics the federated datasets' owners published,
    so that nothing of the hidden evaluation rows reaches a node; from the evaluation rows (`frame`) only
    when the owners did not publish a mean and spread of every feature (decision 0050)."""
    published = _published_scaling(problem, list(frame.columns))
    if published is not None:
        return published
    scales = frame.std(ddof=0).replace(0, 1).fillna(1)
    return tuple(float(value) for value in frame.mean().fillna(0)), tuple(float(value) for value in scales)


def _published_scaling(problem: Problem, features: Sequence[str]) -> Scaling | None:
    """The scaling pooled from the problem's federated dataset versions' published statistics, if they
    give every feature's mean and spread."""
    session = object_session(problem)
    federated = select(DatasetVersion).where(
        DatasetVersion.id.in_(problem.dataset_versions), DatasetVersion.source_format == "federated"
    )
    figures = [_published_figures(version) for version in session.scalars(federated)] if session else []
    if not figures or any(name not in found for found in figures for name in features):
        return None
    pooled = [_pooled([found[name] for found in figures]) for name in features]
    return tuple(mean for mean, _ in pooled), tuple(spread for _, spread in pooled)


def _published_figures(version: DatasetVersion) -> dict[str, tuple[float, float, float]]:
    """(count, mean, standard deviation) of each column whose mean and spread the owner published."""
    columns = version.statistics.get("columns") if isinstance(version.statistics, dict) else None
    found = {}
    for column in columns if isinstance(columns, list) else []:
        figures = _column_figures(column, version.row_count)
        if figures is not None:
            found[str(column["name"])] = figures
    return found


def _column_figures(column: Any, rows: int) -> tuple[float, float, float] | None:
    """A published column's (count, mean, spread), when it has a numeric mean and spread (and else the
    version's row count as its count)."""
    if not isinstance(column, dict) or "name" not in column:
        return None
    count, mean, spread = (_number(column.get(key)) for key in ("count", "mean", "std"))
    if mean is None or spread is None:
        return None
    return (count if count is not None and count > 0 else float(rows)), mean, spread


def _number(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


def _pooled(parts: Sequence[tuple[float, float, float]]) -> tuple[float, float]:
    """The mean and spread of data sets pooled, from each one's count, mean and spread."""
    total = sum(count for count, _, _ in parts)
    mean = sum(count * part_mean for count, part_mean, _ in parts) / total
    squares = sum(count * (spread**2 + (part_mean - mean) ** 2) for count, part_mean, spread in parts)
    return mean, math.sqrt(squares / total) or 1.0


def scaling_source(problem: Problem, features: Sequence[str]) -> str:
    """Where a run's scaling comes from, as the model card says it."""
    published = _published_scaling(problem, features) is not None
    return "published statistics" if published else "evaluation rows"


def _evaluation_table(store: BlobStore, problem: Problem) -> pa.Table:
    return pq.read_table(store.path(problem.evaluation_blob or ""))


def _features(problem: Problem, table: pa.Table) -> list[str]:
    """The numeric input columns the evaluation rows carry (besides the id and the target)."""
    wanted = [column["name"] for column in problem.input_columns] or table.column_names
    numeric = {field.name for field in table.schema if any(kind(field.type) for kind in NUMERIC)} - {
        problem.id_column,
        problem.target_column,
    }
    features = [name for name in wanted if name in numeric]
    if not features:
        raise CommonsError(
            ErrorCode.NOT_FEDERABLE,
            "the problem's evaluation rows carry no numeric input columns to evaluate a model on",
        )
    return features


def evaluation(store: BlobStore, problem: Problem, run: TrainingRun) -> Evaluation:
    """The server's side of a run: the plan, and the evaluation rows it scores each round's model on."""
    plan = _plan(store, problem, run)
    frame = _evaluation_table(store, problem).to_pandas()
    return Evaluation(
        plan=plan,
        metric=Metric(problem.metric),
        inputs=plan.inputs(frame),
        truth=plan.labels(frame[problem.target_column].tolist()),
    )


def _one_engine(nodes: Sequence[Node]) -> None:
    """A run's nodes are all simulated, or all deployed: one engine runs it."""
    if len({node.simulated for node in nodes}) > 1:
        raise CommonsError(
            ErrorCode.NOT_FEDERABLE, "choose simulated nodes or deployed nodes: one engine runs a run"
        )


def settings_of(run: TrainingRun) -> RunSettings:
    return RunSettings(
        strategy=plans.StrategyName(run.strategy),
        fraction=run.fraction,
        min_nodes=run.min_nodes,
        seed=run.seed,
    )


# --- rounds, rewards, the model ----------------------------------------------------------------------------


def begin(*, session: Session, run: TrainingRun) -> None:
    run.state = RunState.RUNNING
    session.flush()


def record_round(
    *,
    session: Session,
    run: TrainingRun,
    report: RoundReport,
    epsilon: float | None = None,
    spent: Mapping[int, float] | None = None,
) -> TrainingRound:
    """A round: rewards minted to the owners of nodes that helped, and one log entry with everything.

    `spent` is the ε each participant of a private run has spent so far; each participant's part holds
    its own, and the round's `epsilon` is the largest (without `spent`, `epsilon` is recorded as given)."""
    nodes = {node.id: node for node in session.scalars(select(Node).where(Node.id.in_(run.node_ids)))}
    rewards = _round_rewards(session, run, report, nodes)
    participants = _participants(report, rewards, spent or {})
    row = TrainingRound(
        run_id=run.id,
        number=report.number,
        model_sha256=plans.update_hash(report.weights),
        method=report.method,
        metrics=report.metrics,
        participants=participants,
        epsilon=max((part["epsilon"] for part in participants if "epsilon" in part), default=epsilon),
        dropped=report.dropped,
    )
    run.round_rows.append(row)
    _record(session, "federation:round:complete", None, run, _round_facts(row))
    session.flush()
    return row


def _participants(
    report: RoundReport, rewards: Mapping[int, int], spent: Mapping[int, float]
) -> list[dict[str, Any]]:
    """Each participant's part as the round's row and its log entry hold it: values as the log writes them
    (what the rewards were split by), and in a private run the ε the node has spent so far."""
    return [
        {
            "node": part.node_id,
            "rows": part.rows,
            "update": part.update_sha256,
            "value": as_logged(part.value),
            "reward": rewards.get(part.node_id, 0),
            "left_out": part.left_out,
            **({"epsilon": as_logged(spent[part.node_id])} if part.node_id in spent else {}),
        }
        for part in report.participants
    ]


def as_logged(value: float) -> float:
    """A measured number as the log entry writes it (six significant digits): the number every reward and
    share follows, so that anyone can recompute them from the log."""
    return float(f"{value:.6g}")


def _round_facts(row: TrainingRound) -> dict[str, Any]:
    decimal = [
        {key: f"{value:.6g}" if isinstance(value, float) else value for key, value in part.items()}
        for part in row.participants
    ]
    return {
        "run": row.run_id,
        "round": row.number,
        "model": row.model_sha256,
        "method": row.method,
        "participants": decimal,
        "metrics": {key: f"{value:.6g}" for key, value in row.metrics.items()},
        "epsilon": None if row.epsilon is None else f"{row.epsilon:.6g}",
        "dropped": row.dropped,
    }


def _round_rewards(
    session: Session, run: TrainingRun, report: RoundReport, nodes: dict[int, Node]
) -> dict[int, int]:
    """The round's reward split in proportion to positive contribution among the nodes whose update was
    kept, by largest remainders (`tokens.split`): each node within one token of its exact share."""
    amount = tokens.parameter(session, tokens.REWARD_PREFIX + ROUND_REWARD, DEFAULT_ROUND_REWARD)
    helped = _helped(report.participants)
    if amount <= 0 or not helped:
        return {}
    shares = tokens.split(amount, helped)
    for node_id, share in shares.items():
        if share > 0:
            node = nodes[node_id]
            tokens.mint(
                session,
                key=f"federation/run/{run.id}/round/{report.number}/node/{node_id}",
                target=tokens.owner_account(node.owner_member_id, node.owner_community_id),
                amount=share,
                reason=tokens.REWARD_PREFIX + ROUND_REWARD,
            )
    return shares


def _helped(participants: Sequence[plans.Participant]) -> dict[int, float]:
    """The positive values of the round's kept updates, by node: what its reward and the model's shares
    follow."""
    values = {part.node_id: as_logged(part.value) for part in participants if part.left_out is None}
    return {node_id: value for node_id, value in values.items() if value > 0}


def finish(*, session: Session, store: BlobStore, run: TrainingRun, weights: Sequence[Any]) -> TrainedModel:
    """The completed run's model, stored with its card and with the plan's scaling folded into its weights;
    its contributors' shares are their shares of the run's rewards."""
    problem = session.get(Problem, run.problem_id)
    assert problem is not None
    plan = _plan(store, problem, run)
    blob = _store_weights(store, raw_input_weights(plan, weights))
    contributors = _contributors(session, run)
    model = TrainedModel(
        slug=free_slug(
            session, TrainedModel.slug, slugify(f"{problem.slug}-run-{run.id}", fallback_prefix="model")
        ),
        run_id=run.id,
        problem_id=problem.id,
        blob_sha256=blob,
        architecture=_architecture_facts(plan),
        card=_card(session, problem, run, contributors, plan.features),
        contributors=contributors,
        license=run.license,
    )
    session.add(model)
    run.state, run.finished_at = RunState.SUCCEEDED, utcnow()
    session.flush()
    _record(session, "federation:model:register", None, run, {"model": model.slug, "blob": blob})
    return model


def fail(*, session: Session, run: TrainingRun, error: str) -> None:
    run.state, run.finished_at, run.error = RunState.FAILED, utcnow(), error[:2000]
    _record(session, "federation:run:fail", None, run, {"run": run.id, "error": error[:500]})
    session.flush()


def _store_weights(store: BlobStore, weights: Sequence[Any]) -> str:
    with store.scratch(".npz") as path:
        buffer = io.BytesIO()
        np.savez(buffer, *[np.asarray(array, dtype=np.float64) for array in weights])
        path.write_bytes(buffer.getvalue())
        blob, _ = store.adopt(path)
    return blob


def raw_input_weights(plan: Plan, weights: Sequence[Any]) -> list[Any]:
    """The weights with the plan's standardisation folded into the first layer, (x - mean) / scale, so that
    the model takes raw feature values: neither the stored weights nor the served facts hold the scaling,
    which may come from the hidden evaluation rows (decision 0050)."""
    first, bias, *rest = (np.asarray(array, dtype=np.float64) for array in weights)
    means, scales = np.asarray(plan.means), np.asarray(plan.scales)
    return [first / scales[:, None], bias - (means / scales) @ first, *rest]


def _architecture_facts(plan: Plan) -> dict[str, Any]:
    return {
        "family": plan.architecture.family.value,
        "features": list(plan.features),
        "outputs": plan.architecture.outputs,
        "hidden": plan.architecture.hidden,
        "task": plan.task.value,
        "classes": list(plan.classes),
        "inputs": "raw",  # the scaling is folded into the weights
    }


def _contributors(session: Session, run: TrainingRun) -> list[dict[str, Any]]:
    """Each owner account's share of the model: its share of the run's rewards before whole tokens (each
    round's split by its kept updates' positive values, every round weighing the same), and the tokens its
    nodes got. Shares and tokens tell one story: decision 0049."""
    owners = {
        node.id: tokens.owner_account(node.owner_member_id, node.owner_community_id)
        for node in session.scalars(select(Node).where(Node.id.in_(run.node_ids)))
    }
    rounds = [shares for row in run.round_rows if (shares := _round_shares(row.participants))]
    summed: dict[str, float] = {}
    for shares in rounds:
        for node_id, share in shares.items():
            if node_id in owners:
                summed[owners[node_id]] = summed.get(owners[node_id], 0.0) + share / len(rounds)
    earned = _earned(run, owners)
    return [
        {"account": account, "share": round(share, 6), "tokens": earned.get(account, 0)}
        for account, share in sorted(summed.items(), key=lambda item: (-item[1], item[0]))
    ]


def _round_shares(participants: Sequence[dict[str, Any]]) -> dict[int, float]:
    """Each node's share of a recorded round's reward before whole tokens: its positive value over the
    round's total, among the kept updates."""
    helped = {part["node"]: part["value"] for part in participants if part["left_out"] is None}
    positive = {node_id: float(value) for node_id, value in helped.items() if value > 0}
    total = sum(positive.values())
    return {node_id: value / total for node_id, value in positive.items()}


def _earned(run: TrainingRun, owners: Mapping[int, str]) -> dict[str, int]:
    """The tokens each owner account got from the run's rounds."""
    earned: dict[str, int] = {}
    for row in run.round_rows:
        for part in row.participants:
            if part["reward"] and part["node"] in owners:
                earned[owners[part["node"]]] = earned.get(owners[part["node"]], 0) + int(part["reward"])
    return earned


def _card(
    session: Session,
    problem: Problem,
    run: TrainingRun,
    contributors: list[dict[str, Any]],
    features: Sequence[str],
) -> dict[str, Any]:
    return {
        "problem": problem.slug,
        "metric": problem.metric,
        "data": _data_used(session, run),
        "rounds": [
            {"round": row.number, "rows_aggregated": _rows_aggregated(row), **row.metrics}
            for row in run.round_rows
        ],
        "training": {
            "family": run.family,
            "strategy": run.strategy,
            "rounds": run.rounds,
            "local_epochs": run.local_epochs,
            "learning_rate": run.learning_rate,
            "private": run.noise_multiplier > 0,
            "scaling": scaling_source(problem, features),
        },
        "contributors": contributors,
        "license": run.license,
    }


def _data_used(session: Session, run: TrainingRun) -> list[dict[str, Any]]:
    """The nodes whose updates were aggregated, each with its rows and the rounds that kept its update: a
    node left out of every round (or never heard from) gave the model no data, and is not listed."""
    kept: dict[int, list[int]] = {}
    rows: dict[int, int] = {}
    for row in run.round_rows:
        for part in row.participants:
            if part["left_out"] is None:
                kept.setdefault(part["node"], []).append(row.number)
                rows[part["node"]] = max(rows.get(part["node"], 0), int(part["rows"]))
    nodes = session.scalars(select(Node).where(Node.id.in_(sorted(kept))).order_by(Node.id))
    used = [(node, {"dataset_version": node.version_id, "rows": rows[node.id]}) for node in nodes]
    return [{"node": node.name, **facts, "rounds": kept[node.id]} for node, facts in used]


def _rows_aggregated(row: TrainingRound) -> int:
    return sum(int(part["rows"]) for part in row.participants if part["left_out"] is None)


def _record(
    session: Session, event: str, actor_id: int | None, run: TrainingRun, data: dict[str, Any]
) -> None:
    ledger.record(
        session, event, actor_id=actor_id, subject={"run": run.id, "problem": run.problem_id}, data=data
    )


# --- models ------------------------------------------------------------------------------------------------


def get_model(*, session: Session, slug: str) -> TrainedModel:
    found = session.scalar(select(TrainedModel).where(TrainedModel.slug == slug))
    if found is None:
        raise CommonsError(ErrorCode.MODEL_NOT_FOUND, f"no model {slug!r}")
    return found


def models_of(*, session: Session, problem: Problem) -> list[TrainedModel]:
    query = select(TrainedModel).where(TrainedModel.problem_id == problem.id)
    return list(session.scalars(query.order_by(TrainedModel.id.desc())))


def weights_of(store: BlobStore, model: TrainedModel) -> list[Any]:
    with np.load(store.path(model.blob_sha256)) as saved:
        return [saved[f"arr_{index}"] for index in range(len(saved.files))]


def answer(
    *,
    session: Session,
    store: BlobStore,
    payer: Member | None,
    model: TrainedModel,
    rows: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """A prediction request: the predictions, then the fee of a priced model (a refused request costs
    nothing), split among its contributors by share."""
    predicted = predict(store=store, model=model, rows=rows)
    fees = _charge(session=session, payer=payer, model=model, request_key=uuid.uuid4().hex)
    return {"predictions": predicted, "fees": fees}


def predict(*, store: BlobStore, model: TrainedModel, rows: Sequence[dict[str, Any]]) -> list[Any]:
    """The model's predictions for rows of its feature columns: a label with its class probabilities, or a
    number."""
    features = list(model.architecture["features"])
    missing = sorted({name for row in rows for name in features if not _is_number(row.get(name))})
    if missing:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"every row needs a number for {missing[:5]}")
    raw = np.asarray([[float(row[name]) for name in features] for row in rows], dtype=np.float64)
    output = _outputs(store, model, raw)
    if model.architecture["task"] == Task.REGRESSION:
        return [float(value) for value in output]
    classes = model.architecture["classes"]
    return [
        {"label": classes[int(row.argmax())], "probabilities": dict(zip(classes, row.tolist(), strict=True))}
        for row in output
    ]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and bool(np.isfinite(value))


def _outputs(store: BlobStore, model: TrainedModel, raw: Any) -> Any:
    """What the model gives for raw feature rows: class probabilities, or numbers."""
    spec = model.architecture
    inputs = raw
    if "means" in spec:  # a model registered before decision 0050 keeps its scaling beside its weights
        inputs = (raw - np.asarray(spec["means"])) / np.asarray(spec["scales"])
    architecture = Architecture(
        family=Family(spec["family"]),
        features=len(spec["features"]),
        outputs=spec["outputs"],
        hidden=spec["hidden"],
    )
    return learning.predict(architecture, weights_of(store, model), inputs)


def submit_to_leaderboard(
    *, session: Session, store: BlobStore, actor: Member, model: TrainedModel
) -> Submission:
    """The model's predictions for the problem's evaluation rows, made on the server (the labels stay
    hidden) and submitted for the run's creator, scored like any submission."""
    _require_creator(session, actor, model)
    problem = session.get(Problem, model.problem_id)
    assert problem is not None
    frame = _evaluation_table(store, problem).to_pandas()
    output = _outputs(store, model, frame[list(model.architecture["features"])].to_numpy(dtype=np.float64))
    answers = _submission_frame(problem, frame[problem.id_column], output)
    used = sorted({row["dataset_version"] for row in model.card["data"]} & set(problem.dataset_versions))
    with datasets.csv_upload(store, answers) as upload:
        return problems.submit(
            session=session,
            store=store,
            member=actor,
            problem=problem,
            upload=upload,
            datasets_used=used,
            note=f"federated model {model.slug}",
            contributions=model.contributors,
        )


def _submission_frame(problem: Problem, ids: Any, output: Any) -> Any:
    """A submission's columns for the problem's metric, from the model's output."""
    import pandas as pd

    kind = prediction_kind(Task(problem.task), Metric(problem.metric))
    if kind is Prediction.PROBABILITIES:
        return pd.concat([ids.reset_index(drop=True), pd.DataFrame(output, columns=problem.classes)], axis=1)
    if kind is Prediction.LABEL:
        values: Any = [problem.classes[int(row.argmax())] for row in output]
    else:
        values = output[:, 1] if kind is Prediction.PROBABILITY else output
    return pd.DataFrame({problem.id_column: ids.to_numpy(), PREDICTION_COLUMN: values})


def set_price(*, session: Session, actor: Member, model: TrainedModel, price: int) -> TrainedModel:
    """The tokens each prediction request costs (0: free); only the run's creator sets it."""
    _require_creator(session, actor, model)
    model.price_per_prediction = price
    _record_model(session, "federation:model:price", actor, model, {"model": model.slug, "price": price})
    session.flush()
    return model


def _charge(
    *, session: Session, payer: Member | None, model: TrainedModel, request_key: str
) -> dict[str, int]:
    """A paid prediction request's fee, split among the model's contributors by share, on the log."""
    price = model.price_per_prediction
    if price <= 0:
        return {}
    if payer is None:
        raise CommonsError(
            ErrorCode.NOT_AUTHENTICATED, f"{model.slug} costs {price} tokens a request: sign in"
        )
    fees = _split_by_share(price, model.contributors)
    for account, amount in fees.items():
        tokens.transfer(
            session,
            initiator=tokens.member_account(payer.id),
            key=f"prediction/{request_key}/{account}",  # keys are at most 100 characters
            source=tokens.member_account(payer.id),
            target=account,
            amount=amount,
            reason="federation:model:prediction",
        )
    return fees


def _split_by_share(total: int, contributors: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Whole tokens by share, by largest remainders (`tokens.split`): each contributor within one token of
    its exact share."""
    if not contributors:
        raise CommonsError(ErrorCode.NOT_FEDERABLE, "the model has no contributors to pay")
    amounts = tokens.split(total, {str(part["account"]): float(part["share"]) for part in contributors})
    return {account: amount for account, amount in amounts.items() if amount > 0}


def manages(session: Session, member: Member | None, model: TrainedModel) -> bool:
    """Whether the member started the model's run (or is an admin): they price and submit it."""
    run = session.get(TrainingRun, model.run_id)
    return (
        member is not None
        and run is not None
        and (run.created_by_id == member.id or member.role == GlobalRole.ADMIN)
    )


def _require_creator(session: Session, actor: Member, model: TrainedModel) -> None:
    if not manages(session, actor, model):
        raise CommonsError(ErrorCode.FORBIDDEN, "only the member who started the run manages its model")


def _record_model(
    session: Session, event: str, actor: Member, model: TrainedModel, data: dict[str, Any]
) -> None:
    ledger.record(
        session, event, actor_id=actor.id, subject={"model": model.id, "problem": model.problem_id}, data=data
    )
