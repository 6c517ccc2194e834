"""Flower: the ServerApp the commons runs and the ClientApp each data owner's node runs, on the Message API.

The server sends each round's global weights with the run's plan (`plans.Plan`, as a ConfigRecord);
a node checks the plan against its owner's policy, trains on its own rows, and answers with its
weights and its row count only. The run's Flower strategy chooses each round's nodes; `Valued` wraps it,
screens and values the updates (`plans.judge`), leaves the unsound or harmful ones out and makes the
round's model with the run's aggregation rule (FedAvg, FedProx, FedMedian, trimmed mean or Krum:
`plans.aggregation`), the same rule the values were measured with; after each round `on_round` receives
a `RoundReport`.

`simulate` runs both apps on Flower's simulation engine (Ray), the nodes' rows given as local files.
This is the only module that imports flwr: importing it takes seconds, so the app imports it only
when a run starts.
"""

import json
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg, FedMedian, FedProx, FedTrimmedAvg, Krum, Strategy

from aicommons.federation import learning
from aicommons.federation.plans import (
    Evaluation,
    Judgement,
    NodeData,
    Participant,
    Plan,
    RoundReport,
    RunSettings,
    StrategyName,
    Weights,
    aggregation,
    judge,
    local_rows,
    node_from_config,
    number,
    update_hash,
)

log = logging.getLogger(__name__)


NODE_KEY = "node"  # the ConfigRecord of a reply that names the node


def client_app(nodes: Sequence[NodeData], *, outbox: str | None = None) -> ClientApp:
    """The ClientApp of the simulation engine: virtual node `partition-id` is `nodes[partition-id]`.

    With `outbox` (a directory), every message a node sends is also described there, one JSON file
    each, for an auditor (or a test) to inspect what left the node."""
    app = ClientApp()

    @app.train()
    def train(message: Message, context: Context) -> Message:
        node = nodes[int(context.node_config["partition-id"])]
        reply = train_on_node(message, node)
        if outbox is not None:
            _describe(reply, node, Path(outbox))
        return reply

    return app


# The ClientApp of the Deployment Engine: a SuperNode started by `aicommons node start` loads it (the run's
# Flower App names "aicommons.federation.flower:deployed_client"); its node config says who it is, where
# its rows are and what its owner allows.
deployed_client = ClientApp()


@deployed_client.train()
def _train_deployed(message: Message, context: Context) -> Message:
    return train_on_node(message, node_from_config(context.node_config))


# Every Flower App names a ServerApp; the commons runs the server's side itself (`deployment.train`).
deployed_server = ServerApp()


@deployed_server.main()
def _not_here(grid: Grid, context: Context) -> None:
    raise RuntimeError("the commons runs its runs' server side itself: start runs from the commons")


def _describe(reply: Message, node: NodeData, outbox: Path) -> None:
    """Every record of a reply, with every value it carries (arrays as their shapes and values)."""
    records: dict[str, Any] = {}
    for name, record in reply.content.items():
        if isinstance(record, ArrayRecord):
            records[name] = {"arrays": [array.tolist() for array in record.to_numpy_ndarrays()]}
        else:
            records[name] = {"values": dict(record)}
    outbox.mkdir(parents=True, exist_ok=True)
    written = outbox / f"node-{node.node_id}-{uuid.uuid4().hex}.json"
    written.write_text(json.dumps({"node": node.node_id, "records": records}))


def train_on_node(message: Message, node: NodeData) -> Message:
    """One round at one node: check the plan against the policy, train on the local rows, reply."""
    config = message.content.config_records["config"]
    plan = Plan.from_config(config)
    frame = local_rows(node.path)
    refused = node.policy.refusal(plan, len(frame))
    if refused is not None:
        log.warning("node %s refuses the round: %s", node.node_id, refused)
        raise PermissionError(refused)
    weights = message.content.array_records["arrays"].to_numpy_ndarrays()
    round_number = int(number(config, "server-round"))
    trained = learning.train(
        plan.architecture,
        weights,
        plan.inputs(frame),
        plan.labels(frame[plan.target].tolist()),
        training=plan.training,
        seed=plan.training_seed(node.node_id, round_number),
    )
    content = RecordDict(
        {
            "arrays": ArrayRecord(trained),
            "metrics": MetricRecord({"num-examples": len(frame)}),
            NODE_KEY: ConfigRecord({"node": node.node_id}),
        }
    )
    return Message(content=content, reply_to=message)


def _node_of(reply: Message) -> int:
    """The commons' id of the node that sent a reply."""
    return int(number(reply.content.config_records[NODE_KEY], "node"))


def _participants(
    nodes: list[int], updates: list[Weights], rows: list[int], verdict: Judgement
) -> tuple[Participant, ...]:
    return tuple(
        Participant(node, rows[i], update_hash(updates[i]), verdict.values.get(i, 0.0), verdict.left_out[i])
        for i, node in enumerate(nodes)
    )


def _strategy(
    name: StrategyName, *, fraction: float, min_nodes: int, expected_nodes: int, proximal_mu: float
) -> Strategy:
    common: dict[str, Any] = {
        "fraction_train": fraction,
        "fraction_evaluate": 0.0,  # the server evaluates on the problem's rows; nodes keep theirs
        # every expected node in every round it is sampled for: Flower sizes a round's sample from the nodes
        # registered when the round starts, which in a simulation may be before all of them registered
        "min_train_nodes": max(min_nodes, int(expected_nodes * fraction)),
        "min_available_nodes": max(min_nodes, expected_nodes),
    }
    if name is StrategyName.FEDPROX:
        return FedProx(**common, proximal_mu=proximal_mu)
    if name is StrategyName.FEDMEDIAN:
        return FedMedian(**common)
    if name is StrategyName.TRIMMED_MEAN:
        return FedTrimmedAvg(**common)
    if name is StrategyName.KRUM:
        return Krum(**common)
    return FedAvg(**common)


