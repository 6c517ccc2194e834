"""HTML pages of datasets: the catalog, registering, a dataset with its access action, the owners' queues."""

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from aicommons.core.blobs import BlobStore
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.jobs import Job
from aicommons.core.pagination import PageRequest, Paging
from aicommons.core.sdg import goals
from aicommons.core.vocabulary import Sector
from aicommons.core.web import (
    AppSettings,
    DbSession,
    FormData,
    PageRenderer,
    Pages,
    parse_form,
    query_filters,
    require_csrf,
    wants_fragment,
)
from aicommons.datasets import permissions, service, uploads
from aicommons.datasets.licenses import SPDX_LICENSES
from aicommons.datasets.models import DATASHEET_SECTIONS, Dataset, DatasetVersion, Policy, RequestStatus
from aicommons.datasets.schemas import AccessRequestCreate, DatasetCreate, DatasetFilter, Decision
from aicommons.members.auth import OptionalMember, PageMember
from aicommons.members.models import Member
from aicommons.web.charts import Bar, Chart, Label
from aicommons.web.navigation import refusal, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])

POLICY_LABELS = {
    Policy.OPEN: "Open: anyone may download",
    Policy.GATED: "Gated: the owner approves requests",
    Policy.PRICED: "Priced: time-boxed licenses bought with tokens",
    Policy.FEDERATED: "Federated: the rows stay on the owner's node",
}
SECTION_TITLES = {section: section.replace("_", " ").capitalize() for section in DATASHEET_SECTIONS}
CHOICES = {
    "licenses": [(identifier, identifier) for identifier in SPDX_LICENSES],
    "policies": [(policy.value, label) for policy, label in POLICY_LABELS.items()],
    "sectors": [(sector.value, sector.value.replace("-", " ").capitalize()) for sector in Sector],
}
FIELD_OF = {
    ErrorCode.UNKNOWN_LICENSE: "license",
    ErrorCode.COMMUNITY_NOT_FOUND: "community",
    ErrorCode.FORBIDDEN: "community",
}
NEW_DATASET = {
    "license": "CC-BY-4.0",
    "policy": Policy.OPEN.value,
    "license_days": "30",
    "decision_days": "14",
}
UPLOAD_FORMATS = {".csv": "csv", ".parquet": "parquet"}
FACETS = ("sdg", "sector", "license", "policy", "format")


def dataset_by_ref(ref: str, session: DbSession) -> Dataset:
    return service.get(session=session, ref=ref)


def catalog_filters(request: Request) -> DatasetFilter:
    """The search form's fields; a plain GET submits empty selects, which mean "any"."""
    return query_filters(DatasetFilter, request)


DatasetByRef = Annotated[Dataset, Depends(dataset_by_ref)]
Filters = Annotated[DatasetFilter, Depends(catalog_filters)]


def _page(viewer: Member | None, **context: Any) -> dict[str, Any]:
    return {
        "viewer": viewer,
        "choices": CHOICES,
        "policy_labels": POLICY_LABELS,
        "section_titles": SECTION_TITLES,
        **context,
    }


# --- the catalog -------------------------------------------------------------------------------------


@router.get("/datasets")
def catalog(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    filters: Filters,
    page: Paging,
) -> Response:
    """Search the catalog; an HTMX request from the filter form gets only the results list."""
    found = service.search(session=session, filters=filters, page=page)
    if wants_fragment(request, "results"):
        response = pages.render(request, "datasets/_results.html", _page(viewer, found=found))
    else:
        facets = facet_options(service.facet_counts(session=session), filters)
        context = _page(viewer, found=found, filters=filters, facets=facets)
        response = pages.render(request, "datasets/catalog.html", context)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def facet_options(
    counts: dict[str, dict[str, int]], filters: DatasetFilter
) -> dict[str, list[tuple[str, str]]]:
    """Each facet's values as (value, "label (count)") options; a chosen value stays even when it has none."""
    options = {}
    for facet in FACETS:
        found = dict(counts.get(facet, {}))
        chosen = getattr(filters, facet)
        if chosen is not None and str(chosen) not in found:
            found[str(chosen)] = 0
        options[facet] = [
            (value, f"{_facet_label(facet, value)} ({count})") for value, count in found.items()
        ]
    return options


