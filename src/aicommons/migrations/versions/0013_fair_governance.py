"""fair play: voting eligibility fixed at the snapshot

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:45:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rule as it stood when this migration was written (governance/electorate.py), frozen here.
SIGNUP, JOIN, LEAVE = "members:member:signup", "communities:member:join", "communities:member:leave"
proposal = sa.table(
    "proposal", sa.column("id"), sa.column("community_id"), sa.column("state"), sa.column("snapshot")
)
log_entry = sa.table(
    "log_entry", sa.column("index"), sa.column("event"), sa.column("community_id"), sa.column("body")
)
elector = sa.table("elector", sa.column("proposal_id"), sa.column("member_id"))


def upgrade() -> None:
    op.create_table(
        "elector",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_elector_member_id_member"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_elector_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("proposal_id", "member_id", name=op.f("pk_elector")),
    )
    _fix_open_electorates(op.get_bind())


def _fix_open_electorates(connection: sa.Connection) -> None:
    """Votes open now get the electorate of their snapshot, as the ones opened from here on do (their
    quorum stays the one recorded on the log when they opened)."""
    voting = sa.select(proposal.c.id, proposal.c.community_id, proposal.c.snapshot).where(
        proposal.c.state == "active", proposal.c.snapshot.is_not(None)
    )
    for proposal_id, community_id, snapshot in connection.execute(voting).all():
        members = _members_at(connection, community_id, snapshot)
        if members:
            rows = [{"proposal_id": proposal_id, "member_id": member} for member in sorted(members)]
            connection.execute(elector.insert(), rows)


def _members_at(connection: sa.Connection, community_id: int | None, snapshot: int) -> set[int]:
    query = sa.select(log_entry.c.body).where(log_entry.c.index < snapshot).order_by(log_entry.c.index)
    if community_id is None:
        signups = connection.scalars(query.where(log_entry.c.event == SIGNUP))
        return {int(json.loads(body)["actor"].removeprefix("member:")) for body in signups}
    members: set[int] = set()
    changes = query.where(log_entry.c.event.in_((JOIN, LEAVE)), log_entry.c.community_id == community_id)
    for body in connection.scalars(changes):
        entry = json.loads(body)
        if entry["event"] == JOIN:
            members.add(int(entry["data"]["member"]))
        else:
            members.discard(int(entry["data"]["member"]))
    return members


def downgrade() -> None:
    op.drop_table("elector")
