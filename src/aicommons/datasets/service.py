"""The rules of datasets: registering, publishing versions, finding, and every way of getting access."""

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from aicommons.communities import service as communities
from aicommons.communities.models import Community
from aicommons.core import jobs
from aicommons.core.blobs import BlobStore, sha256_of
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest, paginate
from aicommons.core.slugs import free_slug, slugify
from aicommons.datasets import ingest, permissions
from aicommons.datasets.models import (
    AccessRequest,
    Dataset,
    DatasetLicense,
    DatasetSdg,
    DatasetSector,
    DatasetVersion,
    Download,
    LicenseStatus,
    Policy,
    RequestStatus,
)
from aicommons.datasets.permissions import Action
from aicommons.datasets.schemas import (
    AccessRequestCreate,
    DatasetCreate,
    DatasetFilter,
    DatasetUpdate,
    FederatedVersion,
    UsageCounts,
    UsageRead,
)
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens
from aicommons.members.models import Member

STATS_JOB = "datasets:statistics:compute"


@dataclass(frozen=True)
class Upload:
    """An uploaded file waiting in the blob store's scratch space, with the digest of its bytes."""

    path: Path
    file_format: str
    sha256: str
    size: int


@contextmanager
def csv_upload(store: BlobStore, frame: Any) -> Iterator[Upload]:
    """A pandas frame as an uploaded CSV in the store's scratch space, as the API would receive it."""
    with store.scratch(".csv") as path:
        frame.to_csv(path, index=False)
        yield Upload(path=path, file_format="csv", sha256=sha256_of(path), size=path.stat().st_size)


def create(*, session: Session, creator: Member, form: DatasetCreate) -> Dataset:
    """Register a dataset with its datasheet; its owner is the creator or the community named."""
    owner_community = _owning_community(session, creator, form.community)
    dataset = Dataset(
        slug=free_slug(session, Dataset.slug, form.slug or slugify(form.title, fallback_prefix="dataset")),
        title=form.title,
        summary=form.summary,
        license=form.license,
        policy=form.policy,
        price=form.price if form.policy == Policy.PRICED else 0,
        license_days=form.license_days,
        decision_days=form.decision_days,
        request_fields=form.request_fields,
        keywords=sorted(set(form.keywords)),
        datasheet=form.datasheet,
        owner_member_id=None if owner_community else creator.id,
        owner_community_id=owner_community.id if owner_community else None,
        created_by_id=creator.id,
        file_format="federated" if form.policy == Policy.FEDERATED else "",
    )
    _set_facets(dataset, form.sdgs, form.sectors)
    session.add(dataset)
    session.flush()
    facts = {
        "slug": dataset.slug,
        "policy": dataset.policy,
        "license": dataset.license,
        "price": dataset.price,
    }
    _record(session, "datasets:dataset:create", creator, dataset, facts)
    return dataset


def _owning_community(session: Session, creator: Member, slug: str | None) -> Any:
    if slug is None:
        return None
    community = communities.get(session=session, slug=slug, viewer=creator)
    if not permissions.may_own_for(session, community.id, creator):
        raise CommonsError(
            ErrorCode.FORBIDDEN, "only a community's stewards and organizers register its data"
        )
    return community


def _set_facets(dataset: Dataset, sdgs: Sequence[int], sectors: Sequence[str]) -> None:
    dataset.sdg_rows = [DatasetSdg(goal=goal) for goal in sdgs]
    dataset.sector_rows = [DatasetSector(sector=sector) for sector in sectors]
    dataset.search_text = " ".join([dataset.title, dataset.summary, *dataset.keywords]).lower()


def _record(
    session: Session, event: str, actor: Member | None, dataset: Dataset, data: dict[str, Any]
) -> None:
    ledger.record(
        session,
        event,
        actor_id=actor.id if actor else None,
        subject={"dataset": dataset.id},
        community_id=dataset.owner_community_id,
        data=data,
    )


