"""The rewards for creating and registering communities cannot be farmed: a reward waits until enough
established members have joined, and a member earns at most a few of each kind in a period."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from aicommons.communities.models import CommunityReward
from aicommons.core.db import unit_of_work, utcnow
from aicommons.ledger import tokens
from aicommons.ledger.models import Transfer
from aicommons.members.models import Member
from tests.communities.conftest import community_form

CREATE = "communities:community:create"
REGISTER = "communities:community:register"


def set_rewards(factory, **amounts: int) -> None:
    with unit_of_work(factory) as session:
        for event, amount in amounts.items():
            tokens.set_parameter(session, tokens.REWARD_PREFIX + event.replace("_", ":"), amount)


def set_parameter(factory, name: str, value: int) -> None:
    with unit_of_work(factory) as session:
        tokens.set_parameter(session, name, value)


def age(factory, member: Member, days: int = 7) -> Member:
    """Make the account `days` old, as if it had signed up then."""
    member.created_at = utcnow() - timedelta(days=days)
    with unit_of_work(factory) as session:
        session.execute(update(Member).where(Member.id == member.id).values(created_at=member.created_at))
    return member


def balance(factory, member: Member) -> int:
    with factory() as session:
        return tokens.balance(session, tokens.member_account(member.id))


@pytest.fixture
def joiners(make_member, token_for, factory):
    """Three established members (a week old), as authorization headers."""
    return [token_for(age(factory, make_member(f"joiner{n}"))) for n in range(3)]


def join_all(client, slug: str, joiners) -> None:
    for headers in joiners:
        answer = client.post(f"/api/v1/communities/{slug}/members", headers=headers)
        assert answer.status_code == 201, answer.text


def test_creating_three_communities_pays_no_repeat_reward(client, factory, make_member, token_for, joiners):
    """The farming attack of issue 15: three creations minted the creation reward three times."""
    set_rewards(factory, communities_community_create=50)
    farmer = make_member("farmer")
    headers = token_for(farmer)
    for slug in ("farm-one", "farm-two", "farm-three"):
        created = client.post("/api/v1/communities", headers=headers, json=community_form(slug))
        assert created.status_code == 201, created.text
        join_all(client, slug, joiners)
    assert balance(factory, farmer) == 50


def test_the_creation_reward_waits_for_the_third_established_member(
    client, factory, make_member, token_for, joiners
):
    set_rewards(factory, communities_community_create=50)
    creator = make_member("creator")
    client.post("/api/v1/communities", headers=token_for(creator), json=community_form("nurses"))
    assert balance(factory, creator) == 0
    throwaway = token_for(make_member("throwaway"))  # signed up a moment ago: does not count
    join_all(client, "nurses", [throwaway, *joiners[:2]])
    assert balance(factory, creator) == 0
    join_all(client, "nurses", joiners[2:])
    assert balance(factory, creator) == 50
    client.delete("/api/v1/communities/nurses/members/me", headers=joiners[2])
    join_all(client, "nurses", joiners[2:])  # leaving and joining again pays nothing more
    assert balance(factory, creator) == 50


def test_a_reward_over_the_cap_waits_for_the_next_period(client, factory, make_member, token_for, joiners):
    set_rewards(factory, communities_community_create=50)
    set_parameter(factory, "communities:reward-members", 1)
    creator = make_member("creator")
    for slug in ("first", "second"):
        client.post("/api/v1/communities", headers=token_for(creator), json=community_form(slug))
        join_all(client, slug, joiners[:1])
    assert balance(factory, creator) == 50
    with unit_of_work(factory) as session:  # a period later
        earlier = utcnow() - timedelta(days=31)
        session.execute(
            update(CommunityReward).where(CommunityReward.paid_at.is_not(None)).values(paid_at=earlier)
        )
    join_all(client, "second", joiners[1:2])
    assert balance(factory, creator) == 100


def test_registering_teams_pays_the_registrar_and_steward_once_members_join(
    client, factory, make_member, token_for, joiners
):
    """The same attack on registration: each registration minted to registrar and steward at once."""
    set_rewards(factory, communities_community_register=25)
    registrar, steward = make_member("registrar"), make_member("lead")
    for slug in ("team-one", "team-two"):
        form = community_form(slug) | {"steward": "lead"}
        answer = client.post("/api/v1/communities/register", headers=token_for(registrar), json=form)
        assert answer.status_code == 201, answer.text
        if slug == "team-one":
            assert balance(factory, registrar) == balance(factory, steward) == 0
        join_all(client, slug, joiners)
    assert balance(factory, registrar) == balance(factory, steward) == 25


def test_every_paid_reward_is_on_the_log_as_a_mint(client, factory, make_member, token_for, joiners):
    set_rewards(factory, communities_community_create=50)
    creator = make_member("creator")
    client.post("/api/v1/communities", headers=token_for(creator), json=community_form("nurses"))
    join_all(client, "nurses", joiners)
    with factory() as session:
        [minted] = session.scalars(select(Transfer).where(Transfer.reason == CREATE)).all()
        assert (minted.from_account.owner, minted.to_account.owner, minted.amount) == (
            tokens.ISSUANCE,
            tokens.member_account(creator.id),
            50,
        )
