"""The federation's background work: a training run, on Flower's simulation engine for simulated nodes,
or on its Deployment Engine (a SuperLink the commons is configured with) for deployed ones."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from aicommons.core.blobs import BlobStore
from aicommons.core.jobs import Handler, JobContext
from aicommons.federation import nodes as federation_nodes
from aicommons.federation import plans, service
from aicommons.federation.models import Node, TrainingRun
from aicommons.federation.plans import Evaluation, NodeData, RoundReport, RunSettings, Weights
from aicommons.problems.models import Problem


@dataclass(frozen=True)
class Engines:
    """Where a commons' runs train: its blob store, and the SuperLink of deployed nodes, if any."""

    store: BlobStore
    superlink: str = ""
    certificates: Path | None = None

    def train(
        self, evaluation: Evaluation, settings: RunSettings, nodes: list[NodeData], on_round: Any
    ) -> Weights:
        """Simulated nodes on Flower's simulation engine; otherwise the SuperNodes of the SuperLink."""
        if nodes:
            from aicommons.federation import flower  # Flower takes seconds to import: only when a run starts

            return flower.simulate(evaluation, settings, nodes, on_round)
        if not self.superlink:
            raise RuntimeError("the run's nodes are deployed, and AICOMMONS_SUPERLINK is not set")
        from aicommons.federation import deployment

        certificates = self.certificates.read_bytes() if self.certificates else None
        return deployment.train(
            evaluation, settings, on_round, superlink=self.superlink, certificates=certificates
        )


def training_job(engines: Engines) -> Handler:
    """The handler of TRAIN_JOB: run the rounds, record each as it completes, register the model."""
    store = engines.store

    def run(context: JobContext) -> dict[str, Any]:
        run_id = int(context.payload["run_id"])
        with context.step() as session:
            found = service.get_run(session=session, run_id=run_id)
            problem = session.get(Problem, found.problem_id)
            assert problem is not None
            evaluation = service.evaluation(store, problem, found)
            nodes = federation_nodes.node_data(store, found, list(session.scalars(_nodes(found))))
            settings, rounds = service.settings_of(found), found.rounds
            service.begin(session=session, run=found)

        def on_round(report: RoundReport) -> None:
            spent = _spent(evaluation.plan, report)
            with context.step() as session:
                current = service.get_run(session=session, run_id=run_id)
                service.record_round(session=session, run=current, report=report, spent=spent)
            context.progress(report.number / rounds, f"round {report.number} of {rounds}")

        try:
            weights = engines.train(evaluation, settings, nodes, on_round)
        except Exception as error:
            with context.step() as session:
                service.fail(
                    session=session, run=service.get_run(session=session, run_id=run_id), error=str(error)
                )
            raise
        with context.step() as session:
            current = service.get_run(session=session, run_id=run_id)
            model = service.finish(session=session, store=store, run=current, weights=weights)
            return {"model": model.slug}

    return run


def _nodes(run: TrainingRun) -> Any:
    return select(Node).where(Node.id.in_(run.node_ids))


def _spent(plan: plans.Plan, report: RoundReport) -> dict[int, float]:
    """The ε each node of this round has spent so far, when the run is private (none otherwise). It counts
    every round up to this one: a bound, which a node that missed rounds stays below."""
    if not plan.training.noise_multiplier:
        return {}
    return {part.node_id: plans.spent_epsilon(plan, part.rows, report.number) for part in report.participants}
