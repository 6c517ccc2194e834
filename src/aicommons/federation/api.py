"""JSON routes of federated learning: nodes, training runs, and the models they make."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from aicommons.core import jobs
from aicommons.core.web import AppSettings, DbSession
from aicommons.datasets import uploads
from aicommons.federation import nodes as federation_nodes
from aicommons.federation import service
from aicommons.federation.models import TrainedModel, TrainingRun
from aicommons.federation.schemas import (
    ModelPrice,
    ModelRead,
    NodeCreate,
    NodeRead,
    PredictionRequest,
    RunCreate,
    RunRead,
)
from aicommons.members.auth import CurrentMember, OptionalMember
from aicommons.problems.api import ProblemByRef, Store
from aicommons.problems.schemas import SubmissionRead

router = APIRouter(prefix="/api/v1", tags=["federation"])


def run_by_id(run_id: int, session: DbSession) -> TrainingRun:
    return service.get_run(session=session, run_id=run_id)


def model_by_slug(slug: str, session: DbSession) -> TrainedModel:
    return service.get_model(session=session, slug=slug)


RunById = Annotated[TrainingRun, Depends(run_by_id)]
ModelBySlug = Annotated[TrainedModel, Depends(model_by_slug)]


@router.get("/federation")
def federation(settings: AppSettings) -> dict[str, str | None]:
    """Where deployed nodes connect: the commons' Flower SuperLink (host:port), or null without one."""
    return {"superlink": settings.superlink or None}


@router.post("/nodes", status_code=status.HTTP_201_CREATED)
def register_node(
    form: NodeCreate, actor: CurrentMember, session: DbSession, settings: AppSettings
) -> NodeRead:
    """A node for a federated dataset you own, with the policy it trains under; with a SuperLink that
    authenticates SuperNodes, the node's key is admitted there too."""
    certificates = settings.superlink_certificates
    superlink = (
        federation_nodes.SuperLink(settings.superlink, certificates)
        if settings.superlink and certificates
        else None
    )
    node = federation_nodes.register_node(session=session, actor=actor, form=form, superlink=superlink)
    return NodeRead.model_validate(node)


@router.put("/nodes/{node_id}/rows")
async def upload_rows(  # noqa: PLR0917 (FastAPI passes what the route declares)
    node_id: int,
    request: Request,
    actor: CurrentMember,
    session: DbSession,
    store: Store,
    settings: AppSettings,
    file_format: Annotated[str | None, Query(alias="format", pattern="^(csv|parquet)$")] = None,
) -> NodeRead:
    """A simulated node's rows, as a CSV or Parquet body (`text/csv` or `application/vnd.apache.parquet`),
    streamed to disk and checked against the dataset's published schema; uploading again replaces them.
    Rows that already back another node are refused (`node_rows_taken`)."""
    chosen = uploads.format_of(request.headers.get("content-type", ""), file_format)
    node = await run_in_threadpool(federation_nodes.get_node, session=session, node_id=node_id)
    with store.scratch() as path:
        upload = await uploads.receive(request, path, chosen, limit=settings.max_upload_bytes)
        stored = await run_in_threadpool(
            federation_nodes.store_rows, session=session, store=store, actor=actor, node=node, upload=upload
        )
    return NodeRead.model_validate(stored)


@router.get("/problems/{ref}/nodes")
def problem_nodes(problem: ProblemByRef, session: DbSession) -> list[NodeRead]:
    """The nodes that can train for a problem: those of the federated datasets it names."""
    return [NodeRead.model_validate(node) for node in federation_nodes.nodes_for(session, problem)]


@router.post("/problems/{ref}/runs", status_code=status.HTTP_202_ACCEPTED)
def start_run(
    problem: ProblemByRef, form: RunCreate, actor: CurrentMember, session: DbSession, store: Store
) -> RunRead:
    """A federated training run, queued as a job; follow it at /api/v1/runs/{id}. `declined` says why each
    node left out of it declined."""
    run = service.start_run(session=session, store=store, actor=actor, problem=problem, form=form)
    return _run_read(session, run)


@router.get("/problems/{ref}/runs")
def problem_runs(problem: ProblemByRef, session: DbSession) -> list[RunRead]:
    return [_run_read(session, run) for run in service.runs_of(session=session, problem=problem)]


@router.get("/runs/{run_id}")
def show_run(run: RunById, session: DbSession) -> dict[str, Any]:
    """A run with its completed rounds and its job's progress."""
    job = jobs.get(session, run.job_id) if run.job_id else None
    progress = {"progress": job.progress, "message": job.message} if job else {}
    return _run_read(session, run).model_dump(mode="json", by_alias=True) | progress


def _run_read(session: DbSession, run: TrainingRun) -> RunRead:
    return RunRead.model_validate(run).model_copy(update={"declined": service.declined(session, run)})


@router.get("/problems/{ref}/models")
def problem_models(problem: ProblemByRef, session: DbSession) -> list[ModelRead]:
    return [ModelRead.model_validate(model) for model in service.models_of(session=session, problem=problem)]


@router.get("/models/{slug}")
def show_model(model: ModelBySlug) -> ModelRead:
    """A model with its card: problem, data used, metrics per round, contributors and their shares."""
    return ModelRead.model_validate(model)


@router.get("/models/{slug}/weights")
def model_weights(model: ModelBySlug, store: Store) -> FileResponse:
    """The model's weights as a NumPy .npz file (arrays arr_0, arr_1, … in the architecture's order)."""
    return FileResponse(
        store.path(model.blob_sha256), media_type="application/octet-stream", filename=f"{model.slug}.npz"
    )


@router.post("/models/{slug}/predictions")
def predictions(
    model: ModelBySlug, request: PredictionRequest, store: Store, session: DbSession, payer: OptionalMember
) -> dict[str, Any]:
    """Predictions for rows of the model's feature columns; a priced model's fee is split among its
    contributors by share."""
    return service.answer(session=session, store=store, payer=payer, model=model, rows=request.rows)


@router.put("/models/{slug}/price")
def set_price(model: ModelBySlug, form: ModelPrice, actor: CurrentMember, session: DbSession) -> ModelRead:
    """The tokens each prediction request costs (0: free); set by the member who started the run."""
    return ModelRead.model_validate(
        service.set_price(session=session, actor=actor, model=model, price=form.price)
    )


@router.post("/models/{slug}/submission", status_code=status.HTTP_201_CREATED)
def submit_model(
    model: ModelBySlug, actor: CurrentMember, session: DbSession, store: Store
) -> SubmissionRead:
    """Submit the model's predictions for the problem's evaluation rows to its leaderboard."""
    found = service.submit_to_leaderboard(session=session, store=store, actor=actor, model=model)
    return SubmissionRead.model_validate(found)
