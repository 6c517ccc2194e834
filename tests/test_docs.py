"""The docs cover what exists, and their examples run."""

import re
from pathlib import Path

import click
import typer

from aicommons.cli.main import app as cli_app
from aicommons.core.blobs import BlobStore
from aicommons.core.config import Settings
from aicommons.core.db import unit_of_work
from aicommons.core.errors import ErrorCode
from aicommons.demo import seed

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"


def read(name: str) -> str:
    return (DOCS / name).read_text()


def test_every_error_code_is_documented():
    documented = set(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", read("errors.md"), re.MULTILINE))
    assert documented == {(code.code, str(code.status)) for code in ErrorCode}


def test_every_setting_is_documented_in_the_docs_and_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        variable = f"AICOMMONS_{name.upper()}"
        assert f"`{variable}`" in read("configuration.md"), variable
        assert variable in readme, variable


def command_paths(group: click.Group, prefix: str = "aicommons") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        paths += command_paths(command, path) if isinstance(command, click.Group) else [path]
    return paths


def test_every_command_is_documented():
    documented = read("cli.md")
    commands = command_paths(typer.main.get_group(cli_app))
    assert len(commands) >= 12
    assert [c for c in commands if f"`{c}" not in documented] == []


def test_every_api_route_is_documented(app):
    documented = read("api.md")
    routes = [
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if path.startswith("/api/v1")
    ]
    assert [r for r in routes if f"`{r}`" not in documented] == []


def test_the_sdk_example_runs_against_the_demo_commons(factory, settings, live_server, capsys):
    with unit_of_work(factory) as session:
        seed(session, store=BlobStore(settings.blob_dir))
    namespace = {"SERVER": live_server}  # the examples run in order, as in one notebook
    for example in re.findall(r"```python\n(.*?)```", read("sdk.md"), re.DOTALL):
        exec(compile(example, "docs/sdk.md", "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["1 ['nurses-on-ai']", "already_member", "6", "5", "succeeded 5", "1 member:"]
