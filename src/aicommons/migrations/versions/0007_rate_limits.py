"""rate limits and notifications

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aicommons.core.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=120), nullable=False),
        sa.Column("at", aicommons.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_hit")),
    )
    op.create_index("ix_rate_hit_bucket_at", "rate_hit", ["bucket", "at"], unique=False)
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=4000), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(), nullable=False),
        sa.Column("read_at", aicommons.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_notification_member_id_member"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index("ix_notification_member", "notification", ["member_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notification_member", table_name="notification")
    op.drop_table("notification")
    op.drop_index("ix_rate_hit_bucket_at", table_name="rate_hit")
    op.drop_table("rate_hit")
