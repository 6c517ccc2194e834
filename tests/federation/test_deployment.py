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
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


def test_three_node_processes_train_a_run_started_at_the_commons(
    commons, superlink, federated, make_member, token_for, tmp_path
):
    if "postgresql" in federated.database:
        pytest.skip("one engine test is enough: the database side is the simulation tests'")
    owner = federated.owner_headers["Authorization"].removeprefix("Bearer ")
    nodes = []
    for number in range(3):
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
            nodes.append(
                subprocess.Popen(
                    command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
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
