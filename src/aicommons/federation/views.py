"""HTML pages of federated learning: a problem's nodes, runs and models with the form to start a run, a
run's live progress and rounds, and a model's card."""

import json
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from aicommons.communities.models import Community, Visibility
from aicommons.core import jobs
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest, Paging
from aicommons.core.web import (
    AppSettings,
    DbSession,
    FormData,
    PageRenderer,
    Pages,
    parse_form,
    require_csrf,
    wants_fragment,
)
from aicommons.datasets import uploads
from aicommons.datasets.licenses import SPDX_LICENSES
from aicommons.datasets.models import Dataset, DatasetVersion
from aicommons.federation import nodes as federation_nodes
from aicommons.federation import service
from aicommons.federation.api import ModelBySlug, RunById
from aicommons.federation.learning import Family
from aicommons.federation.models import Node, RunState, TrainedModel, TrainingRun
from aicommons.federation.plans import StrategyName
from aicommons.federation.schemas import ModelPrice, NodeCreate, RoundRead, RunCreate
from aicommons.ledger import tokens
from aicommons.members.auth import OptionalMember, PageMember
from aicommons.members.models import Member
from aicommons.problems import service as problems
from aicommons.problems.api import ProblemByRef, Store
from aicommons.problems.models import Problem
from aicommons.problems.scoring import Metric
from aicommons.web.charts import Bar, Chart, Label
from aicommons.web.navigation import refusal, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])
ROW_FORMATS = {".csv": "csv", ".parquet": "parquet"}
NODE_DEFAULTS = {"max_rounds": 50, "max_local_epochs": 10}  # NodeCreate's, shown in the empty form

FAMILY_LABELS = {
    Family.LOGISTIC: "Logistic regression (classification)",
    Family.LINEAR: "Linear regression",
    Family.MLP: "Neural network with one hidden layer",
}
STRATEGY_LABELS = {
    StrategyName.FEDAVG: "FedAvg: the row-weighted average",
    StrategyName.FEDPROX: "FedProx: FedAvg with a pull towards the global model",
    StrategyName.FEDMEDIAN: "FedMedian: the coordinate-wise median",
    StrategyName.TRIMMED_MEAN: "Trimmed mean: the extremes left out",
    StrategyName.KRUM: "Krum: the update closest to the others",
}
# What the form shows before anything was posted: the API's defaults, privacy off.
FORM_DEFAULTS = {
    name: str(getattr(RunCreate(), name))
    for name in (
        "family",
        "strategy",
        "rounds",
        "local_epochs",
        "learning_rate",
        "fraction",
        "min_nodes",
        "license",
    )
}
LIVE_STATES = frozenset({RunState.QUEUED, RunState.RUNNING})
LIVE_TARGET = "run-live"  # the element of the run page that polls itself while the run is live


def _labels() -> dict[str, Any]:
    return {"family_labels": FAMILY_LABELS, "strategy_labels": STRATEGY_LABELS}


# --- a problem's federated training ------------------------------------------------------------------------


@router.get("/problems/{ref}/federated")
def federated(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    problem: ProblemByRef,
    paging: Paging,
) -> Response:
    """The nodes that serve the problem, its runs and models, and the form to start a run."""
    return pages.render(request, "federation/problem.html", _federated(session, viewer, problem, paging))


@router.post("/problems/{ref}/federated/runs")
def start_run(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    store: Store,
    viewer: PageMember,
    problem: ProblemByRef,
) -> Response:
    """A run from the form, queued as a job; refused, the page again with why and the values typed."""
    try:
        form = parse_form(RunCreate, data)
        run = service.start_run(session=session, store=store, actor=viewer, problem=problem, form=form)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        refusals = error.extra.get("refusals", {}) if isinstance(error, CommonsError) else {}
        context = _federated(
            session, viewer, problem, PageRequest(), errors=errors, refusals=refusals, values=data
        )
        return pages.render(request, "federation/problem.html", context, status_code=status)
    return see_other(f"/runs/{run.id}")


