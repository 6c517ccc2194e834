"""`aicommons demo`: a commons full of example members, communities and datasets, served at once."""

from typing import Annotated

import typer
from rich.progress import Progress

from aicommons.cli.common import command_session, console, load_settings
from aicommons.cli.server import initialise, serve_commons
from aicommons.core.blobs import BlobStore
from aicommons.demo import DEMO_LOGIN, DEMO_PASSWORD, is_seeded, seed


def demo(
    host: Annotated[str | None, typer.Option(help="listen address [env AICOMMONS_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="listen port [env AICOMMONS_PORT]")] = None,
    serve: Annotated[bool, typer.Option(help="serve after seeding")] = True,
) -> None:
    """Initialise the commons, seed the demo data once, and serve it."""
    from aicommons.app import log_identity

    settings = load_settings()
    initialise(settings)
    with command_session(settings) as session:
        if is_seeded(session):
            console.print("Demo data already there.")
        else:
            with Progress(transient=True) as progress:
                task = progress.add_task("Seeding the demo commons", total=None)
                seed(
                    session,
                    store=BlobStore(settings.blob_dir),
                    log=log_identity(settings),
                    progress=lambda step: progress.update(task, description=f"Seeded {step}"),
                )
            console.print("Seeded the demo commons.")
    console.print(
        f"Log in as [bold]{DEMO_LOGIN}[/bold] with password [bold]{DEMO_PASSWORD}[/bold] (an admin)."
    )
    if serve:
        serve_commons(settings, host=host, port=port, workers=None)
