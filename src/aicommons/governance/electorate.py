"""Who may vote on a proposal: the members of the commons (of the community, for its proposals) in the log's
first `snapshot` entries, the log's signed size when the voting opened.

Pure functions of log entries, with no database: the commons fixes a proposal's electorate with them when
its voting opens, and an auditor's recount (`aicommons governance tally --from-log`) finds the same one. A
log position cannot be back-dated, so no account made and no community joined after the opening gets in.
"""

from collections.abc import Iterable
from typing import Any

SIGNUP = "members:member:signup"
JOIN = "communities:member:join"
LEAVE = "communities:member:leave"


def events(community_id: int | None) -> tuple[str, ...]:
    """The log events that make the electorate: signups commons-wide, joins and leaves in a community."""
    return (SIGNUP,) if community_id is None else (JOIN, LEAVE)


def members_at(entries: Iterable[dict[str, Any]], community_id: int | None) -> set[int]:
    """The members that `entries` (parsed, in log order: the first `snapshot` entries, or those of them
    that `events` names) leave in the commons, or in the community numbered `community_id`."""
    members: set[int] = set()
    for entry in entries:
        event = entry.get("event")
        if community_id is None:
            if event == SIGNUP:
                members.add(member_number(entry["actor"]))
        elif (entry.get("subject") or {}).get("community") == community_id:
            if event == JOIN:
                members.add(int(entry["data"]["member"]))
            elif event == LEAVE:
                members.discard(int(entry["data"]["member"]))
    return members


def member_number(actor: str) -> int:
    """The member an entry's actor names ("member:12" -> 12)."""
    return int(actor.removeprefix("member:"))
