"""`aicommons node start`: a data owner's node, training for the commons on rows that never leave it.

The command checks the file against the federated dataset's published schema, registers the node (its
key, row count and policy) with the commons, and runs Flower's SuperNode with the node's configuration;
the SuperNode's ClientApp (`aicommons.federation.flower:deployed_client`) enforces the policy on every
round and sends back only model weights and the row count.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from aicommons.cli.common import EXIT_ERROR, console, errors
from aicommons.cli.remote import TokenOption, credentials_path, remote
from aicommons.federation import plans
from aicommons.federation.plans import NodeData, NodePolicy
from aicommons.sdk import Datasets, Runs

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    help="Run a data owner's node: train for the commons on rows that never leave this machine.",
    no_args_is_help=True,
)
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_GRACE_SECONDS = 10.0
CommonsOption = Annotated[
    str, typer.Option("--commons", "--server", envvar="AICOMMONS_SERVER", help="the commons' URL")
]


@app.command()
def start(
    dataset: Annotated[str, typer.Option(help="the federated dataset's slug or id")],
    data: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="the rows (.csv or .parquet)")],
    commons: CommonsOption = "http://127.0.0.1:8000",
    token: TokenOption = None,
    name: Annotated[str | None, typer.Option(help="the node's name (default: this machine's)")] = None,
    superlink: Annotated[str | None, typer.Option(help="host:port (default: the commons' SuperLink)")] = None,
    port: Annotated[int, typer.Option(help="the SuperNode's local port (one per node on a machine)")] = 9094,
    root_certificates: Annotated[
        Path | None, typer.Option(exists=True, help="the SuperLink's CA certificate (TLS); none: insecure")
    ] = None,
    accept_problem: Annotated[
        list[int] | None, typer.Option(help="a problem id it trains for (repeat)")
    ] = None,
    max_rounds: Annotated[int, typer.Option(min=1)] = 50,
    max_local_epochs: Annotated[int, typer.Option(min=1)] = 10,
    require_privacy: Annotated[bool, typer.Option(help="train only with differential privacy")] = False,
    max_epsilon: Annotated[float | None, typer.Option(min=0, help="the privacy budget of a run")] = None,
) -> None:
    """Check DATA against DATASET's schema, register this node with the commons, and run its SuperNode."""
    node_name = name or _default_name()
    policy = NodePolicy(
        accepted_problems=tuple(accept_problem or ()),
        max_rounds=max_rounds,
        max_local_epochs=max_local_epochs,
        require_privacy=require_privacy,
        max_epsilon=max_epsilon,
    )
    with remote(commons, token) as client:
        rows = _checked(data, Datasets(client).versions(dataset)[-1].columns)
        runs = Runs(client)
        form = {"name": node_name, "dataset": dataset, "public_key": _public_key(node_name), "rows": rows}
        node = runs.register_node(**form, **_policy_fields(policy))
        address = superlink or runs.superlink()
    if not address:
        errors.print("[red]no_superlink:[/red] the commons has no SuperLink; pass --superlink HOST:PORT")
        raise typer.Exit(EXIT_ERROR)
    console.print(f"Node {node['id']} ({node_name}) trains on {rows:,} rows of {data}; SuperLink {address}.")
    raise typer.Exit(_supernode(address, port, root_certificates, node["id"], node_name, data, policy))


def _policy_fields(policy: NodePolicy) -> dict[str, Any]:
    return {
        "accepted_problems": list(policy.accepted_problems),
        "max_rounds": policy.max_rounds,
        "max_local_epochs": policy.max_local_epochs,
        "require_privacy": policy.require_privacy,
        "max_epsilon": policy.max_epsilon,
    }


def _default_name() -> str:
    return "".join(c if c.isalnum() else "-" for c in socket.gethostname().lower()).strip("-")[:60] or "node"


def _checked(data: Path, columns: list[dict[str, str]]) -> int:
    """The file's row count, once it has every published column."""
    try:
        names, rows = _shape(data)
    except (OSError, ValueError) as error:
        errors.print(f"[red]bad_data:[/red] {data} cannot be read: {error}")
        raise typer.Exit(EXIT_ERROR) from error
    missing = [column["name"] for column in columns if column["name"] not in names]
    if missing:
        errors.print(f"[red]bad_data:[/red] {data} lacks the published columns {missing[:5]}")
        raise typer.Exit(EXIT_ERROR)
    return rows


def _shape(data: Path) -> tuple[list[str], int]:
    if data.suffix == ".parquet":
        meta = pq.read_metadata(data)
        return meta.schema.names, meta.num_rows
    table = pacsv.read_csv(data)
    return table.column_names, table.num_rows


def _key_path(name: str) -> Path:
    return credentials_path().parent / "nodes" / f"{name}.key"


def _public_key(name: str) -> str:
    """The node's public key (OpenSSH, ECDSA P-384, as Flower's SuperNode authentication takes it); the
    private key is made once and kept next to the saved tokens, readable by the owner only."""
    path = _key_path(name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        private = ec.generate_private_key(ec.SECP384R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        path.touch(mode=0o600)
        path.write_bytes(pem)
    loaded = serialization.load_ssh_private_key(path.read_bytes(), password=None)
    public = loaded.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return public.decode()


def _supernode(
    address: str,
    port: int,
    certificates: Path | None,
    node_id: int,
    name: str,
    data: Path,
    policy: NodePolicy,
) -> int:
    """Run Flower's SuperNode for this node until it stops (Ctrl-C); its exit code."""
    node = NodeData(node_id, str(data.resolve()), policy)
    config = plans.node_config(node)
    security = ["--root-certificates", str(certificates)] if certificates else ["--insecure"]
    if certificates:  # with TLS the SuperLink admits the nodes the commons registered, by their keys
        security += ["--auth-supernode-private-key", str(_key_path(name))]
    command = [
        _flower("flower-supernode"),
        *security,
        "--superlink",
        address,
        "--port",
        str(port),
        "--node-config",
        " ".join(f"{key}={_toml(value)}" for key, value in config.items()),
    ]
    environment = os.environ | {
        "FLWR_TELEMETRY_ENABLED": "0",
        "FLWR_DISABLE_UPDATE_CHECK": "1",
        # the SuperNode starts Flower's other programs (flower-superexec, flwr-clientapp) by name
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    return _run_until_stopped(subprocess.Popen(command, env=environment))


def _run_until_stopped(supernode: subprocess.Popen[bytes]) -> int:
    """Wait for the SuperNode; a SIGTERM, SIGINT or SIGHUP sent to this command is passed on to it, so that
    stopping the command (`kill PID`, Ctrl-C, a closed terminal) stops the node too. A SuperNode still
    running `STOP_GRACE_SECONDS` after that is killed. 0 when it was stopped so, else its exit code."""
    stopping: list[float] = []

    def forward(signum: int, _frame: Any) -> None:
        stopping.append(time.monotonic())
        supernode.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
    try:
        while True:
            try:
                code = supernode.wait(timeout=0.5)
                return 0 if stopping else code
            except subprocess.TimeoutExpired:
                if stopping and time.monotonic() - stopping[0] > STOP_GRACE_SECONDS:
                    supernode.kill()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if supernode.poll() is None:
            supernode.kill()


def _flower(program: str) -> str:
    """A Flower program installed beside this Python (the same environment as aicommons)."""
    beside = Path(sys.executable).parent / program
    return str(beside) if beside.exists() else shutil.which(program) or program


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "") + "'"
