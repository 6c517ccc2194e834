"""insights

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 09:20:00
"""

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # the insights domain's tables come here


def downgrade() -> None:
    pass
