"""HTML pages of the transparency log: the explorer, one entry with its proof, and how to verify them."""

import base64
import json
from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from aicommons.core.pagination import Paging
from aicommons.core.web import (
    DbSession,
    PageRenderer,
    query_filters,
    require_csrf,
    wants_fragment,
)
from aicommons.ledger import merkle, receipts, service
from aicommons.ledger.api import signer_key
from aicommons.ledger.models import LogCheckpoint
from aicommons.ledger.schemas import EntryFilter

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])

PAGE_SIZES = (20, 50, 100)
LAST_INDEX = 2**63 - 1  # the largest index a BIGINT holds; beyond it is a 422, not a database error


def entry_filters(request: Request) -> EntryFilter:
    """The filter form's fields; empty ones mean "any"."""
    return query_filters(EntryFilter, request)


Filters = Annotated[EntryFilter, Depends(entry_filters)]


@router.get("/ledger/explore")
def explorer(
    *, request: Request, pages: PageRenderer, session: DbSession, filters: Filters, page: Paging
) -> Response:
    """The newest checkpoint and the entries, newest first; HTMX requests of the filter form get the list."""
    found = receipts.search(session, filters, page)
    context: dict[str, Any] = {"found": found, "filters": filters, "page_sizes": PAGE_SIZES}
    if wants_fragment(request, "entries"):
        response = pages.render(request, "ledger/_entries.html", context)
    else:
        events = _event_choices(receipts.event_names(session), filters.event)
        context |= _head(request, session) | {"events": events}
        response = pages.render(request, "ledger/explore.html", context)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


@router.get("/ledger/explore/entries/{index}")
def entry_page(
    request: Request,
    index: Annotated[int, Path(ge=0, le=LAST_INDEX)],
    pages: PageRenderer,
    session: DbSession,
) -> Response:
    """One entry, its leaf hash and its inclusion proof against the newest checkpoint."""
    found = service.entry(session, index)
    head = _head(request, session)
    proof = service.inclusion_proof(session, index, head["checkpoint"].size).proof
    context = head | {
        "entry": found,
        "document": json.dumps(json.loads(found.body), indent=2, ensure_ascii=False, sort_keys=True),
        "exact": found.body.decode(),
        "leaf_hash": _b64(merkle.leaf_hash(found.body)),
        "proof": [_b64(digest) for digest in proof],
    }
    return pages.render(request, "ledger/entry.html", context)


def _head(request: Request, session: Session) -> dict[str, Any]:
    """The newest checkpoint as the pages show it, and what a verifier needs to check it."""
    checkpoint = service.latest_checkpoint(session)
    note = service.cosigned_note(session, checkpoint) if checkpoint else ""
    return {
        "checkpoint": checkpoint,
        "note": note,
        "root": _b64(checkpoint.root) if checkpoint else "",
        "witnesses": _witnesses(checkpoint, note),
        "server": str(request.base_url).rstrip("/"),
        "verifier_key": signer_key(request),
    }


def _witnesses(checkpoint: LogCheckpoint | None, note: str) -> list[str]:
    """The names on the cosignature lines that follow the commons' own signature ("— name signature")."""
    if checkpoint is None:
        return []
    lines = note[len(checkpoint.note) :].splitlines()
    return [line.split(" ")[1] for line in lines if line.startswith("— ") and line.count(" ") >= 2]


def _event_choices(names: list[str], current: str) -> list[tuple[str, list[str]]]:
    """Event names grouped by domain, for a select whose groups also filter by the domain alone.

    A prefix typed into the address bar stays selectable, so the form shows the filter in force.
    """
    if current and current not in {*names, *(name.split(":")[0] + ":" for name in names)}:
        names = sorted([*names, current])
    return [(domain, list(group)) for domain, group in groupby(names, key=lambda name: name.split(":")[0])]


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()
