"""Alembic environment: runs migrations on the connection or URL the caller configured."""

from alembic import context
from sqlalchemy import Connection

import aicommons.app  # noqa: F401  (imports every domain's tables into the metadata)
from aicommons.core.db import Base, make_engine

POSTGRES_ONLY_INDEXES = frozenset(
    {"ix_community_name_trgm", "ix_community_description_trgm", "ix_insight_search"}
)
SEARCH_COLUMNS = frozenset({"search_vector"})  # PostgreSQL's generated tsvector of insights
SEARCH_TABLES = "insight_fts"  # SQLite's FTS5 table of insights and its shadow tables


def _include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave out of comparisons the full-text search structures the models do not declare: the indexes
    only the PostgreSQL migrations make, and the insights' search table and column (made by DDL)."""
    if type_ == "index":
        return name not in POSTGRES_ONLY_INDEXES
    if type_ == "column":
        return name not in SEARCH_COLUMNS
    return not (type_ == "table" and (name or "").startswith(SEARCH_TABLES))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=_include,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as fresh:
        _run(fresh)
    engine.dispose()


run()
