"""The rules of federated learning: data owners' nodes, training runs, their rounds' rewards, the models.

A run trains a model for a problem on the nodes of the federated datasets the problem names, without a
row leaving a node. Each round is one log entry: the new model's hash, each participant's update hash,
its measured contribution and its reward (minted by the reward policy's `reward:federation:round`,
split by positive contribution), and the metrics. A completed run registers its model with a card;
the model belongs to its contributors by their summed contributions.
"""

import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from aicommons.core import jobs
from aicommons.core.blobs import BlobStore
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.slugs import free_slug, slugify
from aicommons.datasets import permissions as dataset_permissions
from aicommons.datasets import service as datasets
from aicommons.datasets.models import Dataset, DatasetVersion, Policy
from aicommons.federation import learning, plans
from aicommons.federation.learning import Architecture, Family, Training
from aicommons.federation.models import Node, RunNode, RunState, TrainedModel, TrainingRound, TrainingRun
from aicommons.federation.plans import Evaluation, NodeData, NodePolicy, Plan, RoundReport, RunSettings
from aicommons.federation.schemas import NodeCreate, RunCreate
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


# --- nodes -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuperLink:
    """The commons' SuperLink where it authenticates SuperNodes (with TLS): its address and CA certificate."""

    address: str
    certificates: Path


def register_node(
    *,
    session: Session,
    actor: Member,
    form: NodeCreate,
    node_dir: Path,
    superlink: SuperLink | None = None,
) -> Node:
    """A node for the latest version of a federated dataset, run by one of its owners (for a community's
    dataset, each steward or organizer may run one); a simulated node's file must lie in `node_dir` and
    is checked against the version's published schema. The node's rewards go to whoever runs it."""
    dataset = datasets.get(session=session, ref=form.dataset)
    if not dataset_permissions.is_owner(session, dataset, actor):
        raise CommonsError(ErrorCode.FORBIDDEN, "only the dataset's owners run its nodes")
    if dataset.policy != Policy.FEDERATED:
        raise CommonsError(ErrorCode.WRONG_POLICY, "nodes serve federated datasets only")
    version = _latest_version(session, dataset)
    again = _same_node(session, dataset, actor, form)
    if again is not None:
        return again
    rows = _checked_rows(form.data_path, node_dir, version) if form.data_path else int(form.rows or 0)
    node = Node(
        name=form.name,
        dataset_id=dataset.id,
        version_id=version.id,
        owner_member_id=actor.id,  # who runs the node: one of the dataset's owners
        owner_community_id=None,
        data_path=form.data_path,
        public_key=form.public_key,
        rows=rows,
        **form.model_dump(include={"accepted_problems", "max_rounds", "max_local_epochs"}),
        **form.model_dump(include={"require_privacy", "max_epsilon"}),
    )
    _refuse_taken_name(session, dataset, form.name)
    session.add(node)
    session.flush()
    if superlink is not None and node.public_key is not None:
        _admit(superlink, node)
    facts = {"node": node.id, "dataset": dataset.id, "version": version.id, "rows": rows}
    ledger.record(
        session, "federation:node:register", actor_id=actor.id, subject={"node": node.id}, data=facts
    )
    return node


def _admit(superlink: SuperLink, node: Node) -> None:
    """Register a deployed node's key with the SuperLink, so that its SuperNode may connect; refused, the
    node is not registered at the commons either."""
    from aicommons.federation import deployment  # Flower takes seconds to import: only when needed

    try:
        deployment.admit(
            superlink=superlink.address,
            certificates=superlink.certificates.read_bytes(),
            public_key=node.public_key or "",
            name=node.name,
        )
    except (OSError, ValueError, RuntimeError) as error:
        raise CommonsError(
            ErrorCode.SUPERLINK_REFUSED, f"the SuperLink did not admit the node: {error}"
        ) from None


