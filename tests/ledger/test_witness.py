"""Witnesses: the C2SP tlog-witness add-checkpoint protocol, and the log collecting cosignatures."""

import base64
import json
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from aicommons.app import create_app
from aicommons.core.config import Settings
from aicommons.core.db import unit_of_work
from aicommons.ledger import merkle, note, witness
from aicommons.ledger import service as ledger
from tests.conftest import LiveServer

ORIGIN = "example.org/log"
WITNESS = "witness.example/w1"


class Tree:
    """A log kept in memory: leaves, signed checkpoints and consistency proofs."""

    def __init__(self, signer: note.Signer) -> None:
        self.signer, self.leaves = signer, []

    def grow(self, count: int) -> None:
        self.leaves += [merkle.leaf_hash(f"entry {len(self.leaves) + n}".encode()) for n in range(count)]

    def checkpoint(self) -> note.Checkpoint:
        return note.Checkpoint(ORIGIN, len(self.leaves), merkle.root_from_leaves(self.leaves))

    def signed(self) -> str:
        return self.signer.sign(self.checkpoint().body())

    def proof(self, old: int) -> list[bytes]:
        def read(nodes):
            return [merkle.root_from_leaves(self.leaves[i << lv : (i + 1) << lv]) for lv, i in nodes]

        return merkle.consistency_proof(old, len(self.leaves), read)

    def body(self, old: int, proof: list[bytes] | None = None) -> bytes:
        proof = self.proof(old) if proof is None else proof
        return witness.Submission(old, proof, self.signed()).body().encode()


@pytest.fixture
def log_signer() -> note.Signer:
    return note.Signer(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture
def tree(log_signer) -> Tree:
    return Tree(log_signer)


@pytest.fixture
def service(tmp_path, log_signer) -> witness.Witness:
    return witness.Witness.from_directory(
        tmp_path / "witness", WITNESS, [f"{ORIGIN}={log_signer.verifier_key()}"]
    )


@pytest.fixture
def web(service) -> TestClient:
    return TestClient(witness.create_witness_app(service))


def cosignature_verifier(service: witness.Witness) -> note.CosignatureVerifier:
    return note.CosignatureVerifier.from_key(service.cosigner.verifier_key())


def test_a_checkpoint_that_grows_is_cosigned_and_remembered(web, service, tree, tmp_path):
    tree.grow(5)
    first = web.post("/add-checkpoint", content=tree.body(0))
    assert first.status_code == 200, first.text
    assert cosignature_verifier(service).verify(tree.checkpoint(), first.text) <= time.time()
    tree.grow(7)
    second = web.post("/add-checkpoint", content=tree.body(5))
    assert second.status_code == 200, second.text
    assert first.text.startswith(f"\u2014 {WITNESS} ") and second.text.endswith("\n")
    cosignature_verifier(service).verify(tree.checkpoint(), second.text)
    assert web.get("/key").text.strip() == service.cosigner.verifier_key()
    (state,) = (tmp_path / "witness" / "logs").glob("*.json")
    assert json.loads(state.read_text())["size"] == 12


def test_a_stale_old_size_gets_409_with_the_size_the_witness_holds(web, service, tree, tmp_path):
    tree.grow(9)
    assert web.post("/add-checkpoint", content=tree.body(0)).status_code == 200
    tree.grow(3)
    stale = web.post("/add-checkpoint", content=tree.body(0))
    assert (stale.status_code, stale.headers["content-type"], stale.text) == (409, witness.SIZE_TYPE, "9\n")
    restarted = TestClient(
        witness.create_witness_app(
            witness.Witness.from_directory(
                tmp_path / "witness", WITNESS, [f"{ORIGIN}={tree.signer.verifier_key()}"]
            )
        )
    )
    assert restarted.post("/add-checkpoint", content=tree.body(0)).text == "9\n"  # the state survives


def test_a_proof_that_does_not_verify_gets_422_and_changes_nothing(web, tree):
    tree.grow(9)
    web.post("/add-checkpoint", content=tree.body(0))
    tree.grow(3)
    proof = tree.proof(9)
    proof[0] = merkle.leaf_hash(b"not in the tree")
    assert web.post("/add-checkpoint", content=tree.body(9, proof)).status_code == 422
    assert web.post("/add-checkpoint", content=tree.body(9, proof[:-1])).status_code == 422
    assert web.post("/add-checkpoint", content=tree.body(9)).status_code == 200


def test_a_checkpoint_no_trusted_key_signed_gets_403(web, tree):
    tree.grow(2)
    tree.signer = note.Signer(ORIGIN, Ed25519PrivateKey.generate())  # same name, another key
    assert web.post("/add-checkpoint", content=tree.body(0)).status_code == 403


def test_an_unknown_origin_gets_404(web):
    stranger = note.Signer("stranger.example/log", Ed25519PrivateKey.generate())
    signed = stranger.sign(note.Checkpoint("stranger.example/log", 0, merkle.EMPTY_ROOT).body())
    assert web.post("/add-checkpoint", content=f"old 0\n\n{signed}".encode()).status_code == 404


def test_the_same_size_with_another_root_is_a_409_conflict(web, tree, log_signer):
    tree.grow(4)
    assert web.post("/add-checkpoint", content=tree.body(0)).status_code == 200
    forked = note.Checkpoint(ORIGIN, 4, merkle.leaf_hash(b"fork"))
    refused = web.post("/add-checkpoint", content=f"old 4\n\n{log_signer.sign(forked.body())}".encode())
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "body",
    [
        b"junk",
        b"\xff\xfe",
        b"old 01\n\n",
        b"old 1\nnot base64!\n\n",
        b"old 1\n" + base64.b64encode(b"short") + b"\n\n",
        b"old 0\n" + b"".join(base64.b64encode(bytes(32)) + b"\n" for _ in range(64)) + b"\n",
        b"old 0\n\nnot a note\n",
        b"x" * (witness.MAX_BODY + 1),
    ],
)
def test_a_malformed_body_gets_400(web, body):
    assert web.post("/add-checkpoint", content=body).status_code == 400


