"""governance

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aicommons.core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("proposer_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("next_step_at", aicommons.core.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", aicommons.core.db.UTCDateTime(), nullable=False),
        sa.Column("submitted_at", aicommons.core.db.UTCDateTime(), nullable=True),
        sa.Column("voting_starts_at", aicommons.core.db.UTCDateTime(), nullable=True),
        sa.Column("voting_ends_at", aicommons.core.db.UTCDateTime(), nullable=True),
        sa.Column("quorum_reached_at", aicommons.core.db.UTCDateTime(), nullable=True),
        sa.Column("eta", aicommons.core.db.UTCDateTime(), nullable=True),
        sa.Column("ended_at", aicommons.core.db.UTCDateTime(), nullable=True),
        sa.Column("snapshot", sa.BigInteger(), nullable=True),
        sa.Column("electorate", sa.BigInteger(), nullable=True),
        sa.Column("quorum", sa.BigInteger(), nullable=True),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_proposal_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposer_id"], ["member.id"], name=op.f("fk_proposal_proposer_id_member"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal")),
    )
    op.create_index("ix_proposal_next_step_at", "proposal", ["next_step_at"], unique=False)
    op.create_index("ix_proposal_scope", "proposal", ["community_id", "state", "id"], unique=False)
    op.create_index("ix_proposal_state", "proposal", ["state", "id"], unique=False)
    op.create_table(
        "vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.JSON(), nullable=False),
        sa.Column("power", sa.BigInteger(), nullable=False),
        sa.Column("cast_at", aicommons.core.db.UTCDateTime(), nullable=False),
        sa.Column("superseded_at", aicommons.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_vote_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["voter_id"], ["member.id"], name=op.f("fk_vote_voter_id_member"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote")),
    )
    op.create_index("ix_vote_current", "vote", ["proposal_id", "superseded_at", "id"], unique=False)
    op.create_index("ix_vote_voter", "vote", ["proposal_id", "voter_id", "id"], unique=False)
    op.create_table(
        "proposal_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("at", aicommons.core.db.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["member.id"], name=op.f("fk_proposal_step_actor_id_member"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_step_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_step")),
    )
    op.create_index("ix_proposal_step_proposal", "proposal_step", ["proposal_id", "id"], unique=False)
    op.add_column("dataset", sa.Column("admitted_at", aicommons.core.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset") as batch:
        batch.drop_column("admitted_at")
    op.drop_index("ix_proposal_step_proposal", table_name="proposal_step")
    op.drop_table("proposal_step")
    op.drop_index("ix_vote_voter", table_name="vote")
    op.drop_index("ix_vote_current", table_name="vote")
    op.drop_table("vote")
    op.drop_index("ix_proposal_state", table_name="proposal")
    op.drop_index("ix_proposal_scope", table_name="proposal")
    op.drop_index("ix_proposal_next_step_at", table_name="proposal")
    op.drop_table("proposal")