def _same_node(session: Session, dataset: Dataset, actor: Member, form: NodeCreate) -> Node | None:
    """The deployed node a restarted `aicommons node start` registers again (same name, owner and key)."""
    found = session.scalar(select(Node).where(Node.dataset_id == dataset.id, Node.name == form.name))
    if found is None or form.public_key is None:
        return None
    if found.public_key != form.public_key or found.owner_member_id != actor.id:
        return None
    found.rows, found.last_seen_at = int(form.rows or found.rows), utcnow()
    return found


def _latest_version(session: Session, dataset: Dataset) -> DatasetVersion:
    version = session.scalar(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.withdrawn_at.is_(None))
        .order_by(DatasetVersion.number.desc())
        .limit(1)
    )
    if version is None:
        raise CommonsError(ErrorCode.VERSION_NOT_FOUND, f"{dataset.slug} has no published schema yet")
    return version


def _checked_rows(path: str, node_dir: Path, version: DatasetVersion) -> int:
    """The rows of a node's file, which must lie in `node_dir` and have every column of the published
    schema."""
    source = Path(path).resolve()
    if not source.is_relative_to(node_dir.resolve()):
        raise CommonsError(ErrorCode.BAD_DATA, f"a simulated node's data file must lie in {node_dir}")
    if not source.is_file():
        raise CommonsError(ErrorCode.BAD_DATA, f"the node's data file {path} does not exist")
    try:
        schema = pq.read_schema(source) if source.suffix == ".parquet" else None
        names = schema.names if schema is not None else _csv_header(source)
    except (OSError, pa.ArrowException) as error:
        raise CommonsError(ErrorCode.BAD_DATA, f"the node's data file cannot be read: {error}") from None
    missing = [column["name"] for column in version.columns if column["name"] not in names]
    if missing:
        raise CommonsError(ErrorCode.BAD_DATA, f"the node's data lacks the published columns {missing[:5]}")
    return _row_count(source)


def _csv_header(source: Path) -> list[str]:
    with source.open(encoding="utf-8") as lines:
        return lines.readline().strip().split(",")


def _row_count(source: Path) -> int:
    if source.suffix == ".parquet":
        return int(pq.read_metadata(source).num_rows)
    with source.open(encoding="utf-8") as lines:
        return max(sum(1 for _ in lines) - 1, 0)


def _refuse_taken_name(session: Session, dataset: Dataset, name: str) -> None:
    taken = session.scalar(select(Node.id).where(Node.dataset_id == dataset.id, Node.name == name))
    if taken is not None:
        raise CommonsError(ErrorCode.NODE_EXISTS, f"{dataset.slug} already has a node named {name}")


def nodes_for(session: Session, problem: Problem) -> list[Node]:
    """The nodes that can train for the problem: those of the federated datasets it names."""
    datasets_named = select(DatasetVersion.dataset_id).where(DatasetVersion.id.in_(problem.dataset_versions))
    query = select(Node).where(Node.dataset_id.in_(datasets_named)).order_by(Node.id)
    return list(session.scalars(query))


def policy(node: Node) -> NodePolicy:
    return NodePolicy(
        accepted_problems=tuple(node.accepted_problems),
        max_rounds=node.max_rounds,
        max_local_epochs=node.max_local_epochs,
        require_privacy=node.require_privacy,
        max_epsilon=node.max_epsilon,
    )


# --- runs --------------------------------------------------------------------------------------------------


