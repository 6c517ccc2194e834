"""insights

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aicommons.core.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The full-text index as aicommons/insights/fulltext.py made it at this revision (a migration keeps its own
# copy: later changes to that module come with a migration of their own).
SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE insight_fts USING fts5(title, body, content='insight', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER insight_fts_insert AFTER INSERT ON insight BEGIN "
    "INSERT INTO insight_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER insight_fts_delete AFTER DELETE ON insight BEGIN "
    "INSERT INTO insight_fts(insight_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "END",
    "CREATE TRIGGER insight_fts_update AFTER UPDATE OF title, body ON insight BEGIN "
    "INSERT INTO insight_fts(insight_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO insight_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
)
POSTGRESQL_SEARCH = (
    "ALTER TABLE insight ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')) STORED",
    "CREATE INDEX ix_insight_search ON insight USING gin (search_vector)",
)


def _timestamp(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, aicommons.core.db.UTCDateTime(timezone=True), nullable=nullable)


def _foreign_key(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "insight",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("license", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("endorsement_count", sa.Integer(), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("reuse_count", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _foreign_key("insight", "author_id", "member", "SET NULL"),
        _foreign_key("insight", "community_id", "community", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight")),
    )
    op.create_index("ix_insight_created_at", "insight", ["created_at"], unique=False)
    _create_search()
    op.create_table(
        "insight_topic",
        sa.Column("insight_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=50), nullable=False),
        _foreign_key("insight_topic", "insight_id", "insight", "CASCADE"),
        sa.PrimaryKeyConstraint("insight_id", "facet", "value", name=op.f("pk_insight_topic")),
    )
    op.create_index("ix_insight_topic_value", "insight_topic", ["facet", "value", "insight_id"], unique=False)
    op.create_table(
        "insight_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("insight_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("accepted_at", nullable=True),
        _foreign_key("insight_reply", "author_id", "member", "SET NULL"),
        _foreign_key("insight_reply", "insight_id", "insight", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_reply")),
    )
    op.create_index("ix_insight_reply_insight", "insight_reply", ["insight_id", "id"], unique=False)
    op.create_table(
        "insight_endorsement",
        sa.Column("insight_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _foreign_key("insight_endorsement", "insight_id", "insight", "CASCADE"),
        _foreign_key("insight_endorsement", "member_id", "member", "CASCADE"),
        sa.PrimaryKeyConstraint("insight_id", "member_id", name=op.f("pk_insight_endorsement")),
    )
    _create_reuse()
    _create_subscription()


def _create_search() -> None:
    """SQLite: an FTS5 table kept by triggers; PostgreSQL: a generated tsvector column with a GIN index."""
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_SEARCH, "postgresql": POSTGRESQL_SEARCH}.get(dialect, ()):
        op.execute(statement)


def _create_reuse() -> None:
    op.create_table(
        "insight_reuse",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("insight_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("origin_community_id", sa.Integer(), nullable=False),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("origin_sectors", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        _foreign_key("insight_reuse", "community_id", "community", "CASCADE"),
        _foreign_key("insight_reuse", "insight_id", "insight", "CASCADE"),
        _foreign_key("insight_reuse", "origin_community_id", "community", "CASCADE"),
        _foreign_key("insight_reuse", "recorded_by_id", "member", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_reuse")),
        sa.UniqueConstraint("insight_id", "community_id", name=op.f("uq_insight_reuse_insight_id")),
    )
    op.create_index("ix_insight_reuse_community", "insight_reuse", ["community_id"], unique=False)
    op.create_index("ix_insight_reuse_origin", "insight_reuse", ["origin_community_id"], unique=False)


def _create_subscription() -> None:
    op.create_table(
        "insight_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=50), nullable=False),
        _timestamp("created_at"),
        _timestamp("last_digest_at"),
        _foreign_key("insight_subscription", "member_id", "member", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_subscription")),
        sa.UniqueConstraint("member_id", "facet", "value", name=op.f("uq_insight_subscription_member_id")),
    )
    op.create_index(
        "ix_insight_subscription_due", "insight_subscription", ["last_digest_at", "member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_insight_subscription_due", table_name="insight_subscription")
    op.drop_table("insight_subscription")
    op.drop_index("ix_insight_reuse_origin", table_name="insight_reuse")
    op.drop_index("ix_insight_reuse_community", table_name="insight_reuse")
    op.drop_table("insight_reuse")
    op.drop_table("insight_endorsement")
    op.drop_index("ix_insight_reply_insight", table_name="insight_reply")
    op.drop_table("insight_reply")
    op.drop_index("ix_insight_topic_value", table_name="insight_topic")
    op.drop_table("insight_topic")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS insight_fts")  # its triggers go with the insight table
    op.drop_index("ix_insight_created_at", table_name="insight")
    op.drop_table("insight")
