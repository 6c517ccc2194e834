"""`aicommons datasets …` against a running commons: publish, list, show, get, import, and refusals."""

import json

import pyarrow.parquet as pq
import pytest

from tests.cli.test_cli import aicommons
from tests.sdk.conftest import CROISSANT, CSV

PUBLISH = ("--title", "Rainfall and floods", "--license", "CC-BY-4.0", "--sdg", "11", "--sdg", "13")


@pytest.fixture
def remote_env(env, live_server, make_member, token_for) -> dict[str, str]:
    secret = token_for(make_member("owner"))["Authorization"].removeprefix("Bearer ")
    return env | {"AICOMMONS_SERVER": live_server, "AICOMMONS_TOKEN": secret}


@pytest.fixture
def rainfall(tmp_path):
    path = tmp_path / "rainfall.csv"
    path.write_text(CSV)
    return path


def test_publish_list_show_and_get(remote_env, rainfall, tmp_path):
    published = aicommons("datasets", "publish", str(rainfall), *PUBLISH, "--keyword", "rain", env=remote_env)
    assert published.returncode == 0, published.stderr
    assert "as rainfall-and-floods (open, CC-BY-4.0): version 1, 3 rows" in published.stdout
    listed = json.loads(
        aicommons("datasets", "list", "--sdg", "13", "--format", "json", env=remote_env).stdout
    )
    assert [(d["slug"], d["keywords"]) for d in listed["items"]] == [("rainfall-and-floods", ["rain"])]
    assert "rainfall-and-floods" in aicommons("datasets", "list", "--q", "rain", env=remote_env).stdout
    shown = json.loads(
        aicommons("datasets", "show", "rainfall-and-floods", "--format", "json", env=remote_env).stdout
    )
    assert (shown["sdgs"], [v["row_count"] for v in shown["versions"]]) == ([11, 13], [3])
    assert "member:owner" in aicommons("datasets", "show", "rainfall-and-floods", env=remote_env).stdout
    got = aicommons(
        "datasets", "get", "rainfall-and-floods", "-o", str(tmp_path / "r.parquet"), env=remote_env
    )
    assert got.returncode == 0, got.stderr
    assert "Saved rainfall-and-floods" in got.stdout
    assert pq.read_table(tmp_path / "r.parquet").column("city").to_pylist() == ["Dhaka", "Lagos", "Lima"]


def test_get_into_a_folder_picks_the_version(remote_env, rainfall, tmp_path):
    aicommons("datasets", "publish", str(rainfall), *PUBLISH, env=remote_env)
    got = aicommons(
        "datasets", "get", "rainfall-and-floods", "--version", "1", "-o", str(tmp_path), env=remote_env
    )
    assert got.returncode == 0, got.stderr
    assert pq.read_table(tmp_path / "rainfall-and-floods-v1.parquet").num_rows == 3


def test_a_priced_dataset_from_a_croissant_description(remote_env, rainfall, tmp_path):
    description = tmp_path / "croissant.json"
    description.write_text(json.dumps(CROISSANT))
    imported = aicommons(
        "datasets",
        "import",
        str(description),
        str(rainfall),
        "--policy",
        "priced",
        "--price",
        "3",
        env=remote_env,
    )
    assert imported.returncode == 0, imported.stderr
    assert "as rainfall-from-croissant (priced, CC-BY-4.0): version 1, 3 rows" in imported.stdout


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("datasets", "publish", "missing.csv", *PUBLISH), 2, "does not exist"),
        (("datasets", "publish", "notes.txt", *PUBLISH), 2, "upload a .csv or .parquet file"),
        (
            ("datasets", "publish", "rainfall.csv", "--title", "Rain", "--license", "Nope"),
            1,
            "unknown_license",
        ),
        (("datasets", "import", "notes.txt", "rainfall.csv"), 2, "bad input"),
        (("datasets", "show", "no-such-data"), 1, "dataset_not_found"),
        (("datasets", "get", "no-such-data"), 1, "dataset_not_found"),
    ],
)
def test_bad_input_and_refusals_exit_with_a_message(remote_env, rainfall, tmp_path, args, status, message):
    (tmp_path / "notes.txt").write_text("not json, not a table")
    paths = {name: str(tmp_path / name) for name in ("missing.csv", "notes.txt", "rainfall.csv")}
    result = aicommons(*(paths.get(arg, arg) for arg in args), env=remote_env)
    assert result.returncode == status, result.stdout + result.stderr
    assert message in " ".join(result.stderr.split())


def test_an_unreachable_server_exits_1(env, tmp_path):
    result = aicommons(
        "datasets",
        "get",
        "anything",
        "-o",
        str(tmp_path),
        env=env | {"AICOMMONS_SERVER": "http://127.0.0.1:9"},
    )
    assert result.returncode == 1
    assert "unreachable" in result.stderr
