"""The log over HTTP: tlog-tiles resources and headers, JSON proofs, receipts, and events on the log."""

import base64
import json

import pytest

from aicommons.core.db import unit_of_work
from aicommons.ledger import merkle, tiles, tokens
from aicommons.ledger.note import Checkpoint, Verifier
from aicommons.members.models import GlobalRole
from tests.communities.conftest import community_form


@pytest.fixture
def busy_log(client, make_member, token_for, sequence):
    """A log with the foundation's events: sign-ups, a community, a join, a leave, tokens and roles."""
    steward = token_for(make_member("steward"))
    visitor = token_for(make_member("visitor"))
    client.post("/api/v1/communities", headers=steward, json=community_form("nurses"))
    client.post("/api/v1/communities/nurses/members", headers=visitor)
    client.delete("/api/v1/communities/nurses/members/me", headers=visitor)
    client.post("/api/v1/communities/nurses/archive", headers=steward)
    admin = token_for(make_member("root", GlobalRole.ADMIN))
    client.put("/api/v1/members/visitor/role", headers=admin, json={"role": "moderator"})
    sequence()
    return client


def events(client) -> list[str]:
    page = client.get("/api/v1/ledger/entries", params={"size": 100}).json()
    return [item["event"] for item in reversed(page["items"])]


def test_the_foundations_significant_actions_are_on_the_log(busy_log):
    assert events(busy_log) == [
        "members:member:signup",
        "members:token:create",
        "members:member:signup",
        "members:token:create",
        "communities:community:create",
        "communities:member:join",
        "communities:member:join",
        "communities:member:leave",
        "communities:community:archive",
        "members:member:signup",
        "members:token:create",
        "members:member:role",
    ]


def test_personal_data_is_never_on_the_log(busy_log):
    bodies = [
        base64.b64decode(e["body"]) for e in busy_log.get("/api/v1/ledger/entries?size=100").json()["items"]
    ]
    text = b"".join(bodies).decode()
    assert "@example.org" not in text
    assert "visitor" not in text and "Steward" not in text


def test_checkpoint_is_served_as_a_signed_note_with_short_caching(busy_log, log):
    response = busy_log.get("/ledger/checkpoint")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    key = busy_log.get("/ledger/key").text.strip()
    assert key == log.signer.verifier_key()
    checkpoint = Checkpoint.parse(Verifier.from_key(key).verify(response.text))
    assert (checkpoint.origin, checkpoint.size) == (log.origin, 12)


def test_tiles_and_entry_bundles_follow_tlog_tiles(busy_log):
    size = Checkpoint.parse(busy_log.get("/ledger/checkpoint").text.split("\n\n")[0] + "\n").size
    partial = busy_log.get(f"/ledger/tile/0/000.p/{size}")
    assert (partial.status_code, partial.headers["content-type"]) == (200, "application/octet-stream")
    assert len(partial.content) == 32 * size
    bundle = tiles.decode_bundle(busy_log.get(f"/ledger/tile/entries/000.p/{size}").content)
    leaves = [merkle.leaf_hash(entry) for entry in bundle]
    assert b"".join(leaves) == partial.content
    assert busy_log.get("/ledger/tile/0/000").status_code == 404  # not full yet
    assert busy_log.get(f"/ledger/tile/0/000.p/{size + 1}").status_code == 404
    assert busy_log.get("/ledger/tile/0/x1").json()["code"] == "tile_not_found"


def test_full_tiles_are_immutable(client, factory, sequence):
    with unit_of_work(factory) as session:
        for n in range(256):
            tokens.mint(session, key=f"k{n}", target="treasury", amount=1, reason="tests")
    sequence()
    response = client.get("/ledger/tile/0/000")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert len(response.content) == 32 * 256


def test_json_inclusion_and_consistency_proofs_verify(busy_log):
    checkpoint = busy_log.get("/api/v1/ledger/checkpoint").json()
    root = base64.b64decode(checkpoint["root"])
    proof = busy_log.get("/api/v1/ledger/entries/4/proof").json()
    merkle.verify_inclusion(
        4,
        proof["size"],
        base64.b64decode(proof["leaf_hash"]),
        [base64.b64decode(h) for h in proof["proof"]],
        root,
    )
    old_proof = busy_log.get("/api/v1/ledger/entries/2/proof", params={"size": 5}).json()
    assert old_proof["size"] == 5
    consistency = busy_log.get("/api/v1/ledger/consistency", params={"old": 5, "new": 12}).json()
    assert len(consistency["proof"]) >= 1
    for bad in ({"old": 0, "new": 5}, {"old": 6, "new": 5}, {"old": 5, "new": 13}):
        assert busy_log.get("/api/v1/ledger/consistency", params=bad).json()["code"] == "bad_tree_size"
    assert busy_log.get("/api/v1/ledger/entries/12").json()["code"] == "log_entry_not_found"


def test_an_offline_receipt_in_tlog_proof_format(busy_log, log):
    receipt = busy_log.get("/api/v1/ledger/entries/3/receipt").text
    head, note = receipt.split("\n\n", 1)
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    entry = base64.b64decode(lines[1].removeprefix("extra "))
    assert lines[2] == "index 3"
    checkpoint = Checkpoint.parse(Verifier.from_key(log.signer.verifier_key()).verify(note))
    proof = [base64.b64decode(line) for line in lines[3:]]
    merkle.verify_inclusion(3, checkpoint.size, merkle.leaf_hash(entry), proof, checkpoint.root)
    assert json.loads(entry)["event"] == "members:token:create"


def test_entries_filter_by_event_actor_and_community(busy_log):
    def found(**params):
        return busy_log.get("/api/v1/ledger/entries", params=params).json()["total"]

    assert found(event="communities:member") == 3
    assert found(event="members:") == 7
    assert found(community=1) == 5
    assert found(actor=1) == 5  # the steward: sign-up, token, create, join, archive
    assert busy_log.get("/api/v1/ledger/entries", params={"event": "DROP TABLE"}).status_code == 422


def test_member_transfers_through_the_api_replay_to_the_reported_balances(
    client, make_member, token_for, factory, sequence
):
    alice = make_member("alice")
    token_for(make_member("bob"))
    headers = token_for(alice)
    with unit_of_work(factory) as session:
        tokens.mint(session, key="gift", target=tokens.member_account(alice.id), amount=50, reason="tests")
    send = {"to": "bob", "amount": 20, "note": "for the dataset", "idempotency_key": "pay-1"}
    first = client.post("/api/v1/me/transfers", headers=headers, json=send)
    again = client.post("/api/v1/me/transfers", headers=headers, json=send)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    broke = client.post(
        "/api/v1/me/transfers", headers=headers, json=send | {"amount": 31, "idempotency_key": "pay-2"}
    )
    assert (broke.status_code, broke.json()["code"]) == (409, "insufficient_funds")
    for bad in ({"amount": 0}, {"amount": -5}, {"to": "ghost"}, {"idempotency_key": ""}, {"note": "n" * 501}):
        assert client.post("/api/v1/me/transfers", headers=headers, json=send | bad).status_code in (404, 422)
    account = client.get("/api/v1/me/account", headers=headers).json()
    assert (account["balance"], account["total"]) == (30, 2)
    sequence()
    reported = client.get("/api/v1/ledger/balances").json()
    entries = [
        json.loads(base64.b64decode(e["body"]))
        for e in client.get("/api/v1/ledger/entries?size=100").json()["items"]
    ]
    assert tokens.replay(entries) == reported["balances"]
    assert reported["balances"][tokens.member_account(alice.id)] == 30
