"""`aicommons governance`: recount a proposal's tally from a commons' public log."""

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from aicommons.cli.common import EXIT_ERROR, FormatOption, OutputFormat, console, emit, errors
from aicommons.cli.ledger import _progress as reading  # the same bar as `ledger verify`
from aicommons.governance import audit as recounting
from aicommons.ledger import audit

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    help="Governance: recount a proposal's tally from the public log and compare it with the published one.",
    no_args_is_help=True,
)


@app.command()
def tally(
    proposal: Annotated[int, typer.Argument(min=1, help="the proposal's number")],
    from_log: Annotated[
        str,
        typer.Option("--from-log", help="a commons' URL (its log and API), or a mirror directory of its log"),
    ],
    output: OutputFormat = FormatOption,
) -> None:
    """Recount PROPOSAL's tally from the log alone and compare it with what the commons published.

    Every entry under the log's signed checkpoint is read and hashed into its root; only the members
    in the snapshot's entries vote (others' votes are reported, not counted); each vote's power is
    checked against the token transfers of the snapshot's entries; each voter's last vote counts.
    The recount is compared with the tally the log recorded at the close and with the one the
    commons' API publishes. Exits 1 on any difference, or when the log does not verify.
    """
    try:
        with reading("reading the log") as moved:
            found = recounting.check(from_log, proposal, progress=moved)
    except audit.AuditError as error:
        errors.print(f"[red]Verification failed ({error.what}):[/red] {escape(error.message)}")
        raise typer.Exit(EXIT_ERROR) from error
    differences = found.differences()
    if output is OutputFormat.JSON:
        emit(_document(found, differences), output)
    else:
        _show(found, differences)
    if differences:
        raise typer.Exit(EXIT_ERROR)


def _document(found: recounting.Recount, differences: list[str]) -> dict[str, object]:
    return {
        "proposal": found.proposal,
        "log_size": found.size,
        "votes_read": found.votes,
        "electorate": found.electorate,
        "recounted": found.tally,
        "recorded": found.recorded,
        "published": found.published,
        "differences": differences,
        "agrees": not differences,
    }


def _show(found: recounting.Recount, differences: list[str]) -> None:
    if found.tally is not None:
        table = Table(
            title=f"Proposal {found.proposal}: {found.votes} vote entries in {found.size} log entries"
        )
        for column in ("", "recounted from the log", "recorded at the close", "published"):
            table.add_column(column, justify="left" if not column else "right")
        for key in recounting.COMPARED:
            cells = [
                found.tally.get(key),
                *(source.get(key) if source else "—" for source in (found.recorded, found.published)),
            ]
            table.add_row(key, *(escape(str(cell)) for cell in cells))
        console.print(table)
    for difference in differences:
        errors.print(f"[red]Differs:[/red] {escape(difference)}")
    if not differences:
        typer.echo(
            f"proposal {found.proposal}: the tally recounted from the log matches the published result"
        )
