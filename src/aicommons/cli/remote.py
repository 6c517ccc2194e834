"""Commands that talk to a running commons over HTTP through the SDK, with a saved API token."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from aicommons.cli.common import EXIT_ERROR, console, errors
from aicommons.sdk import Client, RemoteError

DEFAULT_SERVER = "http://127.0.0.1:8000"
ServerOption = Annotated[
    str, typer.Option("--server", envvar="AICOMMONS_SERVER", help="the commons' URL [env AICOMMONS_SERVER]")
]
TokenOption = Annotated[
    str | None, typer.Option("--token", envvar="AICOMMONS_TOKEN", help="API token [env AICOMMONS_TOKEN]")
]


def credentials_path() -> Path:
    base = os.environ.get("AICOMMONS_CONFIG_DIR") or Path.home() / ".config" / "aicommons"
    return Path(base) / "credentials.json"


def saved_tokens() -> dict[str, str]:
    path = credentials_path()
    return json.loads(path.read_text()) if path.exists() else {}


def save_token(server: str, token: str) -> Path:
    """Keep the token for `server` in a file only the user can read."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens = saved_tokens() | {server.rstrip("/"): token}
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps(tokens, indent=2))
    return path


@contextmanager
def remote(server: str, token: str | None) -> Iterator[Client]:
    """A client for `server` with the given or saved token; a refusal prints its code and exits 1."""
    token = token or saved_tokens().get(server.rstrip("/"))
    try:
        with Client(server, token=token) as client:
            yield client
    except RemoteError as error:
        errors.print(f"[red]{error.code}:[/red] {error.detail}")
        raise typer.Exit(EXIT_ERROR) from error


def login(
    handle: Annotated[str, typer.Option(prompt=True, help="your handle or email")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="your password")],
    server: ServerOption = DEFAULT_SERVER,
) -> None:
    """Log in to a commons and save an API token for later commands."""
    with remote(server, None) as client:
        token = client.login(handle, password, token_name="cli")
    console.print(f"Logged in; token saved in {save_token(server, token)}.")
