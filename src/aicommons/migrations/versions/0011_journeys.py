"""journeys

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aicommons.core.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "community_visit",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("first_at", aicommons.core.db.UTCDateTime(), nullable=False),
        sa.Column("last_at", aicommons.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_community_visit_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_community_visit_member_id_member"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("community_id", "member_id", name=op.f("pk_community_visit")),
    )
    op.create_index(
        "ix_community_visit_member", "community_visit", ["member_id", "community_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_community_visit_member", table_name="community_visit")
    op.drop_table("community_visit")
