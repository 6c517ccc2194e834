"""Flower's Deployment Engine as docs/federated-deployment.md runs it: a SuperLink, the commons, and three
nodes started with `aicommons node start`, each its own process; a run trains on them."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import aicommons.app
from tests.conftest import LiveServer

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


@pytest.fixture
def superlink(tmp_path: Path) -> Iterator[str]:
    """A SuperLink on a free port, without TLS, leaving the server's side of runs to the commons."""
    port = free_port()
    command = [
        str(BIN / "flower-superlink"),
        "--insecure",
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
        wait_for(lambda: _healthy(port), "the SuperLink's start", 60)
        yield f"127.0.0.1:{port}"
    finally:
        stop([process])


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def commons(settings, superlink) -> Iterator[str]:
    """The commons with its job worker, configured with the SuperLink."""
    configured = settings.model_copy(update={"run_worker": True, "superlink": superlink})
    with LiveServer(aicommons.app.create_app(configured)) as url:
        yield url


def test_three_node_processes_train_a_run_started_at_the_commons(
    commons, federated, make_member, token_for, tmp_path
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
        form = {"rounds": 2, "local_epochs": 2, "min_nodes": 3}
        started = httpx.post(f"{commons}/api/v1/problems/{federated.slug}/runs", json=form, headers=solver)
        assert started.status_code == 202, started.text
        run = lambda: httpx.get(f"{commons}/api/v1/runs/{started.json()['id']}").json()  # noqa: E731
        wait_for(lambda: run()["state"] in {"succeeded", "failed"}, "the run's end", 300)
        finished = run()
        assert finished["state"] == "succeeded", finished["error"]
        registered = {node["id"] for node in listed()}
        for one in finished["completed_rounds"]:
            assert {part["node"] for part in one["participants"]} <= registered
            assert sum(part["left_out"] is None for part in one["participants"]) >= 2
        assert finished["completed_rounds"][-1]["metrics"]["accuracy"] > 0.85
    finally:
        stop(nodes)
