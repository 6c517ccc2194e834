"""The log served the C2SP tlog-tiles way under /ledger, and JSON conveniences under /api/v1/ledger."""

import base64
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse

from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Paging
from aicommons.core.web import DbSession
from aicommons.ledger import receipts, service, tiles, tokens
from aicommons.ledger.schemas import (
    LAST_INDEX,
    BalancesRead,
    CheckpointRead,
    ConsistencyRead,
    EntryFilter,
    EntryPage,
    EntryRead,
    InclusionRead,
)

tlog = APIRouter(prefix="/ledger", tags=["ledger (tlog-tiles)"])
router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
well_known = APIRouter(prefix="/.well-known/aicommons", tags=["ledger (tlog-tiles)"])

IMMUTABLE = "public, max-age=31536000, immutable"
FRESH = "no-cache"
EntryIndex = Annotated[int, Path(ge=0, le=LAST_INDEX, description="the entry's index, from 0")]
TreeSize = Annotated[int, Query(ge=0, le=LAST_INDEX, description="a tree size the log has signed")]


def signer_key(request: Request) -> str:
    key: str = request.app.state.log.signer.verifier_key()
    return key


@tlog.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(session: DbSession) -> Response:
    """The newest signed checkpoint, with the witnesses' cosignatures."""
    latest = service.latest_checkpoint(session)
    if latest is None:
        raise CommonsError(ErrorCode.NOT_FOUND, "the log has not signed a checkpoint yet")
    note = service.cosigned_note(session, latest)
    return PlainTextResponse(note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": FRESH})


@tlog.get("/key", response_class=PlainTextResponse)
def key(request: Request) -> Response:
    """The verifier key of the commons' checkpoints (signed-note format)."""
    return PlainTextResponse(signer_key(request) + "\n", headers={"Cache-Control": "public, max-age=3600"})


@well_known.get("/ledger-key", response_class=PlainTextResponse)
def well_known_key(request: Request) -> Response:
    """The verifier key of the commons' checkpoints, at its well-known address."""
    return key(request)


@tlog.get("/tile/{path:path}")
def tile(path: str, session: DbSession) -> Response:
    """A hash tile (`tile/<L>/<N>[.p/<W>]`) or an entry bundle (`tile/entries/<N>[.p/<W>]`)."""
    try:
        level, index, width = tiles.parse_tile_path(f"tile/{path}")
    except ValueError as error:
        raise CommonsError(ErrorCode.TILE_NOT_FOUND, str(error)) from error
    data = receipts.tile_bytes(session, level, index, width)
    cache = FRESH if width is not None else IMMUTABLE
    return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})


@router.get("/checkpoint")
def checkpoint_json(session: DbSession) -> CheckpointRead:
    latest = service.latest_checkpoint(session)
    if latest is None:
        raise CommonsError(ErrorCode.NOT_FOUND, "the log has not signed a checkpoint yet")
    return CheckpointRead.of(latest, service.cosigned_note(session, latest))


@router.get("/entries")
def entries(filters: Annotated[EntryFilter, Query()], page: Paging, session: DbSession) -> EntryPage:
    """Entries newest first, filtered by event, actor or community."""
    return EntryPage.of(receipts.search(session, filters, page))


@router.get("/entries/{index}")
def entry(index: EntryIndex, session: DbSession) -> EntryRead:
    return EntryRead.of(service.entry(session, index))


@router.get("/entries/{index}/proof")
def inclusion(
    index: EntryIndex,
    session: DbSession,
    size: TreeSize | None = None,
) -> InclusionRead:
    """The entry's inclusion proof in the tree of `size` entries (the newest checkpoint by default)."""
    proved = service.inclusion_proof(session, index, size)
    leaf = base64.b64encode(proved.leaf_hash).decode()
    return InclusionRead(index=index, size=proved.size, leaf_hash=leaf, proof=_b64(proved.proof))


@router.get("/entries/{index}/receipt", response_class=PlainTextResponse)
def receipt(index: EntryIndex, session: DbSession) -> Response:
    """An offline receipt in the C2SP tlog-proof format: the entry's proof and the signed checkpoint."""
    return PlainTextResponse(receipts.tlog_proof(session, index), media_type="text/plain; charset=utf-8")


@router.get("/consistency")
def consistency(
    old: TreeSize,
    new: TreeSize,
    session: DbSession,
) -> ConsistencyRead:
    return ConsistencyRead(old=old, new=new, proof=_b64(service.consistency_proof(session, old, new)))


@router.get("/balances")
def balances(session: DbSession, size: TreeSize | None = None) -> BalancesRead:
    """Every non-zero balance as of the first `size` entries: what a replay of those entries must give."""
    size = service.tree_size(session) if size is None else size
    if not 0 <= size <= service.tree_size(session):
        raise CommonsError(ErrorCode.BAD_TREE_SIZE, f"tree size {size} is beyond the newest checkpoint")
    return BalancesRead(size=size, balances=tokens.balances_at(session, size))


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(digest).decode() for digest in hashes]
