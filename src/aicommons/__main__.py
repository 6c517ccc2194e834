"""Lets `python -m aicommons` run the command line."""

from aicommons.cli.main import app

app()