def start_run(
    *, session: Session, store: BlobStore, actor: Member, problem: Problem, form: RunCreate
) -> TrainingRun:
    """A run queued as a background job, on the chosen (or every) node whose policy accepts it."""
    if problem.state == ProblemState.DRAFT or problem.evaluation_blob is None:
        raise CommonsError(ErrorCode.NOT_FEDERABLE, "a run needs a published problem with evaluation data")
    run = TrainingRun(problem_id=problem.id, created_by_id=actor.id, **_run_fields(form))
    plan = _plan(store, problem, run)
    chosen = _chosen_nodes(session, problem, form.nodes)
    accepting = [node for node in chosen if policy(node).refusal(plan, node.rows) is None]
    if len(accepting) < form.min_nodes:
        reasons = {
            node.name: policy(node).refusal(plan, node.rows) for node in chosen if node not in accepting
        }
        raise CommonsError(
            ErrorCode.NOT_ENOUGH_NODES,
            f"{len(accepting)} of the problem's nodes accept this run, {form.min_nodes} are needed",
            refusals=reasons,
        )
    _one_engine(accepting)
    run.nodes = [RunNode(node_id=node.id) for node in accepting]
    session.add(run)
    session.flush()
    run.job_id = jobs.enqueue(session, TRAIN_JOB, {"run_id": run.id}, submitted_by_id=actor.id).id
    facts = {"run": run.id, "nodes": [node.id for node in accepting], "config": _config_facts(form)}
    _record(session, "federation:run:start", actor.id, run, facts)
    session.flush()
    return run


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


def runs_of(*, session: Session, problem: Problem) -> list[TrainingRun]:
    query = select(TrainingRun).where(TrainingRun.problem_id == problem.id)
    return list(session.scalars(query.order_by(TrainingRun.id.desc())))


# --- the plan and the evaluation ---------------------------------------------------------------------------


def _plan(store: BlobStore, problem: Problem, run: TrainingRun) -> Plan:
    """What the nodes are asked: features and their scaling come from the problem's evaluation rows."""
    table = _evaluation_table(store, problem)
    features = _features(problem, table)
    frame = table.select(features).to_pandas()
    task = Task(problem.task)
    scales = frame.std(ddof=0).replace(0, 1).fillna(1)
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
        means=tuple(float(value) for value in frame.mean().fillna(0)),
        scales=tuple(float(value) for value in scales),
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
    )


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


def node_data(run: TrainingRun, nodes: Sequence[Node]) -> list[NodeData]:
    """The run's simulated nodes as the simulation engine starts them (none for a deployed run)."""
    chosen = [node for node in nodes if node.id in set(run.node_ids)]
    return [NodeData(node.id, node.data_path, policy(node)) for node in chosen if node.data_path is not None]


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
    *, session: Session, run: TrainingRun, report: RoundReport, epsilon: float | None
) -> TrainingRound:
    """A round: rewards minted to the owners of nodes that helped, and one log entry with everything."""
    nodes = {node.id: node for node in session.scalars(select(Node).where(Node.id.in_(run.node_ids)))}
    rewards = _round_rewards(session, run, report, nodes)
    participants = [
        {
            "node": part.node_id,
            "rows": part.rows,
            "update": part.update_sha256,
            "value": round(part.value, 6),
            "reward": rewards.get(part.node_id, 0),
            "left_out": part.left_out,
        }
        for part in report.participants
    ]
    row = TrainingRound(
        run_id=run.id,
        number=report.number,
        model_sha256=plans.update_hash(report.weights),
        method=report.method,
        metrics=report.metrics,
        participants=participants,
        epsilon=epsilon,
        dropped=report.dropped,
    )
    run.round_rows.append(row)
    _record(session, "federation:round:complete", None, run, _round_facts(row))
    session.flush()
    return row


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
    """The round's reward split by positive contribution among the nodes whose update was kept."""
    amount = tokens.parameter(session, tokens.REWARD_PREFIX + ROUND_REWARD, DEFAULT_ROUND_REWARD)
    helped = {
        part.node_id: part.value for part in report.participants if part.left_out is None and part.value > 0
    }
    if amount <= 0 or not helped:
        return {}
    total = sum(helped.values())
    shares = {node_id: int(amount * value / total) for node_id, value in helped.items()}
    first = max(helped, key=lambda node_id: helped[node_id])
    shares[first] += amount - sum(shares.values())
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


