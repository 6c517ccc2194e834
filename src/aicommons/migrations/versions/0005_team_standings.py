"""team standings: each team's best public score and its private rank, kept on its row; the measured
shares of the data behind a submission

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import aicommons.core.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("public_score", sa.Float()),
    ("public_low", sa.Float()),
    ("public_high", sa.Float()),
    ("last_submission_at", aicommons.core.db.UTCDateTime(timezone=True)),
    ("private_rank", sa.Integer()),
    ("private_score", sa.Float()),
)


def upgrade() -> None:
    with op.batch_alter_table("submission") as submission:  # the data dividend follows measured shares
        submission.add_column(sa.Column("contributions", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("team") as team:
        for name, kind in COLUMNS:
            team.add_column(sa.Column(name, kind, nullable=True))
        team.add_column(sa.Column("scored_submissions", sa.Integer(), nullable=False, server_default="0"))
        team.create_index("ix_team_problem_public", ["problem_id", "public_score"])
        team.create_index("ix_team_problem_private", ["problem_id", "private_rank"])
    _stand_existing_teams()


def _stand_existing_teams() -> None:
    """Teams that already have scored submissions get their standing now, as the app would keep it."""
    from aicommons.problems import standings  # the app's own rule, as of this revision
    from aicommons.problems.models import Problem, ProblemState

    session = Session(bind=op.get_bind())
    for problem in session.query(Problem).all():
        standings.refresh(session, problem)
        if problem.state == ProblemState.CLOSED:
            standings.rank_private(session, problem)
    session.flush()


def downgrade() -> None:
    with op.batch_alter_table("submission") as submission:
        submission.drop_column("contributions")
    with op.batch_alter_table("team") as team:
        team.drop_index("ix_team_problem_private")
        team.drop_index("ix_team_problem_public")
        for name in ("scored_submissions", *(name for name, _ in COLUMNS)):
            team.drop_column(name)
