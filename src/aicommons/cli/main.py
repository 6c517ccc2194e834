"""The root `aicommons` command: setup, database, serving, workers, and each domain's commands."""

import signal
import threading
from typing import Annotated

import typer

from aicommons import __version__
from aicommons.cli import (
    communities,
    datasets,
    demo,
    federation,
    governance,
    ledger,
    members,
    node,
    problems,
    remote,
)
from aicommons.cli.common import console, load_settings
from aicommons.cli.server import initialise, serve_commons
from aicommons.core import migrate
from aicommons.core.db import make_engine, make_session_factory

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    help="AI Commons: communities, data and models for the SDGs.",
    no_args_is_help=True,
)
db = typer.Typer(
    pretty_exceptions_show_locals=False,
    help="The database: apply and inspect migrations.",
    no_args_is_help=True,
)
app.add_typer(db, name="db")
app.add_typer(members.app, name="members")
app.add_typer(communities.app, name="communities")
app.add_typer(datasets.app, name="datasets")
app.add_typer(ledger.app, name="ledger")
app.add_typer(problems.app, name="problems")
app.add_typer(federation.app, name="federation")
app.add_typer(governance.app, name="governance")
app.add_typer(node.app, name="node")
app.command()(remote.login)


def _version(show: bool) -> None:
    if show:
        typer.echo(f"aicommons {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Every setting also comes from AICOMMONS_* environment variables (see docs/configuration.md)."""


@app.command()
def init() -> None:
    """Create the data directory, the database and the commons' Ed25519 signing key."""
    settings = load_settings()
    initialise(settings)
    console.print(
        f"Commons ready in [bold]{settings.data_dir}[/bold] (signing key {settings.signing_key_path})."
    )


@db.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply migrations up to REVISION (the newest by default)."""
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.resolved_database_url, revision)
    console.print(f"Database at revision {migrate.current(settings.resolved_database_url)}.")


@db.command("current")
def db_current() -> None:
    """Print the database's migration revision ("empty" before `aicommons init`)."""
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    typer.echo(migrate.current(settings.resolved_database_url) or "empty")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="listen address [env AICOMMONS_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="listen port [env AICOMMONS_PORT]")] = None,
    workers: Annotated[int | None, typer.Option(help="web server processes [env AICOMMONS_WORKERS]")] = None,
) -> None:
    """Serve the web UI and the API."""
    serve_commons(load_settings(), host=host, port=port, workers=workers)


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="run until the queue is empty, then exit")] = False,
) -> None:
    """Run background jobs in this process; start several to share the work."""
    from aicommons.app import log_identity, make_worker

    settings = load_settings()
    engine = make_engine(settings.resolved_database_url)
    job_worker = make_worker(settings, make_session_factory(engine), log_identity(settings))
    console.print(f"Worker {job_worker.name} started.")
    if burst:
        ran = 0
        while job_worker.run_once() is not None:
            ran += 1
        console.print(f"Queue empty after {ran} job(s).")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    job_worker.run_until(stop)
    engine.dispose()


app.command(name="demo")(demo.demo)
