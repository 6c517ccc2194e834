"""JSON routes of the datasets domain under /api/v1/datasets."""

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from aicommons.core.blobs import BlobStore
from aicommons.core.pagination import Paging
from aicommons.core.web import AppSettings, DbSession
from aicommons.datasets import croissant, permissions, service, uploads
from aicommons.datasets.licenses import SPDX_LICENSES
from aicommons.datasets.models import Dataset, DatasetVersion, RequestStatus
from aicommons.datasets.schemas import (
    AccessRequestCreate,
    AccessRequestPage,
    AccessRequestRead,
    DatasetCreate,
    DatasetFilter,
    DatasetPage,
    DatasetRead,
    DatasetUpdate,
    Decision,
    FederatedVersion,
    LicenseRead,
    UsageCounts,
    UsagePage,
    VersionDetail,
    VersionRead,
)
from aicommons.members.auth import CurrentMember, OptionalMember
from aicommons.members.models import Member

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])
PARQUET = "application/vnd.apache.parquet"
V = TypeVar("V", bound=VersionRead)


def dataset_by_ref(ref: str, session: DbSession) -> Dataset:
    return service.get(session=session, ref=ref)


def blob_store(settings: AppSettings) -> BlobStore:
    return BlobStore(settings.blob_dir)


DatasetByRef = Annotated[Dataset, Depends(dataset_by_ref)]
Store = Annotated[BlobStore, Depends(blob_store)]


@router.get("")
def catalog(filters: Annotated[DatasetFilter, Query()], page: Paging, session: DbSession) -> DatasetPage:
    """The catalog: search by text, and narrow by SDG, sector, license, policy and format."""
    found = service.search(session=session, filters=filters, page=page)
    return DatasetPage.model_validate(found, from_attributes=True)


@router.get("/licenses")
def licenses() -> dict[str, str]:
    """The SPDX identifiers a dataset may carry, with the page that explains each."""
    return SPDX_LICENSES


@router.post("", status_code=status.HTTP_201_CREATED)
def create(form: DatasetCreate, creator: CurrentMember, session: DbSession) -> DatasetRead:
    return DatasetRead.model_validate(service.create(session=session, creator=creator, form=form))


@router.get("/{ref}")
def show(dataset: DatasetByRef) -> DatasetRead:
    return DatasetRead.model_validate(dataset)


@router.patch("/{ref}")
def edit(
    dataset: DatasetByRef, changes: DatasetUpdate, actor: CurrentMember, session: DbSession
) -> DatasetRead:
    updated = service.update_dataset(session=session, actor=actor, dataset=dataset, changes=changes)
    return DatasetRead.model_validate(updated)


@router.delete("/{ref}", status_code=status.HTTP_204_NO_CONTENT)
def delete(dataset: DatasetByRef, actor: CurrentMember, session: DbSession) -> Response:
    """Remove a dataset that has no version yet (e.g. when its first upload was refused)."""
    service.delete_unpublished(session=session, actor=actor, dataset=dataset)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{ref}/versions")
def versions(dataset: DatasetByRef, session: DbSession, viewer: OptionalMember) -> list[VersionRead]:
    """Every version, newest first; text columns' values in the statistics only for those who may download."""
    found = service.versions(session=session, dataset=dataset)
    return [_as_seen(VersionRead, session, viewer, dataset, one) for one in found]


def _as_seen(
    schema: type[V], session: Session, viewer: Member | None, dataset: Dataset, found: DatasetVersion
) -> V:
    shown = schema.model_validate(found)
    figures = service.visible_statistics(session=session, viewer=viewer, dataset=dataset, found=found)
    shown.statistics = figures
    return shown


@router.post("/{ref}/versions", responses={200: {"description": "the same bytes were uploaded before"}})
async def publish(  # noqa: PLR0917 (FastAPI passes what the route declares)
    ref: str,
    request: Request,
    response: Response,
    actor: CurrentMember,
    session: DbSession,
    store: Store,
    settings: AppSettings,
    file_format: Annotated[str | None, Query(alias="format", pattern="^(csv|parquet)$")] = None,
) -> VersionRead:
    """Upload a CSV or Parquet file as the body (`text/csv` or `application/vnd.apache.parquet`).

    The body is streamed to disk, never held in memory; 201 for a new version, 200 when the same bytes
    were uploaded before (no new version). Statistics follow in a background job (`stats_job_id`)."""
    chosen = uploads.format_of(request.headers.get("content-type", ""), file_format)
    dataset = await run_in_threadpool(service.get, session=session, ref=ref)
    with store.scratch() as path:
        upload = await uploads.receive(request, path, chosen, limit=settings.max_upload_bytes)
        created, new = await run_in_threadpool(
            service.publish, session=session, store=store, actor=actor, dataset=dataset, upload=upload
        )
    response.status_code = status.HTTP_201_CREATED if new else status.HTTP_200_OK
    return VersionRead.model_validate(created)


@router.post("/{ref}/versions/federated", status_code=status.HTTP_201_CREATED)
def publish_federated(
    dataset: DatasetByRef, form: FederatedVersion, actor: CurrentMember, session: DbSession
) -> VersionRead:
    """A federated dataset's version: its schema, row count and the figures the owner chose to show."""
    created = service.publish_federated(session=session, actor=actor, dataset=dataset, form=form)
    return VersionRead.model_validate(created)


@router.get("/{ref}/versions/{number}")
def version(dataset: DatasetByRef, number: int, session: DbSession, viewer: OptionalMember) -> VersionDetail:
    """One version with its preview rows, which only those who may download it see (federated: the sample)."""
    found = service.version(session=session, dataset=dataset, number=number)
    detail = _as_seen(VersionDetail, session, viewer, dataset, found)
    if found.source_format != "federated" and not permissions.may_download(session, dataset, viewer):
        detail.preview = []
    return detail


