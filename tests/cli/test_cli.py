"""The `aicommons` command as a user types it: setup, members, the demo, and remote commands."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aicommons import __version__
from aicommons.communities.models import Community
from aicommons.core.db import make_engine
from aicommons.core.jobs import Job, JobState
from aicommons.members.models import Member


def aicommons(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aicommons", *args],
        env={"PATH": os.environ["PATH"], "HOME": env.get("HOME", "/tmp"), "COLUMNS": "200", **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_version_and_help():
    assert aicommons("--version", env={}).stdout.strip() == f"aicommons {__version__}"
    for command in ([], ["db"], ["members"], ["communities"], ["serve"], ["demo"], ["worker"], ["login"]):
        shown = aicommons(*command, "--help", env={})
        assert shown.returncode == 0, shown.stderr
        assert "Usage" in shown.stdout


def test_init_on_the_embedded_defaults_creates_database_and_signing_key(tmp_path):
    result = aicommons("init", env={"AICOMMONS_DATA_DIR": str(tmp_path / "commons")})
    assert result.returncode == 0, result.stderr
    key = tmp_path / "commons" / "signing.key"
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tmp_path / "commons" / "aicommons.db").exists()
    again = aicommons("init", env={"AICOMMONS_DATA_DIR": str(tmp_path / "commons")})
    assert again.returncode == 0
    assert key.read_text() == key.read_text()


def test_db_upgrade_and_current(tmp_path):
    env = {"AICOMMONS_DATA_DIR": str(tmp_path / "c")}
    assert aicommons("db", "current", env=env).stdout.strip() == "empty"
    assert "Database at revision" in aicommons("db", "upgrade", env=env).stdout
    assert aicommons("db", "current", env=env).stdout.strip() != "empty"


def test_bad_settings_exit_2_with_a_message():
    result = aicommons("init", env={"AICOMMONS_PORT": "not-a-port"})
    assert result.returncode == 2
    assert "AICOMMONS_" in result.stderr


def test_members_create_set_role_and_list(env, factory):
    created = aicommons(
        "members",
        "create",
        "root",
        "--email",
        "root@example.org",
        "--display-name",
        "Root",
        "--role",
        "admin",
        env=env,
        stdin="a long passphrase\na long passphrase\n",
    )
    assert created.returncode == 0, created.stderr
    assert aicommons("members", "set-role", "root", "moderator", env=env).returncode == 0
    listed = json.loads(aicommons("members", "list", "--format", "json", env=env).stdout)
    assert [(m["handle"], m["role"]) for m in listed] == [("root", "moderator")]
    with factory() as db:
        assert db.scalar(select(Member.password_hash)).startswith("$argon2id$")


def test_members_create_refuses_bad_input_and_duplicates(env, make_member):
    make_member("taken")
    bad = aicommons(
        "members", "create", "x", "--email", "x@e.org", "--display-name", "X", env=env, stdin="pw\npw\n"
    )
    assert bad.returncode == 2
    duplicate = aicommons(
        "members",
        "create",
        "taken",
        "--email",
        "t2@e.org",
        "--display-name",
        "T",
        env=env,
        stdin="a long passphrase\na long passphrase\n",
    )
    assert (duplicate.returncode, "handle_taken" in duplicate.stderr) == (1, True)
    assert aicommons("members", "set-role", "ghost", "admin", env=env).returncode == 1


def test_demo_seeds_once_on_the_embedded_defaults_and_queues_statistics(tmp_path):
    env = {"AICOMMONS_DATA_DIR": str(tmp_path / "demo")}
    first = aicommons("demo", "--no-serve", env=env)
    assert first.returncode == 0, first.stderr
    assert "Log in as amina" in first.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'demo' / 'aicommons.db'}")
    with Session(engine) as db:
        formats = set(db.scalars(select(Community.format)))
        members = db.scalar(select(func.count()).select_from(Member))
        states: dict[str, set[str]] = {}
        for kind, state in db.execute(select(Job.kind, Job.state)):
            states.setdefault(kind, set()).add(state)
    engine.dispose()
    assert formats == {"discussion", "event", "project", "policy", "strategic"}
    assert members >= 20
    # Statistics wait for the server's worker; the baselines of the demo problems were scored while seeding.
    assert states["community:stats:refresh"] == states["datasets:statistics:compute"] == {JobState.QUEUED}
    assert states["problems:submission:score"] == {JobState.SUCCEEDED}
    second = aicommons("demo", "--no-serve", env=env)
    assert "already there" in second.stdout


def test_remote_commands_through_a_running_commons(env, live_server, make_member, client):
    make_member("zainab")
    steward_env = env | {"AICOMMONS_SERVER": live_server}
    login = aicommons("login", "--handle", "zainab", "--password", "correct horse battery", env=steward_env)
    assert login.returncode == 0, login.stderr
    saved = json.loads((Path(env["AICOMMONS_CONFIG_DIR"]) / "credentials.json").read_text())
    token = saved[live_server]
    client.post(
        "/api/v1/communities",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "name": "Nurses",
            "slug": "nurses",
            "format": "discussion",
            "sectors": ["health"],
            "sdgs": [3],
            "region": "europe",
        },
    )
    listed = json.loads(
        aicommons("communities", "list", "--q", "nurs", "--format", "json", env=steward_env).stdout
    )
    assert [c["slug"] for c in listed["items"]] == ["nurses"]
    assert "Nurses" in aicommons("communities", "show", "nurses", env=steward_env).stdout
    refreshed = aicommons("communities", "refresh-stats", "nurses", "--format", "json", env=steward_env)
    assert json.loads(refreshed.stdout)["state"] == "succeeded", refreshed.stderr
    make_member("bob")
    bob_env = env | {
        "AICOMMONS_SERVER": live_server,
        "AICOMMONS_CONFIG_DIR": env["AICOMMONS_CONFIG_DIR"] + "-bob",
    }
    aicommons("login", "--handle", "bob", "--password", "correct horse battery", env=bob_env)
    assert "Active in nurses" in aicommons("communities", "join", "nurses", env=bob_env).stdout
    again = aicommons("communities", "join", "nurses", env=bob_env)
    assert (again.returncode, "already_member" in again.stderr) == (1, True)
    assert aicommons("communities", "leave", "nurses", env=bob_env).returncode == 0


def test_remote_commands_report_an_unreachable_server(env):
    result = aicommons("communities", "list", "--server", "http://127.0.0.1:9", env=env)
    assert (result.returncode, "unreachable: cannot reach" in result.stderr) == (1, True)
