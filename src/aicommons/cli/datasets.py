"""`aicommons datasets …`: publish, find, show and download datasets of a running commons."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Column, Table

from aicommons.cli.common import EXIT_USAGE, FormatOption, OutputFormat, emit, errors
from aicommons.cli.remote import DEFAULT_SERVER, ServerOption, TokenOption, remote
from aicommons.sdk import Dataset, Datasets
from aicommons.sdk.files import Progress as ProgressCallback

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    help="Publish, find, show and download datasets.",
    no_args_is_help=True,
)
DataFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a .csv or .parquet file")]


@contextmanager
def transfer(description: str) -> Iterator[ProgressCallback]:
    """A byte progress bar on stderr (stdout stays clean for programs); bad local files exit 2."""
    columns = (TextColumn(description), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        bar = progress.add_task(description, total=None)
        try:
            yield lambda done, total: progress.update(bar, completed=done, total=total)
        except (OSError, ValueError) as error:
            errors.print(f"[red]bad input:[/red] {error}")
            raise typer.Exit(EXIT_USAGE) from error


def published(dataset: Dataset) -> str:
    newest = dataset.versions[-1]
    return (
        f"Published [bold]{dataset.title}[/bold] as {dataset.slug} ({dataset.policy}, {dataset.license}): "
        f"version {newest.number}, {newest.row_count} rows."
    )


@app.command()
def publish(
    path: DataFile,
    title: Annotated[str, typer.Option(help="what the data is, in a few words")],
    license_id: Annotated[str, typer.Option("--license", help="an SPDX identifier such as CC-BY-4.0")],
    policy: Annotated[str, typer.Option(help="open, gated or priced")] = "open",
    summary: Annotated[str, typer.Option(help="a paragraph on the data")] = "",
    sdg: Annotated[list[int] | None, typer.Option(min=1, max=17, help="an SDG number (repeatable)")] = None,
    sector: Annotated[list[str] | None, typer.Option(help="a sector such as health (repeatable)")] = None,
    keyword: Annotated[list[str] | None, typer.Option(help="a keyword (repeatable)")] = None,
    price: Annotated[int, typer.Option(min=0, help="tokens per license, for a priced dataset")] = 0,
    days: Annotated[int, typer.Option(min=1, help="how long a bought license lasts")] = 30,
    community: Annotated[str | None, typer.Option(help="the owning community's slug")] = None,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Register a dataset and upload PATH as its first version, with an upload progress bar."""
    metadata = {"summary": summary, "sdgs": sdg or [], "sectors": sector or [], "keywords": keyword or []}
    with remote(server, token) as client, transfer(f"uploading {path.name}") as progress:
        dataset = Datasets(client).publish(
            path,
            title=title,
            license=license_id,
            policy=policy,
            price=price,
            license_days=days,
            community=community,
            progress=progress,
            **metadata,
        )
        message = published(dataset)
    emit(None, OutputFormat.TEXT, message)


@app.command("import")
def import_croissant(
    croissant: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a Croissant JSON-LD file")],
    path: DataFile,
    policy: Annotated[str, typer.Option(help="open, gated or priced")] = "open",
    price: Annotated[int, typer.Option(min=0, help="tokens per license, for a priced dataset")] = 0,
    community: Annotated[str | None, typer.Option(help="the owning community's slug")] = None,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Register a dataset from its Croissant description and upload PATH as its first version."""
    choices = {"policy": policy, "price": price, "community": community}
    with remote(server, token) as client, transfer(f"uploading {path.name}") as progress:
        dataset = Datasets(client).import_croissant(croissant, path, progress=progress, **choices)
        message = published(dataset)
    emit(None, OutputFormat.TEXT, message)


@app.command("list")
def list_datasets(
    q: Annotated[str | None, typer.Option(help="text to search for")] = None,
    sdg: Annotated[int | None, typer.Option(min=1, max=17, help="an SDG number")] = None,
    sector: Annotated[str | None, typer.Option(help="a sector such as health")] = None,
    license_id: Annotated[str | None, typer.Option("--license", help="an SPDX identifier")] = None,
    policy: Annotated[str | None, typer.Option(help="open, gated, priced or federated")] = None,
    file_format: Annotated[
        str | None, typer.Option("--file-format", help="csv, parquet or federated")
    ] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Search the catalog, filtered."""
    with remote(server, token) as client:
        found = Datasets(client).page(
            page=page, q=q, sdg=sdg, sector=sector, license=license_id, policy=policy, format=file_format
        )
    table = Table(Column("slug", no_wrap=True), "title", "policy", "license", "SDGs", "versions")
    table.title = f"{found['total']} datasets"
    for item in found["items"]:
        sdgs = ",".join(map(str, item["sdgs"]))
        table.add_row(
            item["slug"], item["title"], item["policy"], item["license"], sdgs, str(item["version_count"])
        )
    emit(found, output, table)


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="the dataset's slug or id")],
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Show one dataset and its versions."""
    with remote(server, token) as client:
        dataset = Datasets(client).get(ref)
        versions = dataset.versions
    table = Table("version", "rows", "bytes", "from", "published", title=f"[bold]{dataset.title}[/bold]")
    for version in versions:
        withdrawn = " (withdrawn)" if version.withdrawn else ""
        table.add_row(
            f"{version.number}{withdrawn}",
            str(version.row_count),
            str(version.size_bytes),
            version.source_format,
            version.created_at,
        )
    table.caption = f"{dataset.slug}: {dataset.policy}, {dataset.license}, by {dataset.owner}"
    emit(dataset.json | {"versions": [vars(version) for version in versions]}, output, table)


@app.command("get")
def get_dataset(
    ref: Annotated[str, typer.Argument(help="the dataset's slug or id")],
    version: Annotated[
        int | None, typer.Option(min=1, help="a version number; the newest by default")
    ] = None,
    output_path: Annotated[
        Path, typer.Option("--output", "-o", help="the file to write, or a folder to write it in")
    ] = Path("."),
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Download a version as Parquet, with a download progress bar."""
    with remote(server, token) as client, transfer(f"downloading {ref}") as progress:
        saved = Datasets(client).download(ref, output_path, version=version, progress=progress)
    emit(None, OutputFormat.TEXT, f"Saved {ref} to {saved} ({saved.stat().st_size} bytes).")
