"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

import os

from sqlalchemy import inspect

from aicommons.core import migrate
from aicommons.core.db import Base, fresh_schema_url, make_engine


def test_upgrade_from_empty_matches_the_models(tmp_path, request):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    migrate.check(url)
    assert migrate.current(url) is not None
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    engine.dispose()


def test_upgrade_on_postgresql_matches_the_models(postgres_url):
    prefix = os.environ.get("AICOMMONS_TEST_SCHEMA_PREFIX", "test")
    url = fresh_schema_url(postgres_url.split("?")[0], f"{prefix}_migration_check")
    migrate.upgrade(url)
    migrate.check(url)
    assert migrate.current(url) is not None
