"""A federated run through AI Commons end to end: its cost against bare Flower, and 50 nodes at once.

*Overhead.* The same FedAvg run on the same node files, twice each way, alternating: bare Flower (a
minimal ServerApp with `flwr.serverapp.strategy.FedAvg` and a ClientApp that trains with
`learning.train`, by `run_simulation` with the backend configuration `flower.simulate` uses), then the
platform's training job (`service.start_run`, then the job handler of `aicommons.app.job_handlers` run
by `Worker.run_once`) on a commons made by the real migrations in a temporary directory. *Scale.* The
platform's training job again, with 50 nodes: valuation switches to Monte Carlo Shapley above 10.
See benchmarks/README.md ("Federated learning").
"""

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from aicommons.app import job_handlers
from aicommons.core import migrate
from aicommons.core.blobs import BlobStore, sha256_of
from aicommons.core.config import Settings
from aicommons.core.db import make_engine, make_session_factory, unit_of_work, utcnow
from aicommons.core.jobs import Worker
from aicommons.datasets import service as datasets
from aicommons.datasets.models import Policy
from aicommons.datasets.schemas import ColumnRead, DatasetCreate, FederatedVersion
from aicommons.datasets.service import Upload
from aicommons.federation import learning
from aicommons.federation import nodes as federation_nodes
from aicommons.federation import service as federation
from aicommons.federation.models import RunState
from aicommons.federation.plans import NodeData, Plan
from aicommons.federation.schemas import NodeCreate, RunCreate
from aicommons.members import service as members
from aicommons.members.models import Member
from aicommons.members.schemas import SignUp
from aicommons.problems import service as problems
from aicommons.problems.models import Problem
from aicommons.problems.schemas import DatasetVersionRef, ProblemCreate
from aicommons.problems.scoring import Metric
from benchmarks.config import FED_OVERHEAD_TARGET, FederationConfig
from benchmarks.federation_quality import (
    IID,
    RUN_SEED,
    TARGET,
    Holdout,
    breast_cancer,
    digits,
    evaluation_for,
    node_files,
    plan_for,
    quiet_flower,
    split_rows,
)
from benchmarks.report import verdict

ID_COLUMN = "case"
PASSWORD = "benchmark-password-2026"
Weights = list[npt.NDArray[np.float64]]
Result = TypeVar("Result")


@dataclass(frozen=True)
class PlatformRun:
    """A finished run as the commons recorded it."""

    completed_rounds: int
    accuracy: float  # of the last round's model on the evaluation rows
    methods: tuple[str, ...]
    left_out: int
    answered: tuple[int, ...]  # the nodes whose update reached the server, each round


@dataclass(frozen=True)
class OverheadRun:
    """The wall times of the same run in bare Flower and through the platform, and their models' accuracy."""

    dataset: str
    nodes: int
    rounds: int
    bare_s: tuple[float, ...]
    platform_s: tuple[float, ...]
    bare_accuracy: float
    platform: PlatformRun  # the last of the platform's runs

    @property
    def ratio(self) -> float:
        return statistics.median(self.platform_s) / statistics.median(self.bare_s)

    @property
    def passed(self) -> bool:
        return self.ratio <= FED_OVERHEAD_TARGET


@dataclass(frozen=True)
class ScaleRun:
    """A run of many nodes through the platform: how long it took and what the commons recorded."""

    dataset: str
    nodes: int
    rounds: int
    seconds: float
    run: PlatformRun

    @property
    def passed(self) -> bool:
        """Every round completed (how many nodes answered each is printed, not judged)."""
        return self.run.completed_rounds == self.rounds


# --- bare Flower ---------------------------------------------------------------------------------


_ROWS: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]] = {}  # read once per process


