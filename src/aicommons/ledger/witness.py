"""Witnesses (C2SP tlog-witness): a witness that cosigns the checkpoints it has seen grow, and the log's side.

The witness keeps, per log origin, the size and root of the last checkpoint it cosigned in a JSON file
of its data directory, and answers ``POST /add-checkpoint`` as the spec says: 404 for an unknown
origin, 403 when no trusted key signed the checkpoint, 400 for a malformed body or an old size beyond
the checkpoint, 409 (``text/x.tlog.size``, the stored size) when the old size is not the stored one,
422 when the consistency proof does not verify, and 200 with its cosignature line otherwise.

The log's side asks each configured witness to cosign its newest checkpoint, proving consistency from
the last size that witness cosigned, and keeps the cosignature lines it can verify.
"""

import base64
import binascii
import fcntl
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from aicommons.core.db import unit_of_work
from aicommons.core.security import ensure_signing_key
from aicommons.ledger import merkle, note, service
from aicommons.ledger.models import LogCosignature

log = logging.getLogger(__name__)

WITNESS_KEY = "witness.key"
SIZE_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
MAX_BODY = note.MAX_NOTE_BYTES + 64 * MAX_PROOF_LINES + 64
TIMEOUT = httpx.Timeout(5.0, connect=2.0)  # a slow witness must not hold up the worker for long
MAX_BACKOFF = 300.0
_OLD = re.compile(r"old (0|[1-9][0-9]*)")


class Refusal(Exception):
    """Why a witness will not cosign: an HTTP status, a message, and for 409 the size it holds."""

    def __init__(self, status: int, message: str, *, size: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.size = status, message, size

    def response(self) -> Response:
        if self.size is not None:
            # exactly text/x.tlog.size, as the spec says: Starlette would add a charset to a media type
            return Response(f"{self.size}\n", status_code=self.status, headers={"Content-Type": SIZE_TYPE})
        return PlainTextResponse(f"{self.message}\n", status_code=self.status)


@dataclass(frozen=True)
class Submission:
    """An add-checkpoint request: the old size, the consistency proof, and the signed checkpoint."""

    old: int
    proof: list[bytes]
    signed: str

    @classmethod
    def parse(cls, body: bytes) -> "Submission":
        """Read a request body strictly; anything malformed is a 400."""
        try:
            head, separator, signed = body.decode().partition("\n\n")
        except UnicodeDecodeError as error:
            raise Refusal(400, "the body is not UTF-8") from error
        lines = head.split("\n")
        match = _OLD.fullmatch(lines[0])
        if not separator or match is None:
            raise Refusal(400, "the body must start with 'old <size>', proof lines, and an empty line")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise Refusal(400, f"a consistency proof has at most {MAX_PROOF_LINES} lines")
        return cls(int(match[1]), [_proof_hash(line) for line in lines[1:]], signed)

    def body(self) -> str:
        proof = "".join(f"{base64.b64encode(digest).decode()}\n" for digest in self.proof)
        return f"old {self.old}\n{proof}\n{self.signed}"


def _proof_hash(line: str) -> bytes:
    """One consistency proof line: a 32-byte hash in canonical base64."""
    try:
        digest = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError) as error:
        raise Refusal(400, "a proof line is not base64") from error
    if len(digest) != merkle.HASH_SIZE or base64.b64encode(digest).decode() != line:
        raise Refusal(400, "a proof line is not a base64 32-byte hash")
    return digest


