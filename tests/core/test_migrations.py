"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from sqlalchemy import inspect, text

from aicommons.core import migrate
from aicommons.core.db import Base, make_engine


def test_upgrade_from_empty_matches_the_models(tmp_path, request):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    migrate.check(url)
    assert migrate.current(url) is not None
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    engine.dispose()


def test_upgrade_on_postgresql_matches_the_models(postgres_url):
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        connection.execute(text("CREATE SCHEMA migration_check"))
    engine.dispose()
    url = postgres_url.rsplit("options=", 1)[0] + "options=-csearch_path%3Dmigration_check"
    migrate.upgrade(url)
    migrate.check(url)
    assert migrate.current(url) is not None
