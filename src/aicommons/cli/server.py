"""Setting up and serving a commons, shared by `init`, `serve` and `demo`."""

import os

import uvicorn

from aicommons.cli.common import console, load_settings
from aicommons.core import migrate
from aicommons.core.config import Settings
from aicommons.core.security import ensure_signing_key


def initialise(settings: Settings) -> None:
    """Data directory, database at the newest migration, and the commons' signing key."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.resolved_database_url)
    ensure_signing_key(settings.signing_key_path)


def serve_commons(settings: Settings, *, host: str | None, port: int | None, workers: int | None) -> None:
    overrides = {"host": host, "port": port, "workers": workers}
    for key, value in overrides.items():
        if value is not None:
            os.environ[f"AICOMMONS_{key.upper()}"] = str(value)
    settings = load_settings()
    console.print(f"Serving {settings.name} on [bold]http://{settings.host}:{settings.port}[/bold]")
    uvicorn.run(
        "aicommons.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="warning",
        ws="none",
    )
