"""What every command shares: settings, the unit of work, output in Rich or JSON, and exit codes."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console, RenderableType
from sqlalchemy.orm import Session

from aicommons.core.config import Settings
from aicommons.core.db import make_engine, make_session_factory, unit_of_work
from aicommons.core.errors import CommonsError

console = Console()
errors = Console(stderr=True)

EXIT_ERROR = 1  # the request was refused (a CommonsError): the message says why
EXIT_USAGE = 2  # bad arguments or settings


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = typer.Option(OutputFormat.TEXT, "--format", help="text for people, json for programs")


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        errors.print(f"[red]Bad AICOMMONS_* setting:[/red] {error}")
        raise typer.Exit(EXIT_USAGE) from error


@contextmanager
def command_session(settings: Settings) -> Iterator[Session]:
    """The command's one transaction; a refused request prints its reason and exits 1."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            yield session
    except CommonsError as error:
        errors.print(f"[red]{error.code.code}:[/red] {error.detail}")
        raise typer.Exit(EXIT_ERROR) from error
    finally:
        engine.dispose()


def emit(data: Any, output: OutputFormat, text: RenderableType | None = None) -> None:
    """Print `data` as JSON for programs, or `text` (Rich markup) for people."""
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(data, default=str, indent=2))
    else:
        console.print(text if text is not None else data)