def _write_durably(path: Path, data: bytes) -> None:
    """Replace a file atomically, on disk before this returns (a witness must persist before answering)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Witness:
    """A witness: its cosigner, the logs it knows by origin, and its state directory."""

    def __init__(
        self, directory: Path, cosigner: note.Cosigner, logs: Mapping[str, Sequence[note.Verifier]]
    ) -> None:
        self.directory, self.cosigner, self.logs = directory, cosigner, logs
        (directory / "logs").mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_directory(cls, directory: Path, name: str, logs: Sequence[str]) -> "Witness":
        """The witness kept in `directory` (its key is created on first use) for logs given as ORIGIN=VKEY."""
        known: dict[str, list[note.Verifier]] = {}
        for configured in logs:
            origin, _, vkey = configured.partition("=")
            if not origin or not vkey:
                raise ValueError(f"{configured!r} is not ORIGIN=VKEY")
            known.setdefault(origin, []).append(note.Verifier.from_key(vkey))
        key = ensure_signing_key(directory / WITNESS_KEY)
        return cls(directory, note.Cosigner(name, key), known)

    def _state_path(self, origin: str) -> Path:
        readable = re.sub(r"[^A-Za-z0-9._-]", "_", origin)[:80]
        return self.directory / "logs" / f"{readable}-{hashlib.sha256(origin.encode()).hexdigest()[:16]}.json"

    @contextmanager
    def _locked(self, origin: str) -> Iterator[Path]:
        """Hold the log's lock: the check of the old size and the update happen as one (the spec's race)."""
        path = self._state_path(origin)
        with open(path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield path
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _verified(self, signed: str) -> note.Checkpoint:
        """The checkpoint, if a key trusted for its origin signed it (other signatures are ignored)."""
        try:
            checkpoint = note.Checkpoint.parse(note.open_note(signed)[0])
        except note.NoteError as error:
            raise Refusal(400, f"not a signed checkpoint: {error}") from error
        verifiers = self.logs.get(checkpoint.origin)
        if not verifiers:
            raise Refusal(404, f"unknown log origin {checkpoint.origin!r}")
        for verifier in verifiers:
            try:
                verifier.verify(signed)
                return checkpoint
            except note.NoteError:
                continue
        raise Refusal(403, f"no trusted key of {checkpoint.origin!r} signed the checkpoint")

    def add_checkpoint(self, body: bytes, *, now: float | None = None) -> str:
        """The cosignature line of a submitted checkpoint that extends the last one cosigned."""
        submission = Submission.parse(body)
        checkpoint = self._verified(submission.signed)
        if submission.old > checkpoint.size:
            raise Refusal(400, f"old size {submission.old} is beyond the checkpoint's {checkpoint.size}")
        with self._locked(checkpoint.origin) as path:
            size, root = _stored(path)
            if submission.old != size:
                raise Refusal(409, f"the last cosigned size is {size}", size=size)
            _check_consistency(size, root, checkpoint, submission.proof)
            state = {"origin": checkpoint.origin, "size": checkpoint.size, "root": _b64(checkpoint.root)}
            _write_durably(path, json.dumps(state | {"checkpoint": submission.signed}).encode())
        return self.cosigner.cosign(checkpoint, int(time.time() if now is None else now))


def _stored(path: Path) -> tuple[int, bytes]:
    """The size and root of the last checkpoint cosigned (0 and the empty root before the first)."""
    if not path.exists():
        return 0, merkle.EMPTY_ROOT
    state = json.loads(path.read_text())
    return int(state["size"]), base64.b64decode(state["root"])


def _check_consistency(size: int, root: bytes, checkpoint: note.Checkpoint, proof: list[bytes]) -> None:
    """The checkpoint must extend the stored tree: the same root at the same size, else a valid proof."""
    if size == checkpoint.size and not proof and root != checkpoint.root:
        raise Refusal(409, f"a checkpoint of size {size} with another root was cosigned: the log forked")
    try:
        merkle.verify_consistency(size, checkpoint.size, root, checkpoint.root, proof)
    except merkle.ProofError as error:
        raise Refusal(422, f"the consistency proof does not verify: {error}") from error


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


async def _body(request: Request) -> bytes:
    """The request body, refused when it is larger than any valid submission."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Refusal(400, f"the body is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_witness_app(witness: Witness) -> FastAPI:
    """The witness's HTTP service: POST /add-checkpoint (C2SP tlog-witness) and GET /key."""
    app = FastAPI(title=f"Witness {witness.cosigner.name}", docs_url=None, redoc_url=None)

    @app.post("/add-checkpoint", response_class=PlainTextResponse)
    async def add_checkpoint(request: Request) -> Response:
        """Cosign a checkpoint consistent with the last one cosigned for its log."""
        try:
            line = await run_in_threadpool(witness.add_checkpoint, await _body(request))
        except Refusal as refusal:
            return refusal.response()
        return PlainTextResponse(line)

    @app.get("/key", response_class=PlainTextResponse)
    def key() -> Response:
        """The witness's verifier key (tlog-cosignature v1), for logs to configure."""
        return PlainTextResponse(witness.cosigner.verifier_key() + "\n")

    return app