def _federated(
    session: Session, viewer: Member | None, problem: Problem, paging: PageRequest, **context: Any
) -> dict[str, Any]:
    nodes = federation_nodes.nodes_for(session, problem)
    metric = Metric(problem.metric)
    runs = service.runs_of(session=session, problem=problem)
    return {
        "viewer": viewer,
        "problem": problem,
        "nodes": nodes,
        "versions": _versions(session, [node.version_id for node in nodes]),
        "runs": _page([RunSummary(run, best_score(run, metric)) for run in runs], paging),
        "models": service.models_of(session=session, problem=problem),
        "node_options": [(node.id, node.name) for node in nodes],
        "license_options": [(name, name) for name in SPDX_LICENSES],
        **_labels(),
        **({"errors": {}, "refusals": {}, "values": FORM_DEFAULTS} | context),
    }


@dataclass(frozen=True)
class RunSummary:
    """A run as the problem's list shows it, with the best score its rounds reached."""

    run: TrainingRun
    best: float | None


def best_score(run: TrainingRun, metric: Metric) -> float | None:
    scores = [value for _, value in run_scores(run, metric)]
    if not scores:
        return None
    return max(scores) if metric.higher_is_better else min(scores)


def _page(items: Sequence[RunSummary], paging: PageRequest) -> Page[RunSummary]:
    shown = list(items[paging.offset : paging.offset + paging.size])
    return Page(items=shown, total=len(items), page=paging.page, size=paging.size)


@dataclass(frozen=True)
class VersionLink:
    """A dataset version as the pages link it."""

    slug: str
    title: str
    number: int


def _versions(session: Session, version_ids: Sequence[int]) -> dict[int, VersionLink]:
    query = (
        select(DatasetVersion.id, Dataset.slug, Dataset.title, DatasetVersion.number)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(DatasetVersion.id.in_(sorted(set(version_ids))))
    )
    return {row[0]: VersionLink(*row[1:]) for row in session.execute(query)}


# --- a run -------------------------------------------------------------------------------------------------


@router.get("/runs/{run_id}")
def show_run(request: Request, pages: PageRenderer, session: DbSession, run: RunById) -> Response:
    """A run's configuration, live progress and rounds; an HTMX poll gets only the live part."""
    template = "federation/_live.html" if wants_fragment(request, LIVE_TARGET) else "federation/run.html"
    response = pages.render(request, template, _run_page(session, run))
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def _run_page(session: Session, run: TrainingRun) -> dict[str, Any]:
    problem = problems.get(session=session, ref=str(run.problem_id), viewer=None)
    metric = Metric(problem.metric)
    scores = run_scores(run, metric)
    return {
        "run": run,
        "problem": problem,
        "job": jobs.get(session, run.job_id) if run.job_id else None,
        "live": run.state in LIVE_STATES,
        "live_target": LIVE_TARGET,
        "node_names": _node_names(session, run.node_ids),
        "declined": service.declined(session, run),
        "spenders": {row.number: RoundRead.model_validate(row).epsilon_node for row in run.round_rows},
        "chart": metric_chart(scores, metric),
        "model": session.scalar(select(TrainedModel).where(TrainedModel.run_id == run.id)),
        **_labels(),
    }


def _node_names(session: Session, node_ids: Sequence[int]) -> dict[int, str]:
    query = select(Node.id, Node.name).where(Node.id.in_(node_ids))
    return {node_id: name for node_id, name in session.execute(query)}


# --- a model -----------------------------------------------------------------------------------------------


@router.get("/nodes/mine")
def my_nodes(request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember) -> Response:
    """The nodes a member runs, their part in recent rounds (counted, rewarded, or flagged), and the form
    that adds a simulated node with its rows."""
    return pages.render(request, "federation/nodes.html", _nodes_page(session, viewer))