def bare_flower(
    plan: Plan, nodes: Sequence[NodeData], test: tuple[npt.NDArray[Any], npt.NDArray[Any]]
) -> float:
    """The run in plain Flower: FedAvg, the same files, plan and seeds; the final model's test accuracy."""
    from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid, ServerApp
    from flwr.serverapp.strategy import FedAvg
    from flwr.simulation import run_simulation

    means, scales = np.asarray(plan.means), np.asarray(plan.scales)
    code = {label: index for index, label in enumerate(plan.classes)}
    architecture, training = plan.architecture, plan.training

    def accuracy(weights: Weights) -> float:
        return float(np.mean(learning.predict(architecture, weights, test[0]).argmax(axis=1) == test[1]))

    server, client, final = ServerApp(), ClientApp(), list[Weights]()

    @server.main()
    def main(grid: Grid, context: Context) -> None:
        strategy = FedAvg(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=2, min_available_nodes=2)
        result = strategy.start(
            grid=grid,
            initial_arrays=ArrayRecord(learning.initial_weights(architecture, seed=RUN_SEED)),
            num_rounds=plan.rounds,
            evaluate_fn=lambda _, arrays: MetricRecord({"accuracy": accuracy(arrays.to_numpy_ndarrays())}),
        )
        final.append(result.arrays.to_numpy_ndarrays())

    @client.train()
    def train(message: Message, context: Context) -> Message:
        node = nodes[int(context.node_config["partition-id"])]
        if node.path not in _ROWS:
            frame = pq.read_table(node.path).to_pandas()
            inputs = (frame[list(plan.features)].to_numpy(dtype=np.float64) - means) / scales
            _ROWS[node.path] = inputs, np.array([code[str(label)] for label in frame[plan.target]])
        inputs, labels = _ROWS[node.path]
        weights = message.content.array_records["arrays"].to_numpy_ndarrays()
        server_round = message.content.config_records["config"]["server-round"]
        assert isinstance(server_round, int)
        seed = node.node_id * 1_000_003 + server_round  # the seeds flower.train_on_node uses
        trained = learning.train(architecture, weights, inputs, labels, training=training, seed=seed)
        metrics = MetricRecord({"num-examples": len(labels)})
        return Message(
            content=RecordDict({"arrays": ArrayRecord(trained), "metrics": metrics}), reply_to=message
        )

    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")  # as flower.simulate does
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    with quiet_flower():
        run_simulation(
            server_app=server,
            client_app=client,
            num_supernodes=len(nodes),
            backend_config={
                "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                "init_args": {"include_dashboard": False, "num_cpus": max(os.cpu_count() or 1, 1)},
            },
        )
    return accuracy(final[0])


# --- through the platform -------------------------------------------------------------------------


@dataclass(frozen=True)
class Commons:
    """A fresh commons with a federated problem on it and the data owner's nodes registered."""

    settings: Settings
    factory: sessionmaker[Session]
    owner_id: int
    problem_id: int