def _facet_label(facet: str, value: str) -> str:
    if facet == "sdg" and value.isdigit() and 1 <= int(value) <= len(goals()):
        return f"{value} · {goals()[int(value) - 1].short}"
    if facet == "policy":
        return value.capitalize()
    return value.replace("-", " ").capitalize() if facet == "sector" else value


# --- registering --------------------------------------------------------------------------------------


@router.get("/datasets/new")
def new_page(request: Request, pages: PageRenderer, viewer: PageMember) -> Response:
    return pages.render(request, "datasets/new.html", _page(viewer, values=NEW_DATASET, errors={}))


@router.post("/datasets/new")
def create(
    request: Request, pages: PageRenderer, data: FormData, session: DbSession, viewer: PageMember
) -> Response:
    """A new dataset from the form, or the form again with what was wrong next to each field."""
    try:
        form = parse_form(DatasetCreate, dataset_fields(data))
        dataset = service.create(session=session, creator=viewer, form=form)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, FIELD_OF)
        context = _page(viewer, values=data, errors=errors)
        return pages.render(request, "datasets/new.html", context, status_code=status)
    return see_other(f"/datasets/{dataset.slug}")


def dataset_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Form fields as DatasetCreate takes them: lists from text, the datasheet from its sections' boxes."""
    fields = {key: value for key, value in data.items() if key in DatasetCreate.model_fields}
    fields["keywords"] = _items(data.get("keywords", ""), ",")
    fields["request_fields"] = _items(data.get("request_fields", ""), "\n")
    fields["datasheet"] = {section: data.get(f"datasheet_{section}", "") for section in DATASHEET_SECTIONS}
    return fields


def _items(text: str, separator: str) -> list[str]:
    return [item.strip() for item in str(text).split(separator) if item.strip()]


# --- a dataset -----------------------------------------------------------------------------------------


@router.get("/datasets/{ref}")
def show(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    dataset: DatasetByRef,
    version: int | None = None,
) -> Response:
    return pages.render(request, "datasets/show.html", _detail(session, viewer, dataset, version))


def _detail(
    session: Session, viewer: Member | None, dataset: Dataset, number: int | None = None, **context: Any
) -> dict[str, Any]:
    """Everything the dataset's page shows: versions, the shown one's figures, and the viewer's access."""
    versions = service.versions(session=session, dataset=dataset)
    shown = _shown(session, dataset, number, versions)
    return _page(
        viewer,
        dataset=dataset,
        versions=versions,
        owner=permissions.is_owner(session, dataset, viewer),
        may_download=permissions.may_download(session, dataset, viewer),
        counts=service.counts(session=session, dataset=dataset),
        **_access(session, dataset, viewer),
        **_figures(session, viewer, dataset, shown),
        **({"upload_errors": {}, "request_errors": {}, "request_values": {}} | context),
    )


def _shown(
    session: Session, dataset: Dataset, number: int | None, versions: Sequence[DatasetVersion]
) -> DatasetVersion | None:
    """The version asked for, or the newest one not withdrawn (the newest of all if every one was)."""
    if number is not None:
        return service.version(session=session, dataset=dataset, number=number)
    current = [found for found in versions if not found.withdrawn] or list(versions)
    return current[0] if current else None


def _access(session: Session, dataset: Dataset, viewer: Member | None) -> dict[str, Any]:
    """The viewer's own requests (gated) and current license (priced), which decide the access action."""
    if viewer is None:
        return {"my_requests": [], "my_license": None}
    mine = service.my_requests(session=session, member=viewer, dataset=dataset)
    held = permissions.current_license(session, dataset, viewer) if dataset.policy == Policy.PRICED else None
    return {"my_requests": mine, "my_license": held}