def test_an_old_size_beyond_the_checkpoint_gets_400(web, tree):
    tree.grow(3)
    assert web.post("/add-checkpoint", content=f"old 4\n\n{tree.signed()}".encode()).status_code == 400


def remote(service: witness.Witness, url: str = "http://testserver") -> witness.RemoteWitness:
    return witness.RemoteWitness.parse(f"{url} {service.cosigner.verifier_key()}")


@pytest.fixture
def commons_witness(tmp_path, log) -> witness.Witness:
    return witness.Witness.from_directory(
        tmp_path / "w", WITNESS, [f"{log.origin}={log.signer.verifier_key()}"]
    )


def record(factory, count: int) -> None:
    with unit_of_work(factory) as session:
        for n in range(count):
            ledger.record(session, "tests:thing:happen", actor_id=None, data={"n": n})


def test_the_log_collects_cosignatures_and_serves_them_with_its_checkpoint(
    factory, sequence, client, commons_witness
):
    web = TestClient(witness.create_witness_app(commons_witness))
    record(factory, 7)
    sequence()
    assert witness.collect_cosignatures(factory, [remote(commons_witness)], client=web) == []
    record(factory, 30)
    sequence()
    assert witness.collect_cosignatures(factory, [remote(commons_witness)], client=web) == []
    served = client.get("/ledger/checkpoint").text
    checkpoint, _ = cosignature_verifier(commons_witness).verify_note(served)
    assert checkpoint.size == 37
    assert witness.cosign_newest(factory, remote(commons_witness), client=web) is False  # nothing new


def test_a_witness_that_lost_its_state_is_asked_again_from_the_size_it_holds(
    factory, sequence, client, commons_witness, tmp_path, log
):
    web = TestClient(witness.create_witness_app(commons_witness))
    record(factory, 5)
    sequence()
    witness.collect_cosignatures(factory, [remote(commons_witness)], client=web)
    for state in (tmp_path / "w" / "logs").glob("*.json"):
        state.unlink()  # the witness starts over at size 0; the log believes it holds size 5
    record(factory, 5)
    sequence()
    assert witness.collect_cosignatures(factory, [remote(commons_witness)], client=web) == []
    assert (
        cosignature_verifier(commons_witness).verify_note(client.get("/ledger/checkpoint").text)[0].size == 10
    )


