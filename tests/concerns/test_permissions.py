"""The authorization table of concerns, part by part, without a database."""

from types import SimpleNamespace

import pytest

from aicommons.concerns.permissions import (
    ALLOWED,
    Action,
    Part,
    Standing,
    may,
    may_read_brief,
    may_see,
    parts_of,
)
from aicommons.members.models import GlobalRole

EXPECTED = {
    Part.MODERATOR: {
        Action.MOVE,
        Action.TRIAGE,
        Action.MERGE,
        Action.ESCALATE,
        Action.MODERATE,
        Action.NAME_RESPONDERS,
    },
    Part.STEWARD: {Action.MOVE},
    Part.RESPONDER: {Action.RESPOND},
    Part.REPORTER: set(),
}


@pytest.mark.parametrize("part", list(Part))
@pytest.mark.parametrize("action", list(Action))
def test_each_part_may_do_exactly_its_actions(part, action):
    assert may(action, Standing(frozenset({part}))) is (action in EXPECTED[part])


@pytest.mark.parametrize("action", list(Action))
def test_nobody_special_may_do_nothing(action):
    assert not may(action, Standing(frozenset()))


def test_the_table_names_every_action():
    assert set(ALLOWED) == set(Action)


def member(member_id: int, role: GlobalRole = GlobalRole.MEMBER) -> SimpleNamespace:
    return SimpleNamespace(id=member_id, role=role)


def concern(reporter_id: int | None = None, hidden: bool = False) -> SimpleNamespace:
    return SimpleNamespace(reporter_id=reporter_id, hidden=hidden)


def membership(role: str, status: str = "active") -> SimpleNamespace:
    return SimpleNamespace(role=role, status=status)


@pytest.mark.parametrize(
    ("viewer", "held", "responder", "parts"),
    [
        (None, None, False, set()),
        (member(1), None, False, set()),
        (member(7), None, False, {Part.REPORTER}),
        (member(1, GlobalRole.MODERATOR), None, False, {Part.MODERATOR}),
        (member(1, GlobalRole.ADMIN), None, False, {Part.MODERATOR}),
        (member(1), membership("steward"), False, {Part.STEWARD}),
        (member(1), membership("steward", "invited"), False, set()),
        (member(1), membership("organizer"), False, set()),
        (member(1), None, True, {Part.RESPONDER}),
        (member(7, GlobalRole.MODERATOR), membership("steward"), True, set(Part)),
    ],
)
def test_parts_come_from_the_global_role_the_community_role_and_the_concern(viewer, held, responder, parts):
    assert parts_of(concern(reporter_id=7), viewer, held, responder=responder) == parts


@pytest.mark.parametrize(
    ("parts", "visible"),
    [
        (set(), False),
        ({Part.STEWARD}, False),
        ({Part.RESPONDER}, False),
        ({Part.REPORTER}, True),
        ({Part.MODERATOR}, True),
    ],
)
def test_a_hidden_concern_exists_only_for_moderators_and_its_reporter(parts, visible):
    assert may_see(concern(hidden=True), Standing(frozenset(parts))) is visible
    assert may_see(concern(hidden=False), Standing(frozenset(parts))) is True


def test_the_brief_stays_with_the_policy_community_and_the_moderators():
    assert may_read_brief(Standing(frozenset({Part.MODERATOR})))
    assert may_read_brief(Standing(frozenset(), in_community=True))
    assert not may_read_brief(Standing(frozenset({Part.REPORTER}), sees_community=True))