def finish(*, session: Session, store: BlobStore, run: TrainingRun, weights: Sequence[Any]) -> TrainedModel:
    """The completed run's model, stored with its card; its contributors' shares are their summed values."""
    problem = session.get(Problem, run.problem_id)
    assert problem is not None
    plan = _plan(store, problem, run)
    blob = _store_weights(store, weights)
    contributors = _contributors(session, run)
    model = TrainedModel(
        slug=free_slug(
            session, TrainedModel.slug, slugify(f"{problem.slug}-run-{run.id}", fallback_prefix="model")
        ),
        run_id=run.id,
        problem_id=problem.id,
        blob_sha256=blob,
        architecture=_architecture_facts(plan),
        card=_card(session, problem, run, contributors),
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


def _architecture_facts(plan: Plan) -> dict[str, Any]:
    return {
        "family": plan.architecture.family.value,
        "features": list(plan.features),
        "outputs": plan.architecture.outputs,
        "hidden": plan.architecture.hidden,
        "task": plan.task.value,
        "classes": list(plan.classes),
        "means": list(plan.means),
        "scales": list(plan.scales),
    }


def _contributors(session: Session, run: TrainingRun) -> list[dict[str, Any]]:
    """Each owner account's share of the model: its nodes' positive values summed over the rounds."""
    nodes = {node.id: node for node in session.scalars(select(Node).where(Node.id.in_(run.node_ids)))}
    summed: dict[str, float] = {}
    for row in run.round_rows:
        for part in row.participants:
            node = nodes.get(part["node"])
            if node is not None and part["left_out"] is None and part["value"] > 0:
                account = tokens.owner_account(node.owner_member_id, node.owner_community_id)
                summed[account] = summed.get(account, 0.0) + float(part["value"])
    total = sum(summed.values())
    return (
        [
            {"account": account, "share": round(value / total, 6)}
            for account, value in sorted(summed.items(), key=lambda item: -item[1])
        ]
        if total > 0
        else []
    )


def _card(
    session: Session, problem: Problem, run: TrainingRun, contributors: list[dict[str, Any]]
) -> dict[str, Any]:
    nodes = session.scalars(select(Node).where(Node.id.in_(run.node_ids)))
    return {
        "problem": problem.slug,
        "metric": problem.metric,
        "data": [
            {"node": node.name, "dataset_version": node.version_id, "rows": node.rows} for node in nodes
        ],
        "rounds": [{"round": row.number, **row.metrics} for row in run.round_rows],
        "training": {
            "family": run.family,
            "strategy": run.strategy,
            "rounds": run.rounds,
            "local_epochs": run.local_epochs,
            "learning_rate": run.learning_rate,
            "private": run.noise_multiplier > 0,
        },
        "contributors": contributors,
        "license": run.license,
    }


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
    """Whole tokens by share; the remainder to the largest contributor."""
    if not contributors:
        raise CommonsError(ErrorCode.NOT_FEDERABLE, "the model has no contributors to pay")
    amounts = {part["account"]: int(total * part["share"]) for part in contributors}
    amounts[contributors[0]["account"]] += total - sum(amounts.values())
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


def nodes_of(*, session: Session, member: Member) -> list[Node]:
    """The nodes a member runs."""
    return list(session.scalars(select(Node).where(Node.owner_member_id == member.id).order_by(Node.id)))


def rounds_of(*, session: Session, nodes: Sequence[Node], limit: int = 100) -> list[dict[str, Any]]:
    """The latest rounds these nodes took part in, each with the node's part (value, reward, and why its
    update was left out): how a node's owner sees that their update was counted, or flagged."""
    names = {node.id: node.name for node in nodes}
    joined = select(TrainingRound).join(RunNode, RunNode.run_id == TrainingRound.run_id)
    query = joined.where(RunNode.node_id.in_(list(names))).order_by(TrainingRound.created_at.desc())
    found = []
    for row in session.scalars(query.limit(limit)).unique():
        for part in row.participants:
            if part["node"] in names:
                found.append({"run": row.run_id, "round": row.number, "node": names[part["node"]], **part})
    return found
