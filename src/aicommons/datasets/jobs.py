"""The datasets domain's background work: column statistics of a new version, computed with DuckDB."""

from typing import Any

from aicommons.core.blobs import BlobStore
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.jobs import Handler, JobContext
from aicommons.datasets import service, statistics
from aicommons.datasets.models import DatasetVersion


def statistics_job(store: BlobStore) -> Handler:
    """The handler of STATS_JOB for the commons whose blobs are in `store`."""

    def compute(context: JobContext) -> dict[str, Any]:
        with context.step() as session:
            found = session.get(DatasetVersion, context.payload["version_id"])
            if found is None or found.blob_sha256 is None:
                raise CommonsError(ErrorCode.VERSION_NOT_FOUND, "the version has no stored file")
            path, columns = store.path(found.blob_sha256), list(found.columns)
        figures = statistics.compute(path, columns, context.progress)
        with context.step() as session:
            service.save_statistics(
                session=session, version_id=context.payload["version_id"], statistics=figures
            )
        return {"columns": len(figures["columns"])}

    return compute
