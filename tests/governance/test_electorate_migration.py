"""Revision 0013 gives the votes open at the upgrade the electorate of their snapshot."""

from typing import Any

import sqlalchemy as sa

from aicommons.core import migrate
from aicommons.core.db import make_engine, utcnow
from aicommons.ledger.entries import canonical

NOW = utcnow()


def _entry(index: int, event: str, actor: int, community: int | None = None) -> dict[str, Any]:
    subject = {"community": community} if community is not None else {}
    data = {"member": actor, "role": "member"} if community is not None else {"role": "member"}
    document = {
        "v": 1,
        "event": event,
        "actor": f"member:{actor}",
        "subject": subject,
        "at": "x",
        "data": data,
    }
    return {
        "index": index,
        "record_id": index + 1,
        "body": canonical(document),
        "event": event,
        "actor_id": actor,
        "community_id": community,
        "created_at": NOW,
    }


def _proposal(number: int, state: str, snapshot: int | None, community: int | None = None) -> dict[str, Any]:
    return {
        "id": number,
        "community_id": community,
        "kind": "signal",
        "method": "one_member",
        "title": f"Proposal {number}",
        "body": "",
        "options": [],
        "action": {},
        "state": state,
        "rules": {},
        "created_at": NOW,
        "snapshot": snapshot,
        "extended": False,
        "last_error": "",
    }


def test_votes_open_at_the_upgrade_get_the_electorate_of_their_snapshot(tmp_path):
    url = f"sqlite:///{tmp_path / 'older.db'}"
    migrate.upgrade(url, "0012")
    engine = make_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine, only=["member", "community", "log_entry", "proposal"])
    members = [
        {"id": n, "handle": f"m{n}", "email": f"m{n}@example.org", "display_name": f"M{n}", "bio": "",
         "sectors": [], "languages": [], "role": "member", "password_hash": "x", "created_at": NOW}
        for n in (1, 2, 3, 4)
    ]  # fmt: skip
    community = {
        "id": 1, "slug": "lab", "name": "Lab", "format": "project", "description": "", "region": "africa",
        "languages": [], "visibility": "public", "join_policy": "open", "registered": False, "channels": [],
        "member_count": 2, "created_at": NOW,
    }  # fmt: skip
    signup, join, leave = "members:member:signup", "communities:member:join", "communities:member:leave"
    log = [
        *(_entry(n - 1, signup, n) for n in (1, 2, 3)),  # the commons-wide vote's snapshot: 3
        _entry(3, join, 1, community=1),
        _entry(4, join, 3, community=1),
        _entry(5, leave, 3, community=1),
        _entry(6, join, 2, community=1),  # the community vote's snapshot: 7
        _entry(7, signup, 4),
        _entry(8, join, 4, community=1),
    ]
    with engine.begin() as connection:
        connection.execute(tables.tables["member"].insert(), members)
        connection.execute(tables.tables["community"].insert(), [community])
        connection.execute(tables.tables["log_entry"].insert(), log)
        proposals = [
            _proposal(1, "active", 3),
            _proposal(2, "active", 7, community=1),
            _proposal(3, "defeated", 3),
            _proposal(4, "pending", None),
        ]
        connection.execute(tables.tables["proposal"].insert(), proposals)
    migrate.upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT proposal_id, member_id FROM elector ORDER BY 1, 2")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2)]