def get(*, session: Session, ref: str) -> Dataset:
    """A dataset by its slug or its number; every dataset's page is public (its data may not be)."""
    condition = Dataset.id == int(ref) if ref.isdigit() else Dataset.slug == ref
    found = session.scalar(select(Dataset).where(condition))
    if found is None:
        raise CommonsError(ErrorCode.DATASET_NOT_FOUND, f"no dataset {ref!r}")
    return found


def update_dataset(*, session: Session, actor: Member, dataset: Dataset, changes: DatasetUpdate) -> Dataset:
    permissions.require(session, Action.EDIT, dataset, actor)
    values = changes.model_dump(exclude_unset=True, exclude={"sdgs", "sectors"})
    for name, value in values.items():
        setattr(dataset, name, value)
    _set_facets(
        dataset,
        changes.sdgs if changes.sdgs is not None else dataset.sdgs,
        changes.sectors if changes.sectors is not None else dataset.sectors,
    )
    _record(session, "datasets:dataset:update", actor, dataset, {"changed": sorted(values)})
    session.flush()
    return dataset


def delete_unpublished(*, session: Session, actor: Member, dataset: Dataset) -> None:
    """Remove a dataset nothing was published in yet (a registration whose first upload was refused);
    one with a version stays, for its versions, grants and usage are on the log."""
    permissions.require(session, Action.EDIT, dataset, actor)
    if dataset.version_count:
        raise CommonsError(ErrorCode.DATASET_PUBLISHED, "a dataset with versions stays: withdraw them")
    _record(session, "datasets:dataset:delete", actor, dataset, {"slug": dataset.slug})
    session.delete(dataset)
    session.flush()


def search(*, session: Session, filters: DatasetFilter, page: PageRequest) -> Page[Dataset]:
    # The owner's label needs the community's slug, not its sectors and SDGs (two more queries a page).
    owners = joinedload(Dataset.owner_community)
    listed = select(Dataset).where(*_matching(filters)).order_by(Dataset.title, Dataset.id)
    query = listed.options(owners.lazyload(Community.sector_rows), owners.lazyload(Community.sdg_rows))
    return paginate(session, query, page)


def _matching(filters: DatasetFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.q:
        escaped = filters.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Dataset.search_text.like(f"%{escaped}%", escape="\\"))
    if filters.sdg:
        conditions.append(Dataset.id.in_(select(DatasetSdg.dataset_id).where(DatasetSdg.goal == filters.sdg)))
    if filters.sector:
        in_sector = select(DatasetSector.dataset_id).where(DatasetSector.sector == filters.sector)
        conditions.append(Dataset.id.in_(in_sector))
    if filters.license:
        conditions.append(Dataset.license == filters.license)
    if filters.policy:
        conditions.append(Dataset.policy == filters.policy)
    if filters.format:
        conditions.append(Dataset.file_format == filters.format)
    return conditions


def facet_counts(*, session: Session) -> dict[str, dict[str, int]]:
    """How many datasets each facet value holds, for the catalog's sidebar."""

    def counts(column: Any) -> dict[str, int]:
        query = select(column, func.count()).group_by(column).order_by(column)
        return {str(value): count for value, count in session.execute(query) if value not in (None, "")}

    return {
        "sdg": counts(DatasetSdg.goal),
        "sector": counts(DatasetSector.sector),
        "license": counts(Dataset.license),
        "policy": counts(Dataset.policy),
        "format": counts(Dataset.file_format),
    }


# --- versions ---------------------------------------------------------------------------------------


def versions(*, session: Session, dataset: Dataset) -> list[DatasetVersion]:
    query = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)
    return list(session.scalars(query.order_by(DatasetVersion.number.desc())))


