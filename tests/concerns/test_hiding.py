"""Flags hide a concern only when they come from established accounts or a moderator: throwaway accounts
and anonymous addresses still reach the moderation queue, but cannot hide what someone raised."""

from aicommons.concerns import service
from aicommons.concerns.models import FlagReason
from aicommons.concerns.people import Person
from aicommons.ledger import tokens
from aicommons.members.models import GlobalRole
from tests.concerns.conftest import add_member, anonymous, established, raise_one

BASE = "/api/v1/concerns"


def throwaway(client, n: int) -> dict[str, str]:
    """A new account, made through the API a moment ago, as authorization headers."""
    form = {"handle": f"throwaway{n}", "email": f"t{n}@example.org", "password": "a long passphrase"}
    assert client.post("/api/v1/members", json=form | {"display_name": "T"}).status_code == 201
    login = client.post("/api/v1/auth/tokens", json={"handle": form["handle"], "password": form["password"]})
    return {"Authorization": f"Bearer {login.json()['secret']}"}


def test_three_throwaway_accounts_cannot_hide_a_concern(client, scene, headers_of):
    """The Sybil attack of issue 15: three fresh accounts flagged a concern and it was hidden."""
    path = f"{BASE}/{scene.other_id}"
    for n in range(3):
        answer = client.post(f"{path}/flags", json={"reason": "spam"}, headers=throwaway(client, n))
        assert answer.status_code == 201 and answer.json()["hidden"] is False
    assert client.get(path).json()["hidden"] is False
    assert scene.other_id in [item["id"] for item in client.get(BASE).json()["items"]]
    queue = client.get(f"{BASE}/moderation", headers=headers_of("mona")).json()["items"]
    assert [(item["id"], item["hidden"]) for item in queue] == [(scene.other_id, False)]


def flag(session, concern, person: Person) -> bool:
    """Flag the concern; whether the flag counts toward hiding it."""
    return service.flag(session=session, concern=concern, person=person, reason=FlagReason.SPAM).flag.counts


def test_only_established_accounts_and_moderators_count_toward_hiding(session):
    concern = raise_one(session).concern
    fresh = Person(member=add_member(session, "fresh"), address="1")
    old = [Person(member=established(session, f"old{n}"), address=str(n)) for n in range(2)]
    moderator = Person(member=add_member(session, "mona", GlobalRole.MODERATOR), address="9")
    flagged = [flag(session, concern, person) for person in (anonymous("5"), fresh, *old)]
    assert flagged == [False, False, True, True]
    assert (concern.flag_count, concern.hidden) == (4, False)
    assert flag(session, concern, moderator) is True  # a moderator's flag counts, however new the account
    assert concern.hidden


def test_the_established_age_is_a_governable_parameter(session):
    tokens.set_parameter(session, "members:established-age", 0)
    concern = raise_one(session).concern
    for n in range(service.HIDE_AT):
        flag(session, concern, Person(member=add_member(session, f"new{n}"), address=str(n)))
    assert concern.hidden
