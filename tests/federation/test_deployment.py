"""Flower's Deployment Engine as docs/federated-deployment.md runs it: a SuperLink, the commons, and three
nodes started with `aicommons node start`, each its own process; a run trains on them."""

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

import aicommons.app
from tests.conftest import LiveServer
from tests.federation.conftest import run_figures

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def flower_environment(home: Path) -> dict[str, str]:
    return os.environ | {
        "FLWR_HOME": str(home),
        "FLWR_TELEMETRY_ENABLED": "0",
        "FLWR_DISABLE_UPDATE_CHECK": "1",
    }


def wait_for(check, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds:g} s"
        time.sleep(0.5)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class Link:
    address: str
    certificates: Path | None  # the CA certificate, when the SuperLink has TLS and admits nodes by key


@pytest.fixture(params=["insecure", "tls"])
def superlink(request, tmp_path: Path) -> Iterator[Link]:
    """A SuperLink on a free port leaving the server's side of runs to the commons: without TLS, or with
    TLS and node authentication (it admits only the SuperNodes whose keys the commons registered)."""
    port, ca = free_port(), None
    security = ["--insecure"]
    if request.param == "tls":
        ca, certificate, key = certificates(tmp_path / "certificates")
        security = [
            "--ssl-ca-certfile",
            str(ca),
            "--ssl-certfile",
            str(certificate),
            "--ssl-keyfile",
            str(key),
        ]
        security.append("--enable-supernode-auth")
    command = [
        str(BIN / "flower-superlink"),
        *security,
        "--disable-runtime-dependency-installation",
        "--isolation",
        "process",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with (tmp_path / "superlink.log").open("w") as log:  # the process keeps its own copy of the file
        process = subprocess.Popen(
            command,
            env=flower_environment(tmp_path / "superlink"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: _healthy(port, ca), "the SuperLink's start", 60)
        yield Link(f"127.0.0.1:{port}", ca)
    finally:
        stop([process])


def _healthy(port: int, ca: Path | None) -> bool:
    scheme = "https" if ca else "http"
    try:
        answer = httpx.get(f"{scheme}://127.0.0.1:{port}/health", timeout=1, verify=str(ca) if ca else True)
        return answer.status_code == 200
    except httpx.HTTPError:
        return False


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate it signed for 127.0.0.1 with its key: the SuperLink's TLS files."""
    folder.mkdir(parents=True)
    ca_key, key = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP384R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    now = datetime.now(UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.crt", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    pem = serialization.PrivateFormat.TraditionalOpenSSL
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, pem, serialization.NoEncryption()))
    return paths


@pytest.fixture
def commons(settings, superlink: Link) -> Iterator[str]:
    """The commons with its job worker, configured with the SuperLink."""
    link = {"superlink": superlink.address, "superlink_certificates": superlink.certificates}
    configured = settings.model_copy(update={"run_worker": True} | link)
    with LiveServer(aicommons.app.create_app(configured)) as url:
        yield url


def start_node(commons: str, superlink: Link, federated, number: int, tmp_path: Path) -> subprocess.Popen:
    """`aicommons node start` for the `number`th clinic's file, as the dataset's owner, in its own session."""
    owner = federated.owner_headers["Authorization"].removeprefix("Bearer ")
    command = [
        sys.executable,
        "-m",
        "aicommons",
        "node",
        "start",
        "--commons",
        commons,
        "--token",
        owner,
        "--dataset",
        federated.dataset,
        "--data",
        str(federated.files[number]),
        "--name",
        f"clinic-{number}",
        "--port",
        str(free_port()),
        *(["--root-certificates", str(superlink.certificates)] if superlink.certificates else []),
    ]
    environment = flower_environment(tmp_path / f"node-{number}") | {
        "AICOMMONS_CONFIG_DIR": str(tmp_path / f"config-{number}")
    }
    with (tmp_path / f"node-{number}.log").open("w") as log:
        return subprocess.Popen(
            command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def runs(process: psutil.Process, program: str) -> bool:
    """Whether `program` runs among the process's descendants (one that ends while we look does not)."""
    try:
        return any(program in " ".join(one.cmdline()) for one in process.children(recursive=True))
    except psutil.Error:
        return False


def test_stopping_node_start_stops_its_supernode(commons, superlink, federated, tmp_path):
    """`kill PID` of `aicommons node start` (SIGTERM to it alone) stops the SuperNode it runs: no node keeps
    training for the commons after its owner stopped it (issue 16, item 7)."""
    if "postgresql" in federated.database or superlink.certificates:
        pytest.skip("the signal is the node's business: one database and one SuperLink suffice")
    started = start_node(commons, superlink, federated, 0, tmp_path)
    try:
        node = psutil.Process(started.pid)
        both = lambda: runs(node, "flower-supernode") and runs(node, "flower-superexec")  # noqa: E731
        wait_for(both, "the SuperNode", 90)
        family = node.children(recursive=True)  # the SuperNode and the programs it started
        os.kill(started.pid, signal.SIGTERM)
        assert started.wait(timeout=30) == 0
        _, alive = psutil.wait_procs(family, timeout=30)
        assert [one.pid for one in alive] == [], [" ".join(one.cmdline()) for one in alive]
    finally:
        stop([started])


def test_three_node_processes_train_a_run_started_at_the_commons(
    commons, superlink, federated, make_member, token_for, tmp_path
):
    if "postgresql" in federated.database:
        pytest.skip("one engine test is enough: the database side is the simulation tests'")
    nodes = [start_node(commons, superlink, federated, number, tmp_path) for number in range(3)]
    try:
        listed = lambda: httpx.get(f"{commons}/api/v1/problems/{federated.slug}/nodes").json()  # noqa: E731
        wait_for(lambda: len(listed()) == 3, "the three nodes' registration", 90)
        solver = token_for(make_member("liam"))
        form = {"rounds": 2, "local_epochs": 2, "min_nodes": 3, "seed": 5}
        finished = train_once(commons, federated.slug, form, solver)
        registered = {node["id"] for node in listed()}
        for one in finished["completed_rounds"]:
            assert {part["node"] for part in one["participants"]} <= registered
            assert sum(part["left_out"] is None for part in one["participants"]) >= 2
        assert finished["completed_rounds"][-1]["metrics"]["accuracy"] > 0.85
        again = train_once(commons, federated.slug, form, solver)  # the same run: the same figures
        assert run_figures(again) == run_figures(finished)
    finally:
        stop(nodes)


def train_once(commons: str, problem: str, form: dict, solver: dict[str, str]) -> dict:
    started = httpx.post(f"{commons}/api/v1/problems/{problem}/runs", json=form, headers=solver)
    assert started.status_code == 202, started.text
    run = lambda: httpx.get(f"{commons}/api/v1/runs/{started.json()['id']}").json()  # noqa: E731
    wait_for(lambda: run()["state"] in {"succeeded", "failed"}, "the run's end", 300)
    finished = run()
    assert finished["state"] == "succeeded", finished["error"]
    return finished


def ssh_public_key() -> str:
    key = ec.generate_private_key(ec.SECP384R1()).public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def deployed_node(name: str, key: str, federated) -> dict:
    return {"name": name, "dataset": federated.dataset, "public_key": key, "rows": 100}


def test_a_superlink_that_cannot_be_reached_is_a_superlink_refused_problem(
    settings, federated, client, tmp_path
):
    """Registering a deployed node while the SuperLink is down answers the documented 502, not a bare 500,
    and registers nothing (issue 16, item 5)."""
    ca, _, _ = certificates(tmp_path / "tls")
    down = {"superlink": f"127.0.0.1:{free_port()}", "superlink_certificates": ca}
    with TestClient(aicommons.app.create_app(settings.model_copy(update=down))) as commons:
        sent = commons.post(
            "/api/v1/nodes",
            json=deployed_node("clinic-x", ssh_public_key(), federated),
            headers=federated.owner_headers,
        )
    assert (sent.status_code, sent.json()["code"]) == (502, "superlink_refused")
    assert "cannot be reached" in sent.json()["detail"]
    assert client.get(f"/api/v1/problems/{federated.slug}/nodes").json() == []


def test_a_key_the_superlink_knows_already_is_a_superlink_refused_problem(commons, superlink, federated):
    if "postgresql" in federated.database or not superlink.certificates:
        pytest.skip("only a SuperLink that authenticates its nodes registers keys")
    key = ssh_public_key()
    first = httpx.post(
        f"{commons}/api/v1/nodes",
        json=deployed_node("clinic-a", key, federated),
        headers=federated.owner_headers,
    )
    assert first.status_code == 201, first.text
    again = httpx.post(
        f"{commons}/api/v1/nodes",
        json=deployed_node("clinic-b", key, federated),
        headers=federated.owner_headers,
    )
    assert (again.status_code, again.json()["code"]) == (502, "superlink_refused")
    assert [
        node["name"] for node in httpx.get(f"{commons}/api/v1/problems/{federated.slug}/nodes").json()
    ] == ["clinic-a"]