def version(*, session: Session, dataset: Dataset, number: int | None = None) -> DatasetVersion:
    """Version `number`, or the newest version that was not withdrawn."""
    query = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)
    if number is None:
        query = query.where(DatasetVersion.withdrawn_at.is_(None)).order_by(DatasetVersion.number.desc())
    else:
        query = query.where(DatasetVersion.number == number)
    found = session.scalars(query.limit(1)).first()
    if found is None:
        detail = f"{dataset.slug} has no version {number}" if number else f"{dataset.slug} has no version yet"
        raise CommonsError(ErrorCode.VERSION_NOT_FOUND, detail)
    return found


def publish(
    *, session: Session, store: BlobStore, actor: Member, dataset: Dataset, upload: Upload
) -> tuple[DatasetVersion, bool]:
    """A new immutable version from an uploaded file; the same bytes again give the version they gave."""
    permissions.require(session, Action.PUBLISH, dataset, actor)
    if dataset.policy == Policy.FEDERATED:
        raise CommonsError(
            ErrorCode.FEDERATED_ONLY, "publish a federated dataset's schema and figures instead"
        )
    same = _same_content(session, dataset, upload.sha256)
    if same is not None:
        return same, False
    with store.scratch(".parquet") as parquet:
        found = ingest.to_parquet(upload.path, upload.file_format, parquet)
        blob, new_blob = store.adopt(parquet)
    try:
        created, new = _numbered_version(session, actor, dataset, upload, blob=blob, found=found)
    except BaseException:
        if new_blob:  # nothing of this transaction will be kept: neither shall its file
            store.remove(blob)
        raise
    if new_blob and not new:
        store.remove(blob)
    return created, new


def _numbered_version(
    session: Session, actor: Member, dataset: Dataset, upload: Upload, *, blob: str, found: ingest.Ingested
) -> tuple[DatasetVersion, bool]:
    """Lock the dataset so that concurrent uploads take their numbers in turn, then look for the same
    bytes once more (a concurrent upload of them may have committed meanwhile)."""
    session.execute(select(Dataset.id).where(Dataset.id == dataset.id).with_for_update())
    session.refresh(dataset, ["version_count"])
    same = _same_content(session, dataset, upload.sha256)
    if same is not None:
        return same, False
    return _new_version(session, actor, dataset, upload, blob=blob, found=found), True


def _same_content(session: Session, dataset: Dataset, sha256: str) -> DatasetVersion | None:
    return session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.content_sha256 == sha256
        )
    )


def _new_version(
    session: Session, actor: Member, dataset: Dataset, upload: Upload, *, blob: str, found: ingest.Ingested
) -> DatasetVersion:
    created = _add_version(
        session,
        actor,
        dataset,
        content_sha256=upload.sha256,
        blob_sha256=blob,
        source_format=upload.file_format,
        size_bytes=upload.size,
        row_count=found.row_count,
        columns=found.columns,
        preview=found.preview,
    )
    job = jobs.enqueue(session, STATS_JOB, {"version_id": created.id}, submitted_by_id=actor.id)
    created.stats_job_id = job.id
    session.flush()
    return created


def publish_federated(
    *, session: Session, actor: Member, dataset: Dataset, form: FederatedVersion
) -> DatasetVersion:
    """A federated dataset's version: the schema, row count and what figures the owner chose to show."""
    permissions.require(session, Action.PUBLISH, dataset, actor)
    if dataset.policy != Policy.FEDERATED:
        raise CommonsError(ErrorCode.WRONG_POLICY, "only federated datasets publish without their rows")
    described = form.model_dump(mode="json")
    digest = content_digest(described)
    same = _same_content(session, dataset, digest)
    if same is not None:
        return same
    return _add_version(
        session,
        actor,
        dataset,
        content_sha256=digest,
        blob_sha256=None,
        source_format="federated",
        size_bytes=0,
        row_count=form.row_count,
        columns=described["columns"],
        preview=described["sample"],
        statistics=form.statistics,
    )


