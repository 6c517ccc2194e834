"""Applying and checking the Alembic migrations from code (`aicommons db …` and the tests)."""

from importlib.resources import files

from alembic import command
from alembic.config import Config

SCRIPTS = str(files("aicommons").joinpath("migrations"))


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPTS)
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise when the models and the migrations disagree."""
    command.check(alembic_config(database_url))


def current(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from aicommons.core.db import make_engine

    engine = make_engine(database_url)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision
