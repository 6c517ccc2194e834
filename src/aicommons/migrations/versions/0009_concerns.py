"""concerns: concerns, their status history, corroborations, flags, responders and responses

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aicommons.core.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "concern",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ai_tool", sa.String(length=120), nullable=False),
        sa.Column("where_seen", sa.String(length=200), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("who_affected", sa.String(length=500), nullable=False),
        sa.Column("harm", sa.String(length=16), nullable=False),
        sa.Column("worry", sa.String(length=16), nullable=False),
        sa.Column("reporter_role", sa.String(length=80), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("tracking_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("risk_entity", sa.String(length=16), nullable=True),
        sa.Column("risk_intent", sa.String(length=16), nullable=True),
        sa.Column("risk_timing", sa.String(length=16), nullable=True),
        sa.Column("risk_domains", sa.JSON(), nullable=False),
        sa.Column("harm_types", sa.JSON(), nullable=False),
        sa.Column("deployer", sa.String(length=120), nullable=False),
        sa.Column("developer", sa.String(length=120), nullable=False),
        sa.Column("escalated_to_id", sa.Integer(), nullable=True),
        sa.Column("escalation_note", sa.Text(), nullable=False),
        sa.Column("escalated_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exported_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("corroboration_count", sa.Integer(), nullable=False),
        sa.Column("flag_count", sa.Integer(), nullable=False),
        sa.Column("hidden_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalated_to_id"],
            ["community.id"],
            name=op.f("fk_concern_escalated_to_id_community"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["concern.id"],
            name=op.f("fk_concern_merged_into_id_concern"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["member.id"], name=op.f("fk_concern_reporter_id_member"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern")),
        sa.UniqueConstraint("tracking_hash", name=op.f("uq_concern_tracking_hash")),
    )
    with op.batch_alter_table("concern", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concern_escalated_to_id"), ["escalated_to_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concern_hidden_at"), ["hidden_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_concern_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_index("ix_concern_status", ["status", "id"], unique=False)

    op.create_table(
        "concern_corroboration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concern_id", sa.Integer(), nullable=False),
        sa.Column("witness", sa.String(length=80), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["concern.id"],
            name=op.f("fk_concern_corroboration_concern_id_concern"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_corroboration")),
        sa.UniqueConstraint("concern_id", "witness", name=op.f("uq_concern_corroboration_concern_id")),
    )
    op.create_table(
        "concern_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concern_id", sa.Integer(), nullable=False),
        sa.Column("flagger", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["concern.id"],
            name=op.f("fk_concern_flag_concern_id_concern"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_flag")),
        sa.UniqueConstraint("concern_id", "flagger", name=op.f("uq_concern_flag_concern_id")),
    )
    op.create_table(
        "concern_responder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=120), nullable=False),
        sa.Column("concern_id", sa.Integer(), nullable=True),
        sa.Column("tool_key", sa.String(length=120), nullable=True),
        sa.Column("named_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["concern.id"],
            name=op.f("fk_concern_responder_concern_id_concern"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_concern_responder_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["named_by_id"],
            ["member.id"],
            name=op.f("fk_concern_responder_named_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_responder")),
    )
    with op.batch_alter_table("concern_responder", schema=None) as batch_op:
        batch_op.create_index("ix_concern_responder_member", ["member_id", "concern_id"], unique=False)

    op.create_table(
        "concern_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concern_id", sa.Integer(), nullable=False),
        sa.Column("responder_id", sa.Integer(), nullable=True),
        sa.Column("organisation", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["concern.id"],
            name=op.f("fk_concern_response_concern_id_concern"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["responder_id"],
            ["member.id"],
            name=op.f("fk_concern_response_responder_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_response")),
    )
    with op.batch_alter_table("concern_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concern_response_concern_id"), ["concern_id"], unique=False)

    op.create_table(
        "concern_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concern_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("at", aicommons.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["member.id"],
            name=op.f("fk_concern_status_change_changed_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["concern.id"],
            name=op.f("fk_concern_status_change_concern_id_concern"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_status_change")),
    )
    with op.batch_alter_table("concern_status_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concern_status_change_concern_id"), ["concern_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("concern_status_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_status_change_concern_id"))

    op.drop_table("concern_status_change")
    with op.batch_alter_table("concern_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_response_concern_id"))

    op.drop_table("concern_response")
    with op.batch_alter_table("concern_responder", schema=None) as batch_op:
        batch_op.drop_index("ix_concern_responder_member")

    op.drop_table("concern_responder")
    op.drop_table("concern_flag")
    op.drop_table("concern_corroboration")
    with op.batch_alter_table("concern", schema=None) as batch_op:
        batch_op.drop_index("ix_concern_status")
        batch_op.drop_index(batch_op.f("ix_concern_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_concern_hidden_at"))
        batch_op.drop_index(batch_op.f("ix_concern_escalated_to_id"))

    op.drop_table("concern")
