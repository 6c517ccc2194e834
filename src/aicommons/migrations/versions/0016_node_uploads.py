"""fair play: node data uploaded by its owner

A simulated node's rows are uploaded by its owner and kept in the blob store, fingerprinted so that the
same rows back one node only; a path on the server's disk is no longer accepted. Simulated nodes
registered with a path before keep their policy and lose their rows: their owners upload them again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("federated_node") as batch:
        batch.add_column(sa.Column("data_blob", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("row_hashes_blob", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("rows_fingerprint", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_federated_node_rows_fingerprint", ["rows_fingerprint"])
        batch.drop_column("data_path")


def downgrade() -> None:
    with op.batch_alter_table("federated_node") as batch:
        batch.add_column(sa.Column("data_path", sa.Text(), nullable=True))
        batch.drop_constraint("uq_federated_node_rows_fingerprint", type_="unique")
        batch.drop_column("rows_fingerprint")
        batch.drop_column("row_hashes_blob")
        batch.drop_column("data_blob")
