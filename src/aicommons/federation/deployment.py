"""Flower's Deployment Engine: the commons runs a run's server side itself against a SuperLink, and the data
owners' SuperNodes (`aicommons node start`) train on their own machines.

The SuperLink runs with `--isolation process`, so that no process of its own claims the server's task.
For each run the commons registers a Flower App with the SuperLink (its `pyproject.toml` only: the
SuperNodes load the ClientApp `aicommons.federation.flower:deployed_client` from the installed
package), claims the run's ServerApp task over the SuperLink's runtime API, and drives the rounds with
`flower.train_on_grid` on an `HttpGrid` in this process, beating the task's heartbeat meanwhile, so that
each round reaches the job as in the simulation engine. Flower keeps the running task's identity in a
process-wide object, so a process runs one deployed run at a time (the job worker runs one job at a time).
"""

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flwr.cli.build import build_fab_from_files
from flwr.common.config import get_fused_config_from_fab
from flwr.common.constant import SubStatus
from flwr.common.serde import context_from_proto, fab_to_proto, run_from_proto, user_config_to_proto
from flwr.proto.control_pb2 import RegisterNodeRequest, StartRunRequest
from flwr.proto.runtime_pb2 import (
    AcquireTaskRequest,
    PullTaskInputRequest,
    PushTaskOutputRequest,
    SendTaskHeartbeatRequest,
)
from flwr.supercore.constant import TaskType
from flwr.supercore.control.control_http_client import ControlHttpClient
from flwr.supercore.fab import Fab
from flwr.supercore.interceptors import RuntimeVersionHttpInterceptor
from flwr.supercore.primitives.asymmetric import public_key_to_bytes
from flwr.supercore.runtime import RuntimeHttpClient
from flwr.supercore.task_identity import TaskIdentity
from flwr.superlink.grid import HttpGrid

from aicommons.federation.flower import quiet, train_on_grid
from aicommons.federation.plans import Evaluation, RoundReport, RunSettings, Weights

FLOWER_APP = b"""
[project]
name = "aicommons-run"
version = "1.0.0"
description = "A federated training run of an AI Commons"
license = "Apache-2.0"
dependencies = []

[tool.flwr.app]
publisher = "aicommons"

[tool.flwr.app.components]
serverapp = "aicommons.federation.flower:deployed_server"
clientapp = "aicommons.federation.flower:deployed_client"
"""
CLAIM_SECONDS = 30.0
HEARTBEAT_SECONDS = 20.0  # the SuperLink drops a task 60 s after its last heartbeat


def train(
    evaluation: Evaluation,
    settings: RunSettings,
    on_round: Callable[[RoundReport], None],
    *,
    superlink: str,
    certificates: bytes | None = None,
) -> Weights:
    """Run the rounds on the SuperNodes connected to `superlink` (host:port); the final weights."""
    quiet()
    run_id = _start(superlink, certificates)
    with _server_task(superlink, certificates, run_id) as grid:
        return train_on_grid(grid, evaluation, settings, on_round)


def _clients(superlink: str, certificates: bytes | None, kind: Any, component: str) -> Any:
    return kind.from_server_address(
        server_address=superlink,
        insecure=certificates is None,
        root_certificates=certificates,
        interceptors=[RuntimeVersionHttpInterceptor(component_name=component)],
    )


def _start(superlink: str, certificates: bytes | None) -> int:
    """Register the run's Flower App with the SuperLink; the SuperLink's id of the run."""
    content, _ = build_fab_from_files({"pyproject.toml": FLOWER_APP})
    app = Fab(hashlib.sha256(content).hexdigest(), content, {})
    control = _clients(superlink, certificates, ControlHttpClient, "flwr CLI")
    try:
        request = StartRunRequest(
            fab=fab_to_proto(app), override_config=user_config_to_proto({}), federation=""
        )
        started = control.StartRun(request)
    finally:
        control.close()
    if not started.HasField("run_id"):
        raise RuntimeError(f"the SuperLink at {superlink} did not start the run")
    return int(started.run_id)


@contextmanager
def _server_task(superlink: str, certificates: bytes | None, run_id: int) -> Iterator[HttpGrid]:
    """Claim the run's ServerApp task, and yield a grid on it while a thread beats its heartbeat."""
    grid = HttpGrid(
        runtime_api_address=superlink,
        insecure=certificates is None,
        root_certificates=certificates,
        token=_claim(superlink, certificates, run_id),
    )
    runtime = grid._runtime_client  # the token's client: the task's own calls go through it
    task = runtime.PullTaskInput(PullTaskInputRequest())
    TaskIdentity.task_id, TaskIdentity.run_id = task.task_id, task.run.run_id
    TaskIdentity.node_id = task.context.node_id
    run = run_from_proto(task.run)
    grid.set_run(run)
    context = context_from_proto(task.context)
    context.run_config = get_fused_config_from_fab(task.fab.content, run)
    stop, outcome = threading.Event(), SubStatus.FAILED
    threading.Thread(target=_beat, args=(runtime, stop), daemon=True).start()
    try:
        yield grid
        outcome = SubStatus.COMPLETED
    finally:
        stop.set()
        try:
            runtime.PushTaskOutput(PushTaskOutputRequest(sub_status=outcome, details=""))
        finally:
            grid.close()


def _claim(superlink: str, certificates: bytes | None, run_id: int) -> str:
    """The token of the run's ServerApp task, once the SuperLink hands it out."""
    runtime = _clients(superlink, certificates, RuntimeHttpClient, "SuperExec")
    deadline = time.monotonic() + CLAIM_SECONDS
    try:
        while time.monotonic() < deadline:
            offered = runtime.AcquireTask(AcquireTaskRequest(supported_task_types=[TaskType.SERVER_APP]))
            if offered.HasField("task") and offered.token:
                if offered.task.run_id != run_id:
                    raise RuntimeError(f"the SuperLink offered run {offered.task.run_id}, not {run_id}")
                return str(offered.token)
            time.sleep(0.1)
    finally:
        runtime.close()
    raise RuntimeError(f"the SuperLink at {superlink} did not hand out run {run_id}'s server task")


def _beat(runtime: Any, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            runtime.SendTaskHeartbeat(SendTaskHeartbeatRequest())
        except Exception:
            continue


def admit(*, superlink: str, certificates: bytes, public_key: str, name: str) -> int:
    """Register a node's public key (OpenSSH, a NIST EC key) with a SuperLink that authenticates its
    SuperNodes (`--enable-supernode-auth`); the SuperLink's id of the node."""
    key = serialization.load_ssh_public_key(public_key.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("a SuperNode's key is an elliptic-curve key (ECDSA on a NIST curve)")
    control = _clients(superlink, certificates, ControlHttpClient, "flwr CLI")
    try:
        admitted = control.RegisterNode(RegisterNodeRequest(public_key=public_key_to_bytes(key), name=name))
    except httpx.HTTPStatusError as error:  # e.g. the key is registered already
        raise RuntimeError(
            f"the SuperLink answered {error.response.status_code}: {error.response.text[:200]}"
        ) from None
    except httpx.HTTPError as error:
        raise RuntimeError(f"the SuperLink at {superlink} cannot be reached: {error}") from None
    finally:
        control.close()
    if not admitted.node_id:
        raise RuntimeError(f"the SuperLink at {superlink} did not admit node {name}")
    return int(admitted.node_id)
