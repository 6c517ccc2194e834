"""The Python client of an AI Commons server; works from scripts, notebooks and the CLI."""

from aicommons.sdk.client import Client, RemoteError
from aicommons.sdk.commons import Commons, Dataset, Datasets, Problem, Problems, Submission, Version
from aicommons.sdk.federation import Model, Models, Run, Runs

__all__ = [
    "Client",
    "Commons",
    "Dataset",
    "Datasets",
    "Model",
    "Models",
    "Problem",
    "Problems",
    "RemoteError",
    "Run",
    "Runs",
    "Submission",
    "Version",
]
