"""events

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aicommons.core.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("over_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("recurrence", sa.String(length=300), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("online_url", sa.String(length=500), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("going_count", sa.Integer(), nullable=False),
        sa.Column("waitlist_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_event_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["member.id"], name=op.f("fk_event_created_by_id_member"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_community_starts", ["community_id", "starts_at"], unique=False)
        batch_op.create_index("ix_event_over_starts", ["over_at", "starts_at"], unique=False)

    op.create_table(
        "rsvp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("waitlisted_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_rsvp_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_rsvp_member_id_member"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rsvp")),
        sa.UniqueConstraint("event_id", "member_id", name=op.f("uq_rsvp_event_id")),
    )
    with op.batch_alter_table("rsvp", schema=None) as batch_op:
        batch_op.create_index("ix_rsvp_member", ["member_id", "answer"], unique=False)
        batch_op.create_index("ix_rsvp_waitlist", ["event_id", "waitlisted_at"], unique=False)

    op.create_table(
        "event_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["member.id"],
            name=op.f("fk_event_outcome_created_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_event_outcome_event_id_event"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outcome")),
    )
    with op.batch_alter_table("event_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_outcome_event_id"), ["event_id"], unique=False)

    op.create_table(
        "calendar_feed",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_calendar_feed_member_id_member"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_calendar_feed")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("calendar_feed")
    with op.batch_alter_table("event_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_outcome_event_id"))

    op.drop_table("event_outcome")
    with op.batch_alter_table("rsvp", schema=None) as batch_op:
        batch_op.drop_index("ix_rsvp_waitlist")
        batch_op.drop_index("ix_rsvp_member")

    op.drop_table("rsvp")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_over_starts")
        batch_op.drop_index("ix_event_community_starts")

    op.drop_table("event")
