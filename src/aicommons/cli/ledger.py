"""`aicommons ledger`: the verifier key, audits and mirrors of a commons' log, and a witness."""

import base64
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from aicommons.cli.common import (
    EXIT_ERROR,
    EXIT_USAGE,
    FormatOption,
    OutputFormat,
    console,
    emit,
    errors,
    load_settings,
)
from aicommons.ledger import audit
from aicommons.ledger import witness as witnesses
from aicommons.ledger.note import NoteError

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    help="The transparency log: its verifier key, audits and mirrors of it, and a witness for other logs.",
    no_args_is_help=True,
)

KeyOption = Annotated[
    str | None,
    typer.Option("--key", help="the log's verifier key; by default the one pinned on first use"),
]
StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="where the pinned key and the last verified checkpoint are kept "
        "(default: ~/.local/state/aicommons/witness/ORIGIN, or $AICOMMONS_CONFIG_DIR/witness/ORIGIN)",
    ),
]
WorkersOption = Annotated[int, typer.Option(min=1, max=32, help="parallel downloads")]


def default_state_dir(origin: str) -> Path:
    """Where `verify` remembers a log, by origin, unless told otherwise."""
    configured = os.environ.get("AICOMMONS_CONFIG_DIR")
    state_home = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    base = Path(configured) if configured else Path(state_home) / "aicommons"
    return base / "witness" / re.sub(r"[^A-Za-z0-9._-]", "_", origin)


@contextmanager
def _audit_errors() -> Iterator[None]:
    """An audit that finds a mismatch prints what disagreed and exits 1."""
    try:
        yield
    except audit.AuditError as error:
        errors.print(f"[red]Verification failed ({error.what}):[/red] {escape(error.message)}")
        raise typer.Exit(EXIT_ERROR) from error


@contextmanager
def _progress(description: str) -> Iterator[audit.Progress]:
    """A Rich progress bar on stderr, and the callback that moves it."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=errors, transient=True) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _summary(report: audit.Report) -> str:
    """The line that says what was verified."""
    root = base64.b64encode(report.root).decode()
    if report.accounts is None:
        balances = "balances not checked (the source reports none)"
    else:
        balances = f"balances of {report.accounts} accounts match"
    line = f"verified {report.size} entries, root {root}, {balances}"
    if report.previous_size is not None:
        line += f"; consistent with size {report.previous_size} verified before"
    if report.witnessed:
        line += f"; cosigned by {report.witnessed} of the witnesses given"
    return line


def _verify(
    location: str,
    key: str | None,
    state_dir: Path,
    workers: int,
    witnesses: Sequence[str] = (),
    quorum: int | None = None,
) -> audit.Report:
    with _progress("verifying entries") as progress:
        return audit.verify(
            location,
            verifier_key=key,
            state_dir=state_dir,
            progress=progress,
            workers=workers,
            witness_keys=witnesses,
            quorum=quorum,
        )


def _report(report: audit.Report, output: OutputFormat) -> None:
    data = {
        "origin": report.origin,
        "size": report.size,
        "root": base64.b64encode(report.root).decode(),
        "previous_size": report.previous_size,
        "accounts": report.accounts,
        "cosignatures": report.cosignatures,
        "witnessed": report.witnessed,
    }
    if output is OutputFormat.JSON:
        emit(data, output)
    else:
        typer.echo(_summary(report))  # one line, never wrapped: scripts grep it


@app.command()
def key() -> None:
    """Print this commons' verifier key (from the signing key in the data directory) for auditors."""
    from aicommons.app import log_identity

    settings = load_settings()
    if not settings.signing_key_path.exists():
        errors.print(f"[red]No signing key at {settings.signing_key_path}:[/red] run `aicommons init` first.")
        raise typer.Exit(EXIT_ERROR)
    typer.echo(log_identity(settings).signer.verifier_key())


@app.command()
def verify(
    source: Annotated[str, typer.Argument(help="a commons' URL, or a mirror directory")],
    key: KeyOption = None,
    state_dir: StateOption = None,
    workers: WorkersOption = audit.WORKERS,
    output: OutputFormat = FormatOption,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness", help="a witness's cosignature verifier key (repeatable); it must have cosigned"
        ),
    ] = None,
    quorum: Annotated[
        int | None,
        typer.Option(min=0, help="how many of the --witness keys must have cosigned (default: all)"),
    ] = None,
) -> None:
    """Verify a whole log: its signature, every entry, the tiles, the history, and the balances.

    SOURCE is a commons' URL (e.g. https://commons.example.org) or a mirror directory. Every entry
    is hashed into the root the checkpoint signs and compared with the tiles; the first entries must
    still hash to the checkpoint verified before (kept in the state directory, as a witness does);
    and the token transfers must replay to the balances the commons reports.

    The first run trusts the key the commons serves and pins it (trust on first use); pass --key to
    check against a key you got another way. Exits 1 with what disagreed on any mismatch.
    """
    with _audit_errors():
        state = state_dir or default_state_dir(audit.origin_of(source))
        report = _verify(source, key, state, workers, witness or [], quorum)
    _report(report, output)


@app.command()
def mirror(
    url: Annotated[str, typer.Argument(help="the commons' URL")],
    directory: Annotated[Path, typer.Argument(help="the mirror directory (created if missing)")],
    key: KeyOption = None,
    state_dir: Annotated[
        Path | None,
        typer.Option("--state-dir", help="where the mirror's verification state is kept (default: DIR)"),
    ] = None,
    workers: WorkersOption = audit.WORKERS,
    output: OutputFormat = FormatOption,
) -> None:
    """Bring a local copy of a log up to date (only what is missing is fetched), then verify the copy.

    URL is the commons' URL; DIRECTORY holds the copy in the layout of the log's URLs (checkpoint,
    key, tile/...), so that it can itself be served or verified, and the state of its verification.
    """
    with _audit_errors():
        with _progress("fetching tiles") as progress:
            fetched = audit.sync(url, directory, progress=progress, workers=workers)
        errors.print(f"Fetched {fetched} files into {directory}.")
        report = _verify(str(directory), key, state_dir or directory, workers)
    _report(report, output)


@app.command()
def witness(
    name: Annotated[str, typer.Option(help="the witness's key name, e.g. witness.example.org/w1")],
    log: Annotated[
        list[str], typer.Option("--log", help="a log this witness cosigns, as ORIGIN=VKEY (repeatable)")
    ],
    host: Annotated[str, typer.Option(help="listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="listen port")] = 7380,
    data_dir: Annotated[Path, typer.Option(help="where the witness's key and state live")] = Path(
        ".aicommons-witness"
    ),
) -> None:
    """Run a witness (C2SP tlog-witness add-checkpoint) that cosigns the logs it is given."""
    try:
        service = witnesses.Witness.from_directory(data_dir, name, log)
    except (ValueError, NoteError) as error:
        errors.print(f"[red]Bad witness setting:[/red] {escape(str(error))}")
        raise typer.Exit(EXIT_USAGE) from error
    console.print(f"Witness {escape(name)} on http://{host}:{port}/add-checkpoint, verifier key:")
    typer.echo(service.cosigner.verifier_key())
    uvicorn.run(witnesses.create_witness_app(service), host=host, port=port, log_level="warning", ws="none")