def test_a_cosignature_by_another_key_is_not_kept(factory, sequence, client, commons_witness, tmp_path):
    web = TestClient(witness.create_witness_app(commons_witness))
    impostor = note.Cosigner(WITNESS, Ed25519PrivateKey.generate())
    configured = witness.RemoteWitness.parse(f"http://testserver {impostor.verifier_key()}")
    record(factory, 3)
    sequence()
    assert witness.collect_cosignatures(factory, [configured], client=web) == [WITNESS]
    assert len(note.open_note(client.get("/ledger/checkpoint").text)[1]) == 1


def wait_for(condition, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_the_worker_has_a_running_witness_cosign_and_a_dead_one_changes_nothing(
    factory, settings, tmp_path, log
):
    alive = witness.Witness.from_directory(
        tmp_path / "w", WITNESS, [f"{log.origin}={log.signer.verifier_key()}"]
    )
    dead = note.Cosigner("dead.example/w", Ed25519PrivateKey.generate()).verifier_key()
    with LiveServer(witness.create_witness_app(alive)) as witness_url:
        witnesses = [f"http://127.0.0.1:9 {dead}", f"{witness_url} {alive.cosigner.verifier_key()}"]
        commons = create_app(settings.model_copy(update={"run_worker": True, "witnesses": witnesses}))
        with LiveServer(commons) as url:
            record(factory, 12)

            def cosigned() -> str | None:
                served = httpx.get(f"{url}/ledger/checkpoint").text
                return served if served.split("\n")[1] == "12" and served.count("\u2014") == 2 else None

            served = wait_for(cosigned)
    assert cosignature_verifier(alive).verify_note(served)[0].size == 12


def test_a_dead_witness_never_stops_the_sequencer(factory, settings, caplog):
    dead = note.Cosigner("dead.example/w", Ed25519PrivateKey.generate()).verifier_key()
    commons = create_app(
        settings.model_copy(update={"run_worker": True, "witnesses": [f"http://127.0.0.1:9 {dead}"]})
    )
    with LiveServer(commons) as url:
        for size in (4, 8, 12):
            record(factory, 4)
            wait_for(lambda size=size: httpx.get(f"{url}/ledger/checkpoint").text.split("\n")[1] == str(size))
    assert "no cosignature from witness dead.example/w" in caplog.text


def test_witness_settings_are_checked(factory, caplog):
    with pytest.raises(ValueError, match="URL VKEY"):
        Settings(witnesses=["no-url-here"])
    with pytest.raises(ValueError):
        witness.RemoteWitness.parse("http://w.example not-a-key")
    chore = witness.witness_chore(factory, ["http://w.example not-a-key"])
    assert chore.witnesses == []
    assert "that witness is not asked" in caplog.text


def test_the_commons_serves_its_key_at_a_well_known_address(client, log):
    assert client.get("/.well-known/aicommons/ledger-key").text.strip() == log.signer.verifier_key()
    assert client.get("/ledger/key").text.strip() == log.signer.verifier_key()


def test_a_witness_keeps_its_key_across_restarts(tmp_path, log_signer):
    logs = [f"{ORIGIN}={log_signer.verifier_key()}"]
    first = witness.Witness.from_directory(tmp_path / "w", WITNESS, logs)
    again = witness.Witness.from_directory(tmp_path / "w", WITNESS, logs)
    assert first.cosigner.verifier_key() == again.cosigner.verifier_key()
    assert (Path(tmp_path / "w" / witness.WITNESS_KEY).stat().st_mode & 0o777) == 0o600


def test_an_auditor_can_require_a_quorum_of_witness_cosignatures(
    factory, sequence, live_server, commons_witness, tmp_path
):
    from aicommons.ledger import audit

    record(factory, 9)
    sequence()
    web = TestClient(witness.create_witness_app(commons_witness))
    assert witness.collect_cosignatures(factory, [remote(commons_witness)], client=web) == []
    known = commons_witness.cosigner.verifier_key()
    report = audit.verify(live_server, state_dir=tmp_path / "a", witness_keys=[known])
    assert (report.witnessed, report.cosignatures) == (1, 1)
    stranger = note.Cosigner("stranger.example/w", Ed25519PrivateKey.generate()).verifier_key()
    with pytest.raises(audit.AuditError) as refused:
        audit.verify(live_server, state_dir=tmp_path / "b", witness_keys=[known, stranger])
    assert refused.value.what == "witnesses"
    either = audit.verify(live_server, state_dir=tmp_path / "c", witness_keys=[known, stranger], quorum=1)
    assert either.witnessed == 1