@router.get("/datasets/{ref}/statistics")
def statistics_fragment(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    dataset: DatasetByRef,
    version: int | None = None,
) -> Response:
    """The statistics section alone, which polls itself until the statistics job has finished."""
    shown = _shown(session, dataset, version, service.versions(session=session, dataset=dataset))
    context = _page(viewer, dataset=dataset, **_figures(session, viewer, dataset, shown))
    return pages.render(request, "datasets/_statistics.html", context)


# --- statistics as charts --------------------------------------------------------------------------------


CHART_WIDTH = 240
PLOT_HEIGHT = 100
ROW_HEIGHT = 18
LABEL_WIDTH = 80


def _figures(
    session: Session, viewer: Member | None, dataset: Dataset, shown: DatasetVersion | None
) -> dict[str, Any]:
    """The shown version's column figures (as the viewer may see them), each with its chart, or the job
    still computing them."""
    if shown is None or shown.statistics is None:
        job = session.get(Job, shown.stats_job_id) if shown and shown.stats_job_id else None
        return {"shown": shown, "figures": [], "job": job}
    visible = service.visible_statistics(session=session, viewer=viewer, dataset=dataset, found=shown) or {}
    columns = visible.get("columns", [])
    figures = [(column, chart(column.get("distribution"))) for column in columns]
    return {"shown": shown, "figures": figures, "job": None}


def chart(distribution: dict[str, Any] | None) -> Chart | None:
    """A histogram (numbers) or a top-values chart (everything else); None when there is nothing to draw."""
    if not distribution or not any(distribution.get("counts", [])):
        return None
    if distribution.get("kind") == "histogram":
        return _histogram(distribution["edges"], distribution["counts"])
    return _top_values(distribution["values"], distribution["counts"])


def _histogram(edges: list[float], counts: list[int]) -> Chart:
    step, top = CHART_WIDTH / len(counts), max(counts)
    bars = []
    for number, count in enumerate(counts):
        height = round(PLOT_HEIGHT * count / top, 1)
        span = f"{_figure(edges[number])} to {_figure(edges[number + 1])}: {count}"
        bars.append(Bar(round(number * step, 1), PLOT_HEIGHT - height, round(step - 1, 1), height, span))
    axis = PLOT_HEIGHT + 14
    labels = [Label(0, axis, _figure(edges[0])), Label(CHART_WIDTH, axis, _figure(edges[-1]), "end")]
    return Chart("histogram", CHART_WIDTH, PLOT_HEIGHT + 18, bars, labels)


def _top_values(values: list[Any], counts: list[int]) -> Chart:
    span, top = CHART_WIDTH - LABEL_WIDTH - 40, max(counts)
    bars, labels = [], []
    for row, (value, count) in enumerate(zip(values, counts, strict=False)):
        width, y = max(1.0, round(span * count / top, 1)), row * ROW_HEIGHT
        bars.append(Bar(LABEL_WIDTH, y + 3, width, ROW_HEIGHT - 6, f"{value}: {count}"))
        labels.append(Label(LABEL_WIDTH - 4, y + 13, _shortened(str(value)), "end"))
        labels.append(Label(LABEL_WIDTH + width + 4, y + 13, str(count)))
    return Chart("top", CHART_WIDTH, ROW_HEIGHT * len(bars), bars, labels)


def _figure(value: float) -> str:
    return f"{value:.4g}"


def _shortened(text: str, most: int = 12) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


# --- the access actions and the owner's actions on the dataset page ----------------------------------------


def _act(
    request: Request,
    *,
    pages: Pages,
    session: Session,
    viewer: Member,
    dataset: Dataset,
    act: Callable[[], str],
    errors_key: str = "action_errors",
    **context: Any,
) -> Response:
    """Do `act` and go where it says, or show the dataset again with why it was refused."""
    try:
        target = act()
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        page = _detail(session, viewer, dataset, None, **{errors_key: errors}, **context)
        return pages.render(request, "datasets/show.html", page, status_code=status)
    return see_other(target)


@router.post("/datasets/{ref}/requests")
def request_access(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    dataset: DatasetByRef,
) -> Response:
    """Ask for a gated dataset with a reason and answers to the owner's questions (in their order)."""

    def act() -> str:
        answers = _listed(data.get("answers", []))
        fields = {
            "reason": data.get("reason", ""),
            "answers": dict(zip(dataset.request_fields, answers, strict=False)),
        }
        form = parse_form(AccessRequestCreate, fields)
        service.request_access(session=session, member=viewer, dataset=dataset, form=form)
        return f"/datasets/{dataset.slug}#access"

    return _act(
        request,
        pages=pages,
        session=session,
        viewer=viewer,
        dataset=dataset,
        act=act,
        errors_key="request_errors",
        request_values=data,
    )


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


@router.post("/datasets/{ref}/licenses")
def buy(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember, dataset: DatasetByRef
) -> Response:
    """Buy a time-boxed license; the price waits in escrow until the first download."""

    def act() -> str:
        service.buy(session=session, member=viewer, dataset=dataset)
        return f"/datasets/{dataset.slug}#access"

    return _act(request, pages=pages, session=session, viewer=viewer, dataset=dataset, act=act)


@router.post("/datasets/{ref}/versions/{number}/withdraw")
def withdraw(
    *,
    request: Request,
    number: int,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    dataset: DatasetByRef,
) -> Response:
    def act() -> str:
        service.withdraw(session=session, actor=viewer, dataset=dataset, number=number)
        return f"/datasets/{dataset.slug}#versions"

    return _act(request, pages=pages, session=session, viewer=viewer, dataset=dataset, act=act)


@router.post("/datasets/{ref}/versions")
def upload(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    settings: AppSettings,
    viewer: PageMember,
    dataset: DatasetByRef,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Publish a new version from the owner's upload form (the path ends in /versions for the body limit)."""
    store = BlobStore(settings.blob_dir)

    def act() -> str:
        with store.scratch() as path:
            received = uploads.from_form(file, path, limit=settings.max_upload_bytes, formats=UPLOAD_FORMATS)
            created, _ = service.publish(
                session=session, store=store, actor=viewer, dataset=dataset, upload=received
            )
        return f"/datasets/{dataset.slug}?version={created.number}"

    return _act(
        request,
        pages=pages,
        session=session,
        viewer=viewer,
        dataset=dataset,
        act=act,
        errors_key="upload_errors",
    )


# --- the owners' pages ------------------------------------------------------------------------------------


@router.get("/datasets/{ref}/requests")
def requests_page(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    dataset: DatasetByRef,
    page: Paging,
    state: RequestStatus | None = None,
) -> Response:
    """The owners' queue of access requests, soonest deadline first."""
    return pages.render(request, "datasets/requests.html", _queue(session, viewer, dataset, page, state))


def _queue(
    session: Session,
    viewer: Member,
    dataset: Dataset,
    page: PageRequest,
    state: RequestStatus | None = None,
    **context: Any,
) -> dict[str, Any]:
    found = service.requests(session=session, actor=viewer, dataset=dataset, status=state, page=page)
    states = [status.value for status in RequestStatus]
    return _page(viewer, dataset=dataset, found=found, state=state, states=states, **context)


@router.post("/datasets/{ref}/requests/{request_id}/{decision}")
def decide(
    *,
    request: Request,
    request_id: int,
    decision: Literal["approve", "deny"],
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    dataset: DatasetByRef,
) -> Response:
    """Approve or deny a request; a denial needs a reason, which the requester sees."""
    try:
        reason = parse_form(Decision, data).reason
        approve = decision == "approve"
        service.decide(
            session=session,
            actor=viewer,
            dataset=dataset,
            request_id=request_id,
            approve=approve,
            reason=reason,
        )
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        context = _queue(session, viewer, dataset, PageRequest(), failed=request_id, action_errors=errors)
        return pages.render(request, "datasets/requests.html", context, status_code=status)
    return see_other(f"/datasets/{dataset.slug}/requests")


@router.get("/datasets/{ref}/usage")
def usage_page(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    dataset: DatasetByRef,
    page: Paging,
) -> Response:
    """Who downloaded which version when: for the dataset's owners."""
    found = service.usage(session=session, actor=viewer, dataset=dataset, page=page)
    return pages.render(request, "datasets/usage.html", _page(viewer, dataset=dataset, found=found))