class Valued(Strategy):
    """A Flower strategy that screens and values each round's updates, then makes the round's model with the
    run's own aggregation rule (`plans.aggregation`), the rule the values were measured with.

    The inner Flower strategy chooses the nodes of each round. Replies are taken in the order of the
    nodes' ids, never of their arrival, so that a run repeated with the same seed repeats every figure."""

    def __init__(
        self,
        inner: Strategy,
        evaluation: Evaluation,
        *,
        settings: RunSettings,
        on_round: Callable[[RoundReport], None],
    ) -> None:
        self.inner, self.evaluation, self.on_round = inner, evaluation, on_round
        self.seed, self.aggregate = settings.seed, aggregation(settings.strategy)
        self.start_weights: Weights = []
        self.pending: tuple[tuple[Participant, ...], str, int] = ((), "", 0)
        self.sent = 0

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> list[Message]:
        self.start_weights = arrays.to_numpy_ndarrays()
        messages = list(self.inner.configure_train(server_round, arrays, config, grid))
        self.sent = len(messages)
        return messages

    def aggregate_train(
        self, server_round: int, replies: Any
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        replies = list(replies)
        for failed in (reply for reply in replies if reply.has_error()):
            log.warning("a node dropped out of round %s: %s", server_round, failed.error.reason)
        answered = sorted((reply for reply in replies if not reply.has_error()), key=_node_of)
        updates = [reply.content.array_records["arrays"].to_numpy_ndarrays() for reply in answered]
        rows = [int(number(reply.content.metric_records["metrics"], "num-examples")) for reply in answered]
        seed = self.seed + server_round
        verdict = judge(
            self.evaluation, self.start_weights, updates, rows, aggregate=self.aggregate, seed=seed
        )
        participants = _participants([_node_of(reply) for reply in answered], updates, rows, verdict)
        self.pending = (participants, verdict.method, self.sent - len(answered))
        kept = [index for index, reason in enumerate(verdict.left_out) if reason is None]
        if not kept:
            return None, None
        model = self.aggregate([updates[i] for i in kept], [rows[i] for i in kept])
        return ArrayRecord(model), MetricRecord({"num-examples": sum(rows[i] for i in kept)})

    def evaluate(self, server_round: int, arrays: ArrayRecord) -> MetricRecord:
        """The server's evaluation after each round; it also hands the round's report to `on_round`."""
        weights = arrays.to_numpy_ndarrays()
        metrics: dict[str, Any] = {self.evaluation.metric.value: float(self.evaluation.score(weights))}
        if server_round > 0:
            participants, method, dropped = self.pending
            self.on_round(RoundReport(server_round, weights, participants, method, metrics, dropped))
        return MetricRecord(metrics)

    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> list[Message]:
        return []

    def aggregate_evaluate(self, server_round: int, replies: Any) -> MetricRecord | None:
        return None

    def summary(self) -> None:
        self.inner.summary()


def train_on_grid(
    grid: Grid, evaluation: Evaluation, settings: RunSettings, on_round: Callable[[RoundReport], None]
) -> Weights:
    """The server's side of a run on any Flower grid: the run's strategy, valued, from initial weights;
    the final model's weights."""
    plan = evaluation.plan
    inner = _strategy(
        settings.strategy,
        fraction=settings.fraction,
        min_nodes=settings.min_nodes,
        expected_nodes=settings.expected_nodes,
        proximal_mu=plan.training.proximal_mu,
    )
    strategy = Valued(inner, evaluation, settings=settings, on_round=on_round)
    result = strategy.start(
        grid=grid,
        initial_arrays=ArrayRecord(learning.initial_weights(plan.architecture, seed=settings.seed)),
        num_rounds=plan.rounds,
        timeout=settings.round_timeout_s,
        train_config=ConfigRecord(plan.config()),
        evaluate_fn=strategy.evaluate,
    )
    return result.arrays.to_numpy_ndarrays()


def server_app(
    evaluation: Evaluation,
    settings: RunSettings,
    on_round: Callable[[RoundReport], None],
    final: Weights,
) -> ServerApp:
    """The simulation engine's ServerApp; `final` receives the model."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        final[:] = train_on_grid(grid, evaluation, settings, on_round)

    return app


def quiet() -> None:
    """Flower without telemetry, update checks or round-by-round console logs (the run's page has them)."""
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    os.environ.setdefault("FLWR_DISABLE_UPDATE_CHECK", "1")
    logging.getLogger("flwr").setLevel(logging.WARNING)


def simulate(
    evaluation: Evaluation,
    settings: RunSettings,
    nodes: Sequence[NodeData],
    on_round: Callable[[RoundReport], None],
    *,
    outbox: str | None = None,
) -> Weights:
    """Run the rounds on Flower's simulation engine; the final global model's weights."""
    from flwr.simulation import run_simulation

    quiet()
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")  # nodes here use no accelerator
    final: Weights = []
    every_node = replace(settings, expected_nodes=len(nodes))  # else round 1 starts before all registered
    run_simulation(
        server_app=server_app(evaluation, every_node, on_round, final),
        client_app=client_app(nodes, outbox=outbox),
        num_supernodes=len(nodes),
        backend_config={
            "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
            "init_args": {"include_dashboard": False, "num_cpus": max(os.cpu_count() or 1, 1)},
        },
    )
    if not final:
        raise RuntimeError("the run ended without a model: too few nodes answered")
    return final