@contextmanager
def commons(data: Holdout, nodes: Sequence[NodeData], directory: Path) -> Iterator[Commons]:
    """The real migrations on a SQLite file, then a federated dataset, a problem on it and its nodes."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'aicommons.db'}")
    migrate.upgrade(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        factory = make_session_factory(engine)
        with unit_of_work(factory) as session:
            owner, problem_id = _federated_problem(session, BlobStore(settings.blob_dir), data, nodes)
        yield Commons(settings, factory, owner, problem_id)
    finally:
        engine.dispose()


def _federated_problem(
    session: Session, store: BlobStore, data: Holdout, nodes: Sequence[NodeData]
) -> tuple[int, int]:
    form = SignUp(handle="clinic-owner", email="owner@example.org", password=PASSWORD, display_name="Owner")
    owner = members.sign_up(session=session, form=form)
    dataset = datasets.create(
        session=session,
        creator=owner,
        form=DatasetCreate(title=f"{data.name} at the nodes", license="CC-BY-4.0", policy=Policy.FEDERATED),
    )
    columns = [ColumnRead(name=name, type="float") for name in data.features]
    described = FederatedVersion(
        columns=[*columns, ColumnRead(name=TARGET, type="string")], row_count=len(data.train)
    )
    datasets.publish_federated(session=session, actor=owner, dataset=dataset, form=described)
    found = problems.create(session=session, creator=owner, form=_problem_form(data, dataset.slug))
    with store.scratch(".parquet") as path:
        data.test.assign(**{ID_COLUMN: [f"r{n}" for n in range(len(data.test))]}).to_parquet(path)
        upload = Upload(path, "parquet", sha256_of(path), path.stat().st_size)
        problems.set_evaluation(session=session, store=store, actor=owner, problem=found, upload=upload)
    problems.publish(session=session, actor=owner, problem=found)
    for node in nodes:  # each node's owner uploads its rows
        node_form = NodeCreate(name=f"node-{node.node_id}", dataset=dataset.slug)
        with store.scratch(".parquet") as path:
            shutil.copyfile(node.path, path)
            upload = Upload(path, "parquet", sha256_of(path), path.stat().st_size)
            federation_nodes.register_with_rows(
                session=session, store=store, actor=owner, form=node_form, upload=upload
            )
    return owner.id, found.id


def _problem_form(data: Holdout, dataset: str) -> ProblemCreate:
    now, version = utcnow(), DatasetVersionRef(dataset=dataset, version=1)
    return ProblemCreate(
        title=f"{data.name}, trained at the nodes",
        task=data.task,
        metric=Metric.ACCURACY,
        id_column=ID_COLUMN,
        target_column=TARGET,
        sdg_targets=["3.4"],
        input=version,
        datasets=[version],
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
    )


def platform_run(place: Commons, config: FederationConfig, *, rounds: int) -> PlatformRun:
    """Start a run as a member would, then let a job worker run the training job it queued."""
    store = BlobStore(place.settings.blob_dir)
    with unit_of_work(place.factory) as session:
        actor, problem = session.get(Member, place.owner_id), session.get(Problem, place.problem_id)
        assert actor is not None and problem is not None
        form = RunCreate(
            rounds=rounds, local_epochs=config.epochs, learning_rate=config.learning_rate, seed=RUN_SEED
        )
        run_id = federation.start_run(
            session=session, store=store, actor=actor, problem=problem, form=form
        ).id
    worker = Worker(place.factory, job_handlers(place.settings), heartbeat_seconds=5, timeout_seconds=600)
    with quiet_flower():
        while worker.run_once() is not None:
            pass
    with unit_of_work(place.factory) as session:
        run = federation.get_run(session=session, run_id=run_id)
        if run.state != RunState.SUCCEEDED:
            raise RuntimeError(f"the training run ended {run.state}: {run.error}")
        rows = sorted(run.round_rows, key=lambda row: row.number)
        left_out = sum(part["left_out"] is not None for row in rows for part in row.participants)
        methods = tuple(sorted({row.method for row in rows}))
        answered = tuple(len(row.participants) for row in rows)
        accuracy = float(rows[-1].metrics[Metric.ACCURACY.value])
        return PlatformRun(len(rows), accuracy, methods, left_out, answered)


# --- the benchmarks ------------------------------------------------------------------------------


def bench_overhead(config: FederationConfig, console: Console) -> OverheadRun:
    """Bare Flower, then the platform, `overhead_repeats` times each, on the same nodes."""
    data, repeats = breast_cancer(), config.overhead_repeats
    plan = plan_for(data, config, rounds=config.rounds)
    test = evaluation_for(data, plan)
    bare, platform = [], []
    with tempfile.TemporaryDirectory(prefix="aicommons-bench-fed-overhead-") as directory:
        nodes = node_files(data, split_rows(data, config.nodes, IID), Path(directory))
        with commons(data, nodes, Path(directory) / "commons") as place:
            for repeat in range(1, repeats + 1):
                console.print(f"{data.name}: bare Flower, then AI Commons ({repeat} of {repeats}) …")
                bare.append(_timed(lambda: bare_flower(plan, nodes, (test.inputs, test.truth))))
                platform.append(_timed(lambda: platform_run(place, config, rounds=config.rounds)))
    seconds = (tuple(one for one, _ in bare), tuple(one for one, _ in platform))
    return OverheadRun(data.name, config.nodes, config.rounds, *seconds, bare[-1][1], platform[-1][1])


def _timed(work: Callable[[], Result]) -> tuple[float, Result]:
    """The seconds `work` took, and what it returned."""
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def bench_scale(config: FederationConfig, console: Console) -> ScaleRun:
    data = digits()
    console.print(
        f"{data.name}: {config.scale_nodes} nodes x {config.scale_rounds} rounds through the platform …"
    )
    with tempfile.TemporaryDirectory(prefix="aicommons-bench-fed-scale-") as directory:
        nodes = node_files(data, split_rows(data, config.scale_nodes, IID), Path(directory))
        with commons(data, nodes, Path(directory) / "commons") as place:
            started = time.perf_counter()
            run = platform_run(place, config, rounds=config.scale_rounds)
            seconds = time.perf_counter() - started
    return ScaleRun(data.name, config.scale_nodes, config.scale_rounds, seconds, run)


def run(config: FederationConfig, console: Console) -> tuple[OverheadRun, ScaleRun]:
    console.rule("federation: a run through AI Commons against bare Flower, and a run of many nodes")
    return bench_overhead(config, console), bench_scale(config, console)


def overhead_table(row: OverheadRun) -> Table:
    table = Table(title="A federated run through AI Commons against the same run in bare Flower (wall time)")
    figures = ("bare Flower s", "AI Commons s", "ratio", "accuracy (bare / AIC)", "left out (AIC)")
    for column in ("dataset", "nodes", "rounds", *figures, "target", "result"):
        table.add_column(column, justify="left" if column in {"dataset", "target"} else "right")
    table.add_row(
        row.dataset,
        str(row.nodes),
        str(row.rounds),
        _seconds(row.bare_s),
        _seconds(row.platform_s),
        f"{row.ratio:.2f}",
        f"{100 * row.bare_accuracy:.2f}% / {100 * row.platform.accuracy:.2f}%",
        f"{row.platform.left_out} of {sum(row.platform.answered)}",
        f"<= {FED_OVERHEAD_TARGET:g}",
        verdict(row.passed),
    )
    return table


def _seconds(samples: Sequence[float]) -> str:
    """The median, and every sample when there are several."""
    each = " (" + ", ".join(f"{one:.1f}" for one in samples) + ")" if len(samples) > 1 else ""
    return f"{statistics.median(samples):.1f}{each}"


def scale_table(row: ScaleRun) -> Table:
    table = Table(title="A federated run of many simulated nodes through AI Commons")
    columns = (
        "dataset",
        "nodes",
        "rounds done",
        "nodes a round",
        "seconds",
        "accuracy",
        "valuation",
        "left out",
    )
    for column in (*columns, "target", "result"):
        table.add_column(column, justify="left" if column in {"dataset", "valuation", "target"} else "right")
    run = row.run
    table.add_row(
        row.dataset,
        str(row.nodes),
        f"{run.completed_rounds} of {row.rounds}",
        f"{min(run.answered, default=0)}-{max(run.answered, default=0)}",
        f"{row.seconds:.0f}",
        f"{100 * run.accuracy:.2f}%",
        ", ".join(method.removesuffix("_shapley").replace("_", " ") for method in run.methods),
        str(run.left_out),
        "every round completes",
        verdict(row.passed),
    )
    return table


if __name__ == "__main__":
    terminal = Console()
    console = terminal if terminal.is_terminal else Console(width=130)
    overhead_run, scale_run = run(FederationConfig.from_env(), console)
    console.print(overhead_table(overhead_run), scale_table(scale_run))
    raise SystemExit(0 if overhead_run.passed and scale_run.passed else 1)