def content_digest(document: dict[str, Any]) -> str:
    """The SHA-256 of a document as sorted, compact JSON: what identifies a federated version's description
    (which may hold decimals, unlike a log entry)."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _add_version(session: Session, actor: Member, dataset: Dataset, **values: Any) -> DatasetVersion:
    dataset.version_count += 1
    if values["source_format"] != "federated":
        dataset.file_format = values["source_format"]
    created = DatasetVersion(
        dataset_id=dataset.id, number=dataset.version_count, created_by_id=actor.id, **values
    )
    session.add(created)
    session.flush()
    facts = {
        "version": created.number,
        "sha256": created.content_sha256,
        "blob": created.blob_sha256,
        "rows": created.row_count,
        "columns": len(created.columns),
    }
    _record(session, "datasets:version:publish", actor, dataset, facts)
    return created


def withdraw(*, session: Session, actor: Member, dataset: Dataset, number: int) -> DatasetVersion:
    """Withdraw a version: nobody downloads it any more, and licenses still in escrow are refunded."""
    permissions.require(session, Action.WITHDRAW, dataset, actor)
    found = version(session=session, dataset=dataset, number=number)
    if found.withdrawn:
        return found
    found.withdrawn_at = utcnow()
    refunded = [_refund(session, held) for held in _held_licenses(session, found)]
    _record(
        session, "datasets:version:withdraw", actor, dataset, {"version": number, "refunds": len(refunded)}
    )
    session.flush()
    return found


def _held_licenses(session: Session, found: DatasetVersion) -> list[DatasetLicense]:
    query = select(DatasetLicense).where(
        DatasetLicense.version_id == found.id, DatasetLicense.status == LicenseStatus.HELD
    )
    return list(session.scalars(query))


def visible_statistics(
    *, session: Session, viewer: Member | None, dataset: Dataset, found: DatasetVersion
) -> dict[str, Any] | None:
    """A version's statistics as the viewer may see them: counts and numeric figures for everyone, but
    the values of text columns (min, max, most frequent) only for those who may download the rows."""
    figures = found.statistics
    if figures is None or found.source_format == "federated":
        return figures
    if permissions.may_download(session, dataset, viewer):
        return figures
    return {"columns": [_without_values(column) for column in figures.get("columns", [])]}


def _without_values(column: dict[str, Any]) -> dict[str, Any]:
    if column.get("type") in {"integer", "float"}:
        return column
    return column | {"min": None, "max": None, "distribution": None}


def save_statistics(*, session: Session, version_id: int, statistics: dict[str, Any]) -> None:
    session.execute(
        update(DatasetVersion).where(DatasetVersion.id == version_id).values(statistics=statistics)
    )


# --- access ----------------------------------------------------------------------------------------


def request_access(
    *, session: Session, member: Member, dataset: Dataset, form: AccessRequestCreate
) -> AccessRequest:
    """Ask for a gated dataset, answering the owner's questions; the owner decides before the deadline."""
    if dataset.policy != Policy.GATED:
        raise CommonsError(ErrorCode.WRONG_POLICY, "only gated datasets take access requests")
    if permissions.may_download(session, dataset, member):
        raise CommonsError(ErrorCode.ALREADY_GRANTED)
    if _pending_request(session, dataset, member) is not None:
        raise CommonsError(ErrorCode.ALREADY_REQUESTED)
    missing = [question for question in dataset.request_fields if not form.answers.get(question, "").strip()]
    if missing:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"answer the owner's question: {missing[0]}")
    answers = {question: form.answers[question] for question in dataset.request_fields}
    asked = AccessRequest(
        dataset_id=dataset.id,
        member_id=member.id,
        reason=form.reason,
        answers=answers,
        due_at=utcnow() + timedelta(days=dataset.decision_days),
    )
    session.add(asked)
    session.flush()
    _record(session, "datasets:access:request", member, dataset, {"request": asked.id})
    return asked


def _pending_request(session: Session, dataset: Dataset, member: Member) -> AccessRequest | None:
    return session.scalar(
        select(AccessRequest).where(
            AccessRequest.dataset_id == dataset.id,
            AccessRequest.member_id == member.id,
            AccessRequest.status == RequestStatus.PENDING,
        )
    )


def requests(
    *, session: Session, actor: Member, dataset: Dataset, status: RequestStatus | None, page: PageRequest
) -> Page[AccessRequest]:
    permissions.require(session, Action.DECIDE, dataset, actor)
    query = select(AccessRequest).where(AccessRequest.dataset_id == dataset.id)
    if status is not None:
        query = query.where(AccessRequest.status == status)
    return paginate(session, query.order_by(AccessRequest.due_at, AccessRequest.id), page)


def admit(*, session: Session, dataset: Dataset) -> Dataset:
    """Admit an open dataset to the commons, as its members decided by vote (governance pays any subsidy)."""
    if dataset.policy != Policy.OPEN:
        raise CommonsError(ErrorCode.WRONG_POLICY, "only open data is admitted to the commons")
    if dataset.admitted_at is not None:
        raise CommonsError(ErrorCode.DATASET_ADMITTED, f"{dataset.slug} is already admitted")
    dataset.admitted_at = utcnow()
    _record(session, "datasets:dataset:admit", None, dataset, {"slug": dataset.slug})
    session.flush()
    return dataset


def decide(
    *, session: Session, actor: Member, dataset: Dataset, request_id: int, approve: bool, reason: str
) -> AccessRequest:
    """Approve or deny a request, with a reason the requester sees."""
    permissions.require(session, Action.DECIDE, dataset, actor)
    asked = session.get(AccessRequest, request_id)
    if asked is None or asked.dataset_id != dataset.id:
        raise CommonsError(ErrorCode.ACCESS_REQUEST_NOT_FOUND)
    if asked.status != RequestStatus.PENDING:
        raise CommonsError(ErrorCode.ALREADY_DECIDED)
    if not approve and not reason:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "say why the request is denied")
    asked.status = RequestStatus.APPROVED if approve else RequestStatus.DENIED
    asked.decision_reason, asked.decided_by_id, asked.decided_at = reason, actor.id, utcnow()
    event = "datasets:access:grant" if approve else "datasets:access:deny"
    _record(session, event, actor, dataset, {"request": asked.id, "member": asked.member_id})
    session.flush()
    return asked


def my_requests(*, session: Session, member: Member, dataset: Dataset) -> list[AccessRequest]:
    query = select(AccessRequest).where(
        AccessRequest.dataset_id == dataset.id, AccessRequest.member_id == member.id
    )
    return list(session.scalars(query.order_by(AccessRequest.id.desc())))


def buy(*, session: Session, member: Member, dataset: Dataset) -> DatasetLicense:
    """A time-boxed license to the newest version; the price waits in escrow until the data is delivered."""
    if dataset.policy != Policy.PRICED:
        raise CommonsError(ErrorCode.WRONG_POLICY, "only priced datasets sell licenses")
    if permissions.may_download(session, dataset, member):
        raise CommonsError(ErrorCode.ALREADY_GRANTED)
    newest = version(session=session, dataset=dataset)
    bought = DatasetLicense(
        dataset_id=dataset.id,
        version_id=newest.id,
        member_id=member.id,
        amount=dataset.price,
        expires_at=utcnow() + timedelta(days=dataset.license_days),
    )
    session.add(bought)
    session.flush()
    _pay(session, bought, source=tokens.member_account(member.id), target=_escrow(bought), step="hold")
    _record(
        session,
        "datasets:license:purchase",
        member,
        dataset,
        {
            "license": bought.id,
            "version": newest.number,
            "amount": bought.amount,
            "days": dataset.license_days,
        },
    )
    return bought


def _escrow(bought: DatasetLicense) -> str:
    return tokens.escrow_account(f"license:{bought.id}")


def _pay(session: Session, bought: DatasetLicense, *, source: str, target: str, step: str) -> None:
    tokens.transfer(
        session,
        initiator=tokens.escrow_account(f"license:{bought.id}"),
        key=f"license/{bought.id}/{step}",
        source=source,
        target=target,
        amount=bought.amount,
        reason=f"datasets:license:{step}",
        actor_id=bought.member_id,
    )


