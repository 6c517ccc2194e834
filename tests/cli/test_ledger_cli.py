"""`aicommons ledger` as an auditor and a witness operator type it."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from aicommons.app import log_identity
from aicommons.core.db import unit_of_work
from aicommons.ledger import merkle, note, tiles, tokens, witness
from aicommons.ledger import service as ledger
from aicommons.ledger.models import Account
from tests.cli.test_cli import aicommons

SIZE = 40 + 2


@pytest.fixture
def commons(factory, live_server) -> str:
    """A running commons with entries and two mints on its log."""
    with unit_of_work(factory) as session:
        for n in range(40):
            ledger.record(session, "tests:thing:happen", actor_id=None, data={"n": n})
        tokens.mint(session, key="a", target="member:1", amount=5, reason="tests")
        tokens.mint(session, key="b", target="member:2", amount=7, reason="tests")
    deadline = time.monotonic() + 30
    while httpx.get(f"{live_server}/ledger/checkpoint").text.split("\n")[1] != str(SIZE):
        assert time.monotonic() < deadline, "the log was not sequenced"
        time.sleep(0.05)
    return live_server


def test_help_of_every_ledger_command():
    for command in (
        ["ledger"],
        ["ledger", "key"],
        ["ledger", "verify"],
        ["ledger", "mirror"],
        ["ledger", "witness"],
    ):
        shown = aicommons(*command, "--help", env={})
        assert shown.returncode == 0, shown.stderr
        assert "Usage" in shown.stdout


def test_key_prints_the_verifier_key_of_the_data_directory(env, settings, commons):
    shown = aicommons("ledger", "key", env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == log_identity(settings).signer.verifier_key()
    assert httpx.get(f"{commons}/.well-known/aicommons/ledger-key").text.strip() == shown.stdout.strip()


def test_key_without_a_commons_exits_1(tmp_path):
    shown = aicommons("ledger", "key", env={"AICOMMONS_DATA_DIR": str(tmp_path / "none")})
    assert (shown.returncode, "aicommons init" in shown.stderr) == (1, True)


def test_verify_a_commons_then_again_then_after_its_balances_were_tampered_with(env, commons, factory):
    first = aicommons("ledger", "verify", commons, env=env)
    assert first.returncode == 0, first.stderr
    assert f"verified {SIZE} entries, root " in first.stdout
    assert "balances of 3 accounts match" in first.stdout
    again = aicommons("ledger", "verify", commons, "--format", "json", env=env)
    assert json.loads(again.stdout)["previous_size"] == SIZE
    state = Path(env["AICOMMONS_CONFIG_DIR"]) / "witness" / "aicommons.local_log"
    assert (state / "witness-state").exists()
    with unit_of_work(factory) as session:
        session.execute(update(Account).where(Account.owner == "member:1").values(balance=99))
    refused = aicommons("ledger", "verify", commons, env=env)
    assert refused.returncode == 1
    assert "Verification failed (balances)" in refused.stderr
    assert "member:1: the log gives 5, the commons reports 99" in refused.stderr


def test_mirror_then_verify_the_copy_and_catch_a_changed_byte(env, commons, tmp_path):
    copy = tmp_path / "copy"
    mirrored = aicommons("ledger", "mirror", commons, str(copy), env=env)
    assert mirrored.returncode == 0, mirrored.stderr
    assert f"verified {SIZE} entries" in mirrored.stdout
    assert (copy / "checkpoint").exists() and (copy / tiles.entries_path(0, SIZE)).exists()
    bundle = copy / tiles.entries_path(0, SIZE)
    data = bytearray(bundle.read_bytes())
    data[30] ^= 1
    bundle.write_bytes(bytes(data))
    refused = aicommons("ledger", "verify", str(copy), "--state-dir", str(copy), env=env)
    assert refused.returncode == 1
    assert "Verification failed (root)" in refused.stderr


def test_verify_with_a_wrong_key_exits_1(env, commons):
    other = note.Signer("aicommons.local/log", Ed25519PrivateKey.generate()).verifier_key()
    refused = aicommons("ledger", "verify", commons, "--key", other, env=env)
    assert (refused.returncode, "Verification failed (signature)" in refused.stderr) == (1, True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_witness_run_from_the_command_line_cosigns(tmp_path):
    signer = note.Signer("example.org/log", Ed25519PrivateKey.generate())
    port = free_port()
    command = [sys.executable, "-m", "aicommons", "ledger", "witness", "--name", "w.example/1"]
    command += ["--log", f"example.org/log={signer.verifier_key()}", "--port", str(port)]
    command += ["--data-dir", str(tmp_path / "w")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            vkey = next(line.strip() for line in process.stdout if line.startswith("w.example/1+"))
            checkpoint = note.Checkpoint("example.org/log", 1, merkle.leaf_hash(b"one"))
            body = witness.Submission(0, [], signer.sign(checkpoint.body())).body()
            response = None
            for _ in range(200):
                try:
                    response = httpx.post(f"http://127.0.0.1:{port}/add-checkpoint", content=body)
                    break
                except httpx.ConnectError:
                    time.sleep(0.05)
            assert response is not None and response.status_code == 200, response
            note.CosignatureVerifier.from_key(vkey).verify(checkpoint, response.text)
        finally:
            process.terminate()


def test_a_witness_with_a_bad_log_setting_exits_2(tmp_path):
    shown = aicommons(
        "ledger", "witness", "--name", "w", "--log", "no-key-here", "--data-dir", str(tmp_path), env={}
    )
    assert (shown.returncode, "ORIGIN=VKEY" in shown.stderr) == (2, True)
