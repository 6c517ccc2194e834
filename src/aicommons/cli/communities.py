"""`aicommons communities …`: browse, show, join and leave communities on a running commons."""

import time
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Column, Table

from aicommons.cli.common import FormatOption, OutputFormat, emit
from aicommons.cli.remote import DEFAULT_SERVER, ServerOption, TokenOption, remote

app = typer.Typer(
    pretty_exceptions_show_locals=False, help="Browse, join and leave communities.", no_args_is_help=True
)


@app.command("list")
def list_communities(
    q: Annotated[str | None, typer.Option(help="text to search for")] = None,
    community_format: Annotated[
        str | None, typer.Option("--kind", help="discussion, event, project, …")
    ] = None,
    sector: Annotated[str | None, typer.Option(help="a sector such as health")] = None,
    sdg: Annotated[int | None, typer.Option(min=1, max=17, help="an SDG number")] = None,
    region: Annotated[str | None, typer.Option(help="a region such as africa")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """List the communities you may see, filtered."""
    with remote(server, token) as client:
        found = client.communities(
            q=q, format=community_format, sector=sector, sdg=sdg, region=region, page=page
        )
    table = Table(Column("slug", no_wrap=True), "name", "format", "SDGs", "region", "members")
    table.title = f"{found['total']} communities"
    for item in found["items"]:
        sdgs = ",".join(map(str, item["sdgs"]))
        table.add_row(
            item["slug"], item["name"], item["format"], sdgs, item["region"], str(item["member_count"])
        )
    emit(found, output, table)


@app.command()
def show(
    slug: str,
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Show one community."""
    with remote(server, token) as client:
        found = client.community(slug)
    heading = f"[bold]{found['name']}[/bold] ({found['format']}, {found['region']})"
    emit(found, output, f"{heading} — {found['member_count']} members\n{found['description']}")


@app.command()
def join(slug: str, server: ServerOption = DEFAULT_SERVER, token: TokenOption = None) -> None:
    """Join a community (or ask to join, or accept an invitation)."""
    with remote(server, token) as client:
        membership = client.join(slug)
    emit(
        membership,
        OutputFormat.TEXT,
        f"{membership['status'].capitalize()} in {slug} as {membership['role']}.",
    )


@app.command()
def leave(slug: str, server: ServerOption = DEFAULT_SERVER, token: TokenOption = None) -> None:
    """Leave a community (or withdraw a request, or decline an invitation)."""
    with remote(server, token) as client:
        client.leave(slug)
    emit(None, OutputFormat.TEXT, f"Left {slug}.")


@app.command("refresh-stats")
def refresh_stats(
    slug: str,
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Recompute a community's statistics in the background, following the job with a progress bar."""
    with remote(server, token) as client, Progress(transient=True) as progress:
        job = client.refresh_stats(slug)
        bar = progress.add_task(f"job {job['id']}", total=1.0)
        while job["state"] in ("queued", "running"):
            progress.update(bar, completed=job["progress"], description=job["message"] or job["state"])
            time.sleep(0.2)
            job = client.job(job["id"])
    emit(job, output, f"Job {job['id']} {job['state']}: {job['result'] or job['error']}")
