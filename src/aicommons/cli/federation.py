"""`aicommons federation …`: train models on data owners' nodes, follow runs, use the models."""

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aicommons.cli.common import EXIT_ERROR, FormatOption, OutputFormat, emit, errors
from aicommons.cli.remote import DEFAULT_SERVER, ServerOption, TokenOption, remote
from aicommons.sdk import Client, Models, Run, Runs

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    help="Train models on data owners' nodes (federated learning), follow runs, use the models.",
    no_args_is_help=True,
)
ProblemRef = Annotated[str, typer.Argument(help="the problem's slug or id")]
WAIT_SECONDS = 1800
POLL_SECONDS = 1.0


@app.command()
def nodes(
    problem: ProblemRef,
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """The nodes that can train for a problem, with their owners' policies."""
    with remote(server, token) as client:
        found = Runs(client).nodes(problem)
    table = Table("id", "name", "rows", "engine", "privacy", "max rounds", "max epochs")
    for node in found:
        privacy = "required" if node["require_privacy"] else "optional"
        budget = f", ε ≤ {node['max_epsilon']:g}" if node["max_epsilon"] else ""
        engine = "simulation" if node["simulated"] else "deployed"
        table.add_row(
            str(node["id"]),
            node["name"],
            str(node["rows"]),
            engine,
            privacy + budget,
            str(node["max_rounds"]),
            str(node["max_local_epochs"]),
        )
    emit(found, output, table)


@app.command()
def train(
    problem: ProblemRef,
    family: Annotated[str, typer.Option(help="logistic, linear or mlp")] = "logistic",
    strategy: Annotated[
        str, typer.Option(help="fedavg, fedprox, fedmedian, trimmed_mean or krum")
    ] = "fedavg",
    rounds: Annotated[int, typer.Option(min=1, max=100)] = 5,
    local_epochs: Annotated[int, typer.Option(min=1, max=100)] = 1,
    learning_rate: Annotated[float, typer.Option(min=0)] = 0.1,
    min_nodes: Annotated[int, typer.Option(min=1)] = 2,
    clip_norm: Annotated[float | None, typer.Option(help="differential privacy: clip each example")] = None,
    noise_multiplier: Annotated[float, typer.Option(min=0, help="differential privacy: the noise")] = 0.0,
    license_id: Annotated[str, typer.Option("--license", help="the model's SPDX license")] = "CC-BY-4.0",
    node: Annotated[
        list[int] | None,
        typer.Option(help="a node id to train on (repeat; default: every node that accepts)"),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="the run's seed: the same seed, the same run")] = 0,
    wait: Annotated[bool, typer.Option(help="follow the run with a progress bar until it ends")] = False,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Start a federated training run for a problem on the chosen nodes (`aicommons federation nodes`
    lists them), or on every node whose policy accepts it."""
    settings: dict[str, Any] = (
        {
            "family": family,
            "strategy": strategy,
            "rounds": rounds,
            "local_epochs": local_epochs,
            "learning_rate": learning_rate,
            "min_nodes": min_nodes,
            "noise_multiplier": noise_multiplier,
            "license": license_id,
            "seed": seed,
        }
        | ({"clip_norm": clip_norm} if clip_norm is not None else {})
        | ({"nodes": node} if node else {})
    )
    with remote(server, token) as client:
        run = Runs(client).start(problem, **settings)
        emit(None, OutputFormat.TEXT, f"Queued run {run.id} on nodes {run.json['node_ids']}.")
        if wait:
            _report(_follow(client, run))


def _follow(client: Client, run: Run) -> Run:
    """Poll the run, showing its rounds, until it succeeds or fails."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
    )
    deadline = time.monotonic() + WAIT_SECONDS
    with Progress(*columns, console=errors) as progress:
        task = progress.add_task(f"run {run.id}", total=run.json["rounds"], note="queued")
        while run.state in {"queued", "running"}:
            if time.monotonic() > deadline:
                errors.print(f"[red]timeout:[/red] see `aicommons federation run {run.id}` later")
                raise typer.Exit(EXIT_ERROR)
            time.sleep(POLL_SECONDS)
            run = Runs(client).get(run.id)
            progress.update(task, completed=len(run.completed_rounds), note=_latest(run))
    return run


def _latest(run: Run) -> str:
    if not run.completed_rounds:
        return run.state
    last = run.completed_rounds[-1]
    return ", ".join(f"{name} {value:.4f}" for name, value in last["metrics"].items())


def _report(run: Run) -> None:
    if run.state != "succeeded":
        errors.print(f"[red]run failed:[/red] {run.json.get('error')}")
        raise typer.Exit(EXIT_ERROR)
    emit(None, OutputFormat.TEXT, f"Run {run.id} succeeded: {_latest(run)}.")


@app.command("run")
def show_run(
    run_id: Annotated[int, typer.Argument(help="the run's id")],
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """A run's state and, per round, each node's contribution, reward and whether it was left out."""
    with remote(server, token) as client:
        run = Runs(client).get(run_id)
    table = Table(
        "round", "metrics", "node", "rows", "value", "reward", "left out", title=f"run {run.id}: {run.state}"
    )
    for one in run.completed_rounds:
        metrics = ", ".join(f"{name} {value:.4f}" for name, value in one["metrics"].items())
        for part in one["participants"]:
            table.add_row(
                str(one["number"]),
                metrics,
                str(part["node"]),
                str(part["rows"]),
                f"{part['value']:+.4f}",
                str(part["reward"]),
                part["left_out"] or "",
            )
            metrics = ""
    emit(run.json, output, table)


@app.command()
def model(
    slug: Annotated[str, typer.Argument(help="the model's slug")],
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """A model's card: its problem, license, contributors and their shares."""
    with remote(server, token) as client:
        found = Models(client).get(slug)
    table = Table("contributor", "share", title=f"{found.slug} ({found.license})")
    for part in found.contributors:
        table.add_row(part["account"], f"{part['share']:.1%}")
    table.caption = f"problem {found.card['problem']}, {found.architecture['family']} model"
    emit(found.json, output, table)


@app.command()
def predict(
    slug: Annotated[str, typer.Argument(help="the model's slug")],
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a .csv file of feature rows")],
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Predictions of a model for the rows of a CSV file (its feature columns)."""
    import pandas as pd

    rows = pd.read_csv(path)
    with remote(server, token) as client:
        predicted = Models(client).predict(slug, rows)
    table = Table("row", "prediction")
    for number, one in enumerate(predicted, start=1):
        table.add_row(str(number), str(one["label"] if isinstance(one, dict) else round(one, 4)))
    emit({"predictions": predicted}, output, table)
