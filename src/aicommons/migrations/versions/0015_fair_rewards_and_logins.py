"""fair play: reward caps, sign-up and login limits

Community rewards wait in `community_reward` until they are due; flags say whether they count toward
hiding a concern (the flags already given count only as moderators' reviews: none of them hides); failed
logins in a row are kept per account and per address in `login_throttle` (decisions 0046 and 0047).
Communities rewarded before this revision were paid at once and hold no row.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aicommons.core.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "community_reward",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(), nullable=False),
        sa.Column("paid_at", aicommons.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_community_reward_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_community_reward_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_reward")),
        sa.UniqueConstraint(
            "community_id", "event", "member_id", name=op.f("uq_community_reward_community_id")
        ),
    )
    op.create_index(
        "ix_community_reward_member", "community_reward", ["member_id", "event", "paid_at"], unique=False
    )
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", aicommons.core.db.UTCDateTime(), nullable=False),
        sa.Column("locked_until", aicommons.core.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("concern_flag") as flag:
        flag.add_column(sa.Column("counts", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("concern_flag") as flag:
        flag.drop_column("counts")
    op.drop_table("login_throttle")
    op.drop_index("ix_community_reward_member", table_name="community_reward")
    op.drop_table("community_reward")