def _release(session: Session, bought: DatasetLicense, dataset: Dataset) -> None:
    _pay(
        session,
        bought,
        source=_escrow(bought),
        target=tokens.owner_account(dataset.owner_member_id, dataset.owner_community_id),
        step="release",
    )
    bought.status, bought.settled_at = LicenseStatus.ACTIVE, utcnow()
    facts = {"license": bought.id, "amount": bought.amount}
    ledger.record(
        session,
        "datasets:license:release",
        actor_id=bought.member_id,
        subject={"dataset": dataset.id},
        data=facts,
    )


def _refund(session: Session, bought: DatasetLicense) -> DatasetLicense:
    _pay(
        session, bought, source=_escrow(bought), target=tokens.member_account(bought.member_id), step="refund"
    )
    bought.status, bought.settled_at = LicenseStatus.REFUNDED, utcnow()
    facts = {"license": bought.id, "amount": bought.amount}
    ledger.record(
        session, "datasets:license:refund", actor_id=None, subject={"dataset": bought.dataset_id}, data=facts
    )
    return bought


def licenses(*, session: Session, member: Member, dataset: Dataset) -> list[DatasetLicense]:
    query = select(DatasetLicense).where(
        DatasetLicense.dataset_id == dataset.id, DatasetLicense.member_id == member.id
    )
    return list(session.scalars(query.order_by(DatasetLicense.id.desc())))


def download(
    *, session: Session, store: BlobStore, member: Member | None, dataset: Dataset, number: int | None
) -> tuple[DatasetVersion, Path]:
    """The Parquet file of a version the member may take; the download is logged, escrow released."""
    permissions.require_download(session, dataset, member)
    taken = version(session=session, dataset=dataset, number=number)
    if taken.withdrawn:
        raise CommonsError(ErrorCode.VERSION_WITHDRAWN)
    assert taken.blob_sha256 is not None
    held = permissions.current_license(session, dataset, member) if member else None
    if held is not None and held.status == LicenseStatus.HELD:
        _release(session, held, dataset)
    session.add(Download(dataset_id=dataset.id, version_id=taken.id, member_id=member.id if member else None))
    dataset.download_count += 1
    _record(session, "datasets:version:download", member, dataset, {"version": taken.number})
    session.flush()
    return taken, store.path(taken.blob_sha256)


def usage(*, session: Session, actor: Member, dataset: Dataset, page: PageRequest) -> Page[UsageRead]:
    """Who took which version when: for the owners only."""
    permissions.require(session, Action.SEE_USAGE, dataset, actor)
    query = select(Download).where(Download.dataset_id == dataset.id).order_by(Download.id.desc())
    found = paginate(session, query, page)
    items = [
        UsageRead(
            handle=row.member.handle if row.member else None, version=row.version.number, at=row.created_at
        )
        for row in found.items
    ]
    return Page(items, found.total, found.page, found.size)


def counts(*, session: Session, dataset: Dataset) -> UsageCounts:
    """What everyone sees of a dataset's use: how many, never who."""
    sold = select(func.count()).where(
        DatasetLicense.dataset_id == dataset.id, DatasetLicense.status != LicenseStatus.REFUNDED
    )
    granted = select(func.count()).where(
        AccessRequest.dataset_id == dataset.id, AccessRequest.status == RequestStatus.APPROVED
    )
    return UsageCounts(
        downloads=dataset.download_count,
        licenses=session.scalar(sold) or 0,
        approved_requests=session.scalar(granted) or 0,
    )


def owned_by(*, session: Session, member: Member) -> list[Dataset]:
    query = select(Dataset).where(
        or_(Dataset.owner_member_id == member.id, Dataset.created_by_id == member.id)
    )
    return list(session.scalars(query.order_by(Dataset.title)))