@router.post("/nodes/mine")
def add_node(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    store: Store,
    settings: AppSettings,
    viewer: PageMember,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """A simulated node of one of the member's federated datasets, with its rows uploaded from the form."""
    try:
        form = parse_form(NodeCreate, data)
        with store.scratch() as path:
            upload = uploads.from_form(file, path, limit=settings.max_upload_bytes, formats=ROW_FORMATS)
            federation_nodes.register_with_rows(
                session=session, store=store, actor=viewer, form=form, upload=upload
            )
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(
            session, error, {ErrorCode.NODE_ROWS_TAKEN: "file", ErrorCode.BAD_DATA: "file"}
        )
        page = _nodes_page(session, viewer, errors=errors, values=data)
        return pages.render(request, "federation/nodes.html", page, status_code=status)
    return see_other("/nodes/mine#nodes-heading")


def _nodes_page(session: Session, viewer: Member, **form: Any) -> dict[str, Any]:
    nodes = federation_nodes.nodes_of(session=session, member=viewer)
    datasets = federation_nodes.node_datasets(session=session, member=viewer)
    return {
        "viewer": viewer,
        "nodes": nodes,
        "rounds": federation_nodes.rounds_of(session=session, nodes=nodes),
        "dataset_options": [(dataset.slug, dataset.title) for dataset in datasets],
        "errors": form.get("errors", {}),
        "values": form.get("values") or NODE_DEFAULTS,
    }


@router.get("/models/{slug}")
def show_model(
    request: Request, pages: PageRenderer, session: DbSession, viewer: OptionalMember, model: ModelBySlug
) -> Response:
    """The model's card: problem, metric per round, data used, contributors, license and how to use it."""
    return pages.render(request, "federation/model.html", _model_page(request, session, model, viewer))


@router.post("/models/{slug}/price")
def price_model(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    model: ModelBySlug,
) -> Response:
    """The run's creator sets what each prediction request costs."""

    def act() -> str:
        form = parse_form(ModelPrice, data)
        service.set_price(session=session, actor=viewer, model=model, price=form.price)
        return f"/models/{model.slug}#manage"

    return _act_on_model(request, pages, session=session, viewer=viewer, model=model, act=act)


@router.post("/models/{slug}/submission")
def submit_model(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    store: Store,
    viewer: PageMember,
    model: ModelBySlug,
) -> Response:
    """The run's creator submits the model's predictions to its problem's leaderboard."""

    def act() -> str:
        service.submit_to_leaderboard(session=session, store=store, actor=viewer, model=model)
        return f"/problems/{model.problem_id}/submissions"

    return _act_on_model(request, pages, session=session, viewer=viewer, model=model, act=act)


def _act_on_model(
    request: Request,
    pages: Pages,
    *,
    session: Session,
    viewer: Member,
    model: TrainedModel,
    act: Callable[[], str],
) -> Response:
    """Do `act` and go where it says, or show the model's page again with why it was refused."""
    try:
        return see_other(act())
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        page = _model_page(request, session, model, viewer) | {"manage_errors": errors}
        return pages.render(request, "federation/model.html", page, status_code=status)


def _model_page(
    request: Request, session: Session, model: TrainedModel, viewer: Member | None
) -> dict[str, Any]:
    problem = problems.get(session=session, ref=str(model.problem_id), viewer=None)
    metric = Metric(problem.metric)
    scores = _scores([(int(row["round"]), row) for row in model.card.get("rounds", [])], metric)
    data = model.card.get("data", [])
    return {
        "model": model,
        "problem": problem,
        "scores": scores,
        "chart": metric_chart(scores, metric),
        "data": data,
        "rows_aggregated": {
            int(row["round"]): row["rows_aggregated"]
            for row in model.card.get("rounds", [])
            if "rows_aggregated" in row
        },
        "versions": _versions(session, [int(part["dataset_version"]) for part in data]),
        "contributors": contributors(session, model.contributors),
        "license_url": SPDX_LICENSES.get(model.license),
        "base_url": str(request.base_url).rstrip("/"),
        "example": shlex.quote(json.dumps({"rows": [_example_row(model)]})),
        "manager": service.manages(session, viewer, model),
        "manage_errors": {},
        **_labels(),
    }


def _example_row(model: TrainedModel) -> dict[str, float]:
    """A row of the model's features, each 1: a valid request to copy (nothing of the hidden evaluation
    rows, such as their means, is shown: decision 0050)."""
    return dict.fromkeys(model.architecture["features"], 1.0)


@dataclass(frozen=True)
class Contributor:
    """An owner of the model by its share of the contributions; `link` is None for a private community."""

    name: str
    link: str | None
    share: float
    tokens: int | None = None  # what its nodes got from the rounds (unknown for models before decision 0049)


def contributors(session: Session, shares: Sequence[dict[str, Any]]) -> list[Contributor]:
    holders = _holders(session, [str(entry["account"]) for entry in shares])
    return [
        Contributor(
            *holders.get(str(entry["account"]), (str(entry["account"]), None)),
            float(entry["share"]),
            entry.get("tokens"),
        )
        for entry in shares
    ]


def _holders(session: Session, accounts: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """Each owner account's name and page: a member's, or a community's unless it is private."""
    parsed = [account.split(":", 1) for account in accounts]
    member_ids = [int(number) for kind, number in parsed if kind == "member"]
    community_ids = [int(number) for kind, number in parsed if kind == "community"]
    found: dict[str, tuple[str, str | None]] = {
        tokens.member_account(member.id): (member.display_name, f"/members/{member.handle}")
        for member in session.scalars(select(Member).where(Member.id.in_(member_ids)))
    }
    for community in session.scalars(select(Community).where(Community.id.in_(community_ids))):
        public = community.visibility != Visibility.PRIVATE
        link = f"/communities/{community.slug}" if public else None
        found[tokens.community_account(community.id)] = (
            community.name if public else "A private community",
            link,
        )
    return found


# --- the metric per round as a chart -----------------------------------------------------------------------

CHART_WIDTH = 320
PLOT_HEIGHT = 120
LEFT = 44  # room for the metric's labels
BOTTOM = 16  # room for the rounds' labels
MAX_BAR = 32


def _scores(rounds: Sequence[tuple[int, dict[str, Any]]], metric: Metric) -> list[tuple[int, float]]:
    """(round, the problem's metric) for each round that has it."""
    key = metric.value
    return [(number, float(metrics[key])) for number, metrics in rounds if metrics.get(key) is not None]


def run_scores(run: TrainingRun, metric: Metric) -> list[tuple[int, float]]:
    return _scores([(row.number, row.metrics) for row in run.round_rows], metric)


def metric_chart(scores: Sequence[tuple[int, float]], metric: Metric) -> Chart | None:
    """A bar per round, from zero to the round's score; None before the first round."""
    if not scores:
        return None
    values = [value for _, value in scores]
    bottom, top = min(0.0, *values), max(0.0, *values)
    top = top if top > bottom else bottom + 1.0
    step = (CHART_WIDTH - LEFT - 8) / len(scores)

    def place(value: float) -> float:
        return round(PLOT_HEIGHT * (top - value) / (top - bottom), 1)

    width = min(max(step - 2, 1.0), MAX_BAR)
    bars = [
        Bar(
            round(LEFT + (index + 0.5) * step - width / 2, 1),
            min(place(value), place(0.0)),
            round(width, 1),
            max(abs(place(value) - place(0.0)), 1.0),
            f"Round {number}: {metric.value.replace('_', ' ')} {value:.4f}",
        )
        for index, (number, value) in enumerate(scores)
    ]
    return Chart("rounds", CHART_WIDTH, PLOT_HEIGHT + BOTTOM, bars, _chart_labels(scores, bottom, top))


def _chart_labels(scores: Sequence[tuple[int, float]], bottom: float, top: float) -> list[Label]:
    axis = PLOT_HEIGHT + 13
    values = [Label(LEFT - 4, 9, f"{top:.3g}", "end"), Label(LEFT - 4, PLOT_HEIGHT, f"{bottom:.3g}", "end")]
    if len(scores) == 1:
        return [*values, Label((LEFT + CHART_WIDTH - 8) / 2, axis, f"round {scores[0][0]}", "middle")]
    return [
        *values,
        Label(LEFT, axis, f"round {scores[0][0]}"),
        Label(CHART_WIDTH - 8, axis, f"round {scores[-1][0]}", "end"),
    ]