@router.post("/{ref}/versions/{number}/withdraw")
def withdraw(dataset: DatasetByRef, number: int, actor: CurrentMember, session: DbSession) -> VersionRead:
    """Withdraw a version: no more downloads, and licenses still in escrow are refunded."""
    return VersionRead.model_validate(
        service.withdraw(session=session, actor=actor, dataset=dataset, number=number)
    )


@router.get("/{ref}/download", response_class=FileResponse, responses={200: {"content": {PARQUET: {}}}})
def download(
    dataset: DatasetByRef,
    session: DbSession,
    store: Store,
    viewer: OptionalMember,
    version: Annotated[int | None, Query(ge=1, description="a version number; the newest by default")] = None,
) -> FileResponse:
    """The version as Parquet, for whoever the policy lets in; every download is on the log."""
    taken, path = service.download(
        session=session, store=store, member=viewer, dataset=dataset, number=version
    )
    return FileResponse(path, media_type=PARQUET, filename=f"{dataset.slug}-v{taken.number}.parquet")


@router.post("/{ref}/requests", status_code=status.HTTP_201_CREATED)
def request_access(
    dataset: DatasetByRef, form: AccessRequestCreate, member: CurrentMember, session: DbSession
) -> AccessRequestRead:
    asked = service.request_access(session=session, member=member, dataset=dataset, form=form)
    return AccessRequestRead.model_validate(asked)


@router.get("/{ref}/requests")
def requests(
    dataset: DatasetByRef,
    page: Paging,
    actor: CurrentMember,
    session: DbSession,
    state: RequestStatus | None = None,
) -> AccessRequestPage:
    """The owners' queue, soonest deadline first; overdue requests say so."""
    found = service.requests(session=session, actor=actor, dataset=dataset, status=state, page=page)
    return AccessRequestPage.model_validate(found, from_attributes=True)


@router.get("/{ref}/requests/mine")
def my_requests(dataset: DatasetByRef, member: CurrentMember, session: DbSession) -> list[AccessRequestRead]:
    found = service.my_requests(session=session, member=member, dataset=dataset)
    return [AccessRequestRead.model_validate(asked) for asked in found]


@router.post("/{ref}/requests/{request_id}/{verdict}")
def decide(  # noqa: PLR0917 (FastAPI passes what the route declares)
    dataset: DatasetByRef,
    request_id: int,
    verdict: Literal["approve", "deny"],
    decision: Decision,
    actor: CurrentMember,
    session: DbSession,
) -> AccessRequestRead:
    """Approve or deny a request (`/approve`, `/deny`); a denial needs a reason the requester sees."""
    decided = service.decide(
        session=session,
        actor=actor,
        dataset=dataset,
        request_id=request_id,
        approve=verdict == "approve",
        reason=decision.reason,
    )
    return AccessRequestRead.model_validate(decided)


@router.post("/{ref}/licenses", status_code=status.HTTP_201_CREATED)
def buy(dataset: DatasetByRef, member: CurrentMember, session: DbSession) -> LicenseRead:
    """Buy a time-boxed license: the price waits in escrow until the first download delivers the data."""
    return LicenseRead.model_validate(service.buy(session=session, member=member, dataset=dataset))


@router.get("/{ref}/licenses/mine")
def my_licenses(dataset: DatasetByRef, member: CurrentMember, session: DbSession) -> list[LicenseRead]:
    return [
        LicenseRead.model_validate(held)
        for held in service.licenses(session=session, member=member, dataset=dataset)
    ]


@router.get("/{ref}/usage")
def usage(dataset: DatasetByRef, page: Paging, actor: CurrentMember, session: DbSession) -> UsagePage:
    """Who downloaded which version when: for the dataset's owners."""
    found = service.usage(session=session, actor=actor, dataset=dataset, page=page)
    return UsagePage.model_validate(found, from_attributes=True)


@router.get("/{ref}/counts")
def counts(dataset: DatasetByRef, session: DbSession) -> UsageCounts:
    """Downloads, licenses and approved requests: counts everyone may see."""
    return service.counts(session=session, dataset=dataset)


# --- Croissant and schema.org ---------------------------------------------------------------------


class JsonLdResponse(JSONResponse):
    media_type = "application/ld+json"


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/{ref}/croissant", response_class=JsonLdResponse)
def croissant_metadata(dataset: DatasetByRef, request: Request, session: DbSession) -> dict[str, Any]:
    """The dataset as Croissant 1.0 JSON-LD: metadata, the newest Parquet file, and its columns as fields."""
    found = service.versions(session=session, dataset=dataset)
    return croissant.export(dataset, found, _base_url(request))


@router.get("/{ref}/schema-org", response_class=JsonLdResponse)
def schema_org_metadata(
    dataset: DatasetByRef, request: Request, session: DbSession, settings: AppSettings
) -> dict[str, Any]:
    """The dataset as a schema.org Dataset, as search engines read it."""
    found = service.versions(session=session, dataset=dataset)
    return croissant.schema_org(dataset, found, _base_url(request), catalog=settings.name)


@router.post("/croissant", status_code=status.HTTP_201_CREATED)
def import_croissant(
    document: Annotated[
        dict[str, Any], Body(description="a Croissant or schema.org Dataset JSON-LD document")
    ],
    choices: Annotated[croissant.ImportChoices, Query()],
    creator: CurrentMember,
    session: DbSession,
) -> DatasetRead:
    """Register a dataset from a Croissant document: name, description, license, keywords and the RAI
    datasheet sections; upload its data afterwards through `POST /{ref}/versions`."""
    form = croissant.to_form(document, choices)
    return DatasetRead.model_validate(service.create(session=session, creator=creator, form=form))
