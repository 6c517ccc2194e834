"""`aicommons problems …`: find problems, submit predictions and read leaderboards of a running commons."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Column, Table

from aicommons.cli.common import EXIT_ERROR, FormatOption, OutputFormat, emit, errors
from aicommons.cli.datasets import transfer
from aicommons.cli.remote import DEFAULT_SERVER, ServerOption, TokenOption, remote
from aicommons.sdk import Problems, Submission

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    help="Find problems, submit predictions, and read the leaderboards.",
    no_args_is_help=True,
)
ProblemRef = Annotated[str, typer.Argument(help="the problem's slug or id")]
WAIT_SECONDS = 600
SHOWN_PROBLEMS = 5  # of a refused file's problems, the first few are enough to fix it


@app.command("list")
def list_problems(
    sdg: Annotated[int | None, typer.Option(min=1, max=17, help="an SDG number")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """The published problems, open ones first."""
    with remote(server, token) as client:
        found = Problems(client).page(sdg=sdg, page=page)
    table = Table(Column("slug", no_wrap=True), "title", "metric", "state", "bounty", "closes", "SDG targets")
    table.title = f"{found['total']} problems"
    for item in found["items"]:
        targets = ",".join(item["sdg_targets"])
        table.add_row(
            item["slug"],
            item["title"],
            item["metric"],
            item["state"],
            str(item["bounty"]),
            item["closes_at"],
            targets,
        )
    emit(found, output, table)


@app.command()
def show(
    ref: ProblemRef,
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """One problem: its task, rules and window."""
    with remote(server, token) as client:
        problem = Problems(client).get(ref)
    table = Table("", "", show_header=False, title=f"[bold]{problem.title}[/bold]")
    rows = {
        "task": f"{problem.task}, scored by {problem.metric}",
        "columns": f"{problem.id_column} and {problem.target_column}",
        "evaluation rows": str(problem.evaluation_rows),
        "open": f"{problem.opens_at} to {problem.closes_at} ({problem.state})",
        "submissions": f"{problem.daily_limit} a day, {problem.total_limit} in all",
        "team size": f"up to {problem.team_size_limit}",
        "bounty": f"{problem.bounty} tokens",
        "SDG targets": ", ".join(problem.sdg_targets),
        "dataset versions": ", ".join(map(str, problem.dataset_versions)) or "any",
    }
    for name, value in rows.items():
        table.add_row(name, value)
    table.caption = problem.slug
    emit(problem.json, output, table)


@app.command()
def submit(
    problem: ProblemRef,
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a .csv file of predictions")],
    dataset: Annotated[
        list[int] | None, typer.Option(help="the id of a dataset version the solution used (repeatable)")
    ] = None,
    note: Annotated[str, typer.Option(help="a few words on the solution")] = "",
    wait: Annotated[bool, typer.Option(help="wait for the score")] = False,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Upload PATH as a submission, with an upload progress bar; with --wait, print its score."""
    with remote(server, token) as client:
        problems = Problems(client)
        with transfer(f"uploading {path.name}") as progress:
            submission = problems.submit(problem, path, datasets=dataset or [], note=note, progress=progress)
        emit(None, OutputFormat.TEXT, f"Submitted #{submission.id} to {problem} as team {submission.team}.")
        if wait:
            _report(_scored(problems, problem, submission))


def _scored(problems: Problems, problem: str, submission: Submission) -> Submission:
    try:
        return problems.wait_for_score(problem, submission, timeout=WAIT_SECONDS)
    except TimeoutError as error:
        errors.print(f"[red]timeout:[/red] {error}; see `aicommons problems leaderboard {problem}` later")
        raise typer.Exit(EXIT_ERROR) from error


def _report(submission: Submission) -> None:
    """The score, or why the file was refused (and exit 1)."""
    if submission.state == "scored":
        interval = f" (95%: {submission.public_low:.4f} to {submission.public_high:.4f})"
        emit(None, OutputFormat.TEXT, f"Scored: {submission.public_score:.4f}{interval} on the public board.")
        return
    error: dict[str, Any] = submission.error or {}
    errors.print(f"[red]bad_submission:[/red] {error.get('detail', submission.state)}")
    table = Table("line", "column", "value", "issue")
    for found in error.get("problems", [])[:SHOWN_PROBLEMS]:
        table.add_row(str(found["row"]), found["column"], found["value"], found["issue"])
    if table.rows:
        errors.print(table)
    raise typer.Exit(EXIT_ERROR)


@app.command()
def leaderboard(
    ref: ProblemRef,
    private: Annotated[bool, typer.Option(help="the private board, revealed at the close")] = False,
    output: OutputFormat = FormatOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Teams ranked by their best score, with its 95% interval."""
    with remote(server, token) as client:
        board = Problems(client).leaderboard(ref, private=private)
    table = Table("rank", "team", board["metric"], "95% interval", "submissions", "last")
    table.title = f"{board['problem']}: {board['board']} leaderboard"
    for row in board["rows"]:
        interval = "" if row["low"] is None else f"{row['low']:.4f} to {row['high']:.4f}"
        table.add_row(
            str(row["rank"]),
            row["team"],
            f"{row['score']:.4f}",
            interval,
            str(row["submissions"]),
            row["last_submission_at"],
        )
    emit(board, output, table)