class WitnessError(Exception):
    """A witness did not give a cosignature the log could keep."""


@dataclass(frozen=True)
class RemoteWitness:
    """A witness the log asks for cosignatures: its submission URL and its verifier key."""

    url: str
    verifier: note.CosignatureVerifier

    @property
    def name(self) -> str:
        return self.verifier.name

    @classmethod
    def parse(cls, configured: str) -> "RemoteWitness":
        """A witness configured as "URL VKEY"."""
        url, _, vkey = configured.strip().partition(" ")
        if not url.startswith(("http://", "https://")) or not vkey:
            raise ValueError(f"{configured!r} is not 'URL VKEY'")
        return cls(url.rstrip("/"), note.CosignatureVerifier.from_key(vkey.strip()))


@dataclass(frozen=True)
class _Request:
    """What the log sends a witness: its newest checkpoint and the size that witness last cosigned."""

    checkpoint: note.Checkpoint
    signed: str
    old: int


def _pending(session: Session, witness: RemoteWitness) -> _Request | None:
    """The newest checkpoint, unless the witness has cosigned it already."""
    newest = service.latest_checkpoint(session)
    if newest is None:
        return None
    mine = select(func.max(LogCosignature.size)).where(LogCosignature.witness == witness.name)
    old = session.scalar(mine)
    if old == newest.size:
        return None
    checkpoint = note.Checkpoint.parse(note.open_note(newest.note)[0])
    return _Request(checkpoint, newest.note, old or 0)


def _proof(factory: sessionmaker[Session], old: int, new: int) -> list[bytes]:
    if old in (0, new):
        return []
    with unit_of_work(factory) as session:
        return service.consistency_proof(session, old, new)


def _stored_size(response: httpx.Response, witness: RemoteWitness, new: int) -> int:
    """The size a 409 says the witness holds, if the log can prove consistency from it."""
    if response.headers.get("content-type", "").split(";")[0].strip() != SIZE_TYPE:
        raise WitnessError(f"witness {witness.name} refuses the checkpoint: {response.text.strip()}")
    try:
        size = int(response.text.strip())
    except ValueError as error:
        raise WitnessError(f"witness {witness.name} answered 409 without a size") from error
    if not 0 <= size <= new:
        raise WitnessError(f"witness {witness.name} has cosigned size {size}, beyond our newest {new}")
    return size


def _cosignature(response: httpx.Response, witness: RemoteWitness, checkpoint: note.Checkpoint) -> str:
    """The first line of the witness's answer that verifies as its cosignature (others are ignored)."""
    for line in response.text.splitlines():
        try:
            witness.verifier.verify(checkpoint, line)
        except note.NoteError:
            continue
        return line
    raise WitnessError(f"witness {witness.name} answered no valid cosignature")


def _submit(
    factory: sessionmaker[Session], client: httpx.Client, witness: RemoteWitness, asked: _Request, old: int
) -> httpx.Response:
    """POST add-checkpoint with a consistency proof from `old`."""
    body = Submission(old, _proof(factory, old, asked.checkpoint.size), asked.signed).body()
    try:
        return client.post(f"{witness.url}/add-checkpoint", content=body.encode())
    except httpx.HTTPError as error:
        raise WitnessError(f"witness {witness.name} at {witness.url} is unreachable: {error}") from error


