"""Shared fixtures: every database test runs on SQLite and, when configured, on PostgreSQL."""

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

import aicommons.app
from aicommons.core.config import Settings
from aicommons.core.db import Base, fresh_schema_url, make_engine, make_session_factory
from aicommons.members import service as members
from aicommons.members.models import GlobalRole, Member
from aicommons.members.schemas import SignUp, TokenCreate

POSTGRES_URL = os.environ.get("AICOMMONS_TEST_POSTGRES_URL", "")
PASSWORD = "correct horse battery"


def _postgres_schema_url(worker: str) -> str:
    """A schema of our own per pytest-xdist worker, so parallel workers never share tables;
    AICOMMONS_TEST_SCHEMA_PREFIX keeps two pytest runs on one database apart as well."""
    prefix = os.environ.get("AICOMMONS_TEST_SCHEMA_PREFIX", "test")
    return fresh_schema_url(Settings(database_url=POSTGRES_URL).database_url, f"{prefix}_{worker}")


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("AICOMMONS_TEST_POSTGRES_URL is not set")
    url = _postgres_schema_url(worker_id)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database with the current schema, of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'commons.db'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        return url
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, run_worker=False)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.resolved_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for service tests; what it flushes is visible to it, and it is rolled back after."""
    with factory() as session:
        yield session
        session.rollback()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return aicommons.app.create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


MemberMaker = Callable[..., Member]


@pytest.fixture
def make_member(factory: sessionmaker[Session]) -> MemberMaker:
    """Commit a member (handle, role) and return it, detached but loaded."""

    def make(handle: str, role: GlobalRole = GlobalRole.MEMBER) -> Member:
        with factory.begin() as db:
            email = f"{handle}@example.org"
            form = SignUp(handle=handle, email=email, password=PASSWORD, display_name=handle.title())
            return members.sign_up(session=db, form=form, role=role)

    return make


@pytest.fixture
def token_for(factory: sessionmaker[Session]) -> Callable[[Member], dict[str, str]]:
    """Authorization headers with a fresh API token of `member`."""

    def headers(member: Member) -> dict[str, str]:
        with factory.begin() as db:
            owner = db.merge(member)
            _, secret = members.create_token(session=db, member=owner, form=TokenCreate(name="test"))
        return {"Authorization": f"Bearer {secret}"}

    return headers


class LiveServer:
    """The real app served by uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The base URL of a running commons (with its in-process job worker) on this test's database."""
    app = aicommons.app.create_app(
        settings.model_copy(update={"run_worker": True, "job_heartbeat_seconds": 0.2})
    )
    with LiveServer(app) as url:
        yield url
