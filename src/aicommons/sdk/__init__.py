"""The Python client of an AI Commons server; works from scripts, notebooks and the CLI."""

from aicommons.sdk.client import Client, RemoteError

__all__ = ["Client", "RemoteError"]