def _cosign(
    factory: sessionmaker[Session], client: httpx.Client, witness: RemoteWitness, asked: _Request
) -> str:
    """Submit the checkpoint; after a 409, submit it once more from the size the witness holds."""
    response = _submit(factory, client, witness, asked, asked.old)
    if response.status_code == 409:
        stored = _stored_size(response, witness, asked.checkpoint.size)
        response = _submit(factory, client, witness, asked, stored)
    if response.status_code != 200:
        raise WitnessError(f"witness {witness.name} answered {response.status_code}: {response.text.strip()}")
    return _cosignature(response, witness, asked.checkpoint)


def _keep(factory: sessionmaker[Session], witness: RemoteWitness, size: int, line: str) -> None:
    """Store a cosignature line; one stored by a concurrent worker is as good."""
    try:
        with unit_of_work(factory) as session:
            session.add(LogCosignature(size=size, witness=witness.name, line=line))
    except IntegrityError:
        log.debug("witness %s's cosignature of size %s is stored already", witness.name, size)


def cosign_newest(factory: sessionmaker[Session], witness: RemoteWitness, *, client: httpx.Client) -> bool:
    """Have `witness` cosign the newest checkpoint, if it has not yet; True when a line was added."""
    with unit_of_work(factory) as session:
        asked = _pending(session, witness)
    if asked is None:
        return False
    line = _cosign(factory, client, witness, asked)
    _keep(factory, witness, asked.checkpoint.size, line)
    return True


def collect_cosignatures(
    factory: sessionmaker[Session], witnesses: Sequence[RemoteWitness], *, client: httpx.Client
) -> list[str]:
    """Ask every witness to cosign the newest checkpoint; returns the names of those that failed.

    A failure is logged as a warning and never raised: a witness that is down must not stop the log.
    """
    failed = []
    for witness in witnesses:
        try:
            cosign_newest(factory, witness, client=client)
        except Exception as error:  # any failure of one witness is only a warning
            log.warning("no cosignature from witness %s: %s", witness.name, error)
            failed.append(witness.name)
    return failed


class WitnessChore:
    """The worker's chore: collect cosignatures, backing off (up to 5 minutes) from witnesses that fail."""

    def __init__(
        self, factory: sessionmaker[Session], witnesses: Sequence[RemoteWitness], *, client: httpx.Client
    ) -> None:
        self.factory, self.witnesses, self.client = factory, witnesses, client
        self.failures: dict[str, int] = {}
        self.retry_at: dict[str, float] = {}

    def __call__(self) -> None:
        now = time.monotonic()
        due = [w for w in self.witnesses if self.retry_at.get(w.name, 0.0) <= now]
        failed = set(collect_cosignatures(self.factory, due, client=self.client))
        for witness in due:
            if witness.name in failed:
                self.failures[witness.name] = self.failures.get(witness.name, 0) + 1
                self.retry_at[witness.name] = now + min(MAX_BACKOFF, 2.0 ** self.failures[witness.name])
            else:
                self.failures.pop(witness.name, None)


def witness_chore(factory: sessionmaker[Session], configured: Sequence[str]) -> WitnessChore:
    """The chore for witnesses configured as "URL VKEY" strings (AICOMMONS_WITNESSES).

    A witness whose key does not parse is left out with an error in the log: it must not stop the worker.
    """
    witnesses = []
    for line in configured:
        try:
            witnesses.append(RemoteWitness.parse(line))
        except ValueError as error:
            log.error("AICOMMONS_WITNESSES: %s; that witness is not asked", error)
    return WitnessChore(factory, witnesses, client=httpx.Client(timeout=TIMEOUT))
