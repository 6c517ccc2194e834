"""Tokens: double-entry transfers, idempotency, no negative balance, a log that replays to the balances."""

import json
import random
import threading
import time

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from aicommons.core.db import unit_of_work
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.ledger import tokens
from aicommons.ledger.models import Account, LogEntry, Transfer


def mint(factory, owner: str, amount: int, key: str = "seed") -> None:
    with unit_of_work(factory) as session:
        tokens.mint(session, key=f"{key}/{owner}", target=owner, amount=amount, reason="tests")


def balances(factory) -> dict[str, int]:
    with factory() as session:
        return {owner: balance for owner, balance in session.execute(select(Account.owner, Account.balance))}


def replayed(factory, sequence) -> dict[str, int]:
    sequence()
    with factory() as session:
        return tokens.replay(
            json.loads(body) for body in session.scalars(select(LogEntry.body).order_by(LogEntry.index))
        )


def test_a_transfer_moves_tokens_and_is_on_the_log(factory, sequence):
    mint(factory, "member:1", 100)
    with unit_of_work(factory) as session:
        tokens.transfer(
            session,
            initiator="member:1",
            key="k1",
            source="member:1",
            target="member:2",
            amount=30,
            reason="thanks",
            note="for the help",
        )
    assert balances(factory) == {"issuance": -100, "member:1": 70, "member:2": 30}
    assert replayed(factory, sequence) == {"issuance": -100, "member:1": 70, "member:2": 30}
    with factory() as session:
        bodies = [json.loads(b) for b in session.scalars(select(LogEntry.body))]
    assert "for the help" not in json.dumps(bodies)


def test_a_transfer_changes_only_the_balances_of_its_accounts(factory):
    mint(factory, "member:1", 100)
    mint(factory, "member:2", 1)
    with factory() as session:
        opened = dict(session.execute(select(Account.owner, Account.created_at)).all())
    with unit_of_work(factory) as session:
        tokens.transfer(
            session, initiator="member:1", key="k", source="member:1", target="member:2", amount=5, reason="r"
        )
    with factory() as session:
        assert dict(session.execute(select(Account.owner, Account.created_at)).all()) == opened
    assert balances(factory) == {"issuance": -101, "member:1": 95, "member:2": 6}


def test_a_retry_with_the_same_key_returns_the_first_transfer(factory):
    mint(factory, "member:1", 100)
    args = {
        "initiator": "member:1",
        "key": "retry-me",
        "source": "member:1",
        "target": "member:2",
        "amount": 10,
        "reason": "x",
    }
    with unit_of_work(factory) as session:
        first = tokens.transfer(session, **args).id
    with unit_of_work(factory) as session:
        assert tokens.transfer(session, **args).id == first
        with pytest.raises(CommonsError) as clash:
            tokens.transfer(session, **(args | {"amount": 11}))
        assert clash.value.code is ErrorCode.IDEMPOTENCY_CONFLICT
    assert balances(factory)["member:2"] == 10


def test_insufficient_funds_change_nothing(factory):
    mint(factory, "member:1", 5)
    with pytest.raises(CommonsError) as refused, unit_of_work(factory) as session:
        tokens.transfer(
            session, initiator="member:1", key="k", source="member:1", target="member:2", amount=6, reason="x"
        )
    assert refused.value.code is ErrorCode.INSUFFICIENT_FUNDS
    assert balances(factory) == {"issuance": -5, "member:1": 5}
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Transfer)) == 1


@pytest.mark.parametrize("amount", [0, -3])
def test_only_positive_amounts_move(factory, amount):
    with factory() as session, pytest.raises(CommonsError):
        tokens.transfer(
            session,
            initiator="member:1",
            key="k",
            source="member:1",
            target="member:2",
            amount=amount,
            reason="x",
        )


def test_the_database_itself_refuses_a_negative_balance(factory):
    mint(factory, "member:1", 5)
    with pytest.raises(IntegrityError), unit_of_work(factory) as session:
        session.execute(update(Account).where(Account.owner == "member:1").values(balance=-1))
    with pytest.raises(IntegrityError), unit_of_work(factory) as session:
        session.execute(text("UPDATE transfer SET amount = 0"))


def test_rewards_follow_the_policy_once_per_subject(factory):
    with unit_of_work(factory) as session:
        tokens.set_parameter(session, "reward:communities:community:create", 25)
        tokens.reward(session, "communities:community:create", subject="community:7", contributors=[1, 2, 2])
        tokens.reward(session, "communities:community:create", subject="community:7", contributors=[1])
        assert tokens.reward(session, "nothing:is:paid", subject="x", contributors=[1]) == []
    assert balances(factory) == {"issuance": -50, "member:1": 25, "member:2": 25}


def test_eight_concurrent_writers_on_hot_accounts_keep_every_invariant(factory, sequence, database_url):
    hot = [f"member:{n}" for n in range(1, 6)]
    for owner in hot:
        mint(factory, owner, 1_000)
    succeeded: set[str] = set()
    unexpected: list[Exception] = []

    def writer(seed: int) -> None:
        chance = random.Random(seed)
        for n in range(40):
            source, target = chance.sample(hot, 2)
            key, amount = f"w{seed}-{n}", chance.randint(1, 400)
            for _attempt in range(2):  # a retry of the same key must not move tokens twice
                try:
                    with unit_of_work(factory) as session:
                        tokens.transfer(
                            session,
                            initiator="tests",
                            key=key,
                            source=source,
                            target=target,
                            amount=amount,
                            reason="load",
                        )
                    succeeded.add(key)
                except CommonsError as error:
                    if error.code is not ErrorCode.INSUFFICIENT_FUNDS:
                        unexpected.append(error)
                except Exception as error:  # a deadlock or lost update would land here
                    unexpected.append(error)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unexpected == []
    final = balances(factory)
    with factory() as session:
        moved = session.scalar(
            select(func.count()).select_from(Transfer).where(Transfer.initiator == "tests")
        )
    assert sum(final.values()) == 0  # only minting changes the total, and issuance holds its negative
    assert all(balance >= 0 for owner, balance in final.items() if owner != "issuance")
    assert sum(final[o] for o in hot) == 5_000
    assert moved == len(succeeded) > 0  # no transfer lost, none duplicated by its retry
    assert replayed(factory, sequence) == {owner: b for owner, b in sorted(final.items()) if b}


def test_a_transfer_locks_both_accounts_in_key_order_so_crossing_transfers_cannot_deadlock(
    factory, database_url
):
    """The payer's row lies after the payee's in the table, and the payee's row is held by another
    transaction: the transfer must already hold the lower key while it waits for the higher."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: a transfer holds the whole database")
    mint(factory, "member:1", 100)
    mint(factory, "member:2", 100)
    with unit_of_work(factory) as session:  # a new version of member:1's row, indexed anew, after member:2's
        for owner in ("member:1", "member:1-moved"):
            moved = {"owner": "member:1-moved" if owner == "member:1" else "member:1"}
            session.execute(update(Account).where(Account.owner == owner).values(**moved))
        heap_order = "SELECT owner FROM account WHERE owner IN ('member:1', 'member:2') ORDER BY ctid"
        assert list(session.scalars(text(heap_order))) == ["member:2", "member:1"]
    low, high = (select(Account.id).where(Account.owner == o) for o in ("member:1", "member:2"))
    with factory() as holder, factory() as probe:
        holder.execute(high.with_for_update(key_share=True))
        paying = threading.Thread(target=_pay, args=(factory, "member:2", "member:1"))
        paying.start()
        _wait_until_a_backend_waits_for_a_lock(probe)
        with pytest.raises(OperationalError, match="could not obtain lock"):
            probe.execute(low.with_for_update(key_share=True, nowait=True))
        probe.rollback()
        holder.rollback()
        paying.join()
    assert balances(factory) == {"issuance": -200, "member:1": 101, "member:2": 99}


def _pay(factory, source: str, target: str) -> None:
    with unit_of_work(factory) as session:
        tokens.transfer(
            session, initiator="tests", key="cross", source=source, target=target, amount=1, reason="t"
        )


def _wait_until_a_backend_waits_for_a_lock(session) -> None:
    waiting = text(  # the transfer's statement, not another test's waiting on its own database
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH moved AS%'"
    )
    for _poll in range(200):
        found = session.scalar(waiting)
        session.rollback()  # PostgreSQL reads the activity once per transaction
        if found:
            return
        time.sleep(0.02)
    raise AssertionError("the transfer never waited for the held account")


def test_creating_a_community_earns_the_policys_reward(client, factory, make_member, token_for):
    from tests.communities.conftest import community_form

    creator, joiner = make_member("creator"), make_member("joiner")
    with unit_of_work(factory) as session:
        tokens.set_parameter(session, "reward:communities:community:create", 40)
        tokens.set_parameter(session, "communities:reward-members", 1)  # paid once one other member joins
        tokens.set_parameter(session, "members:established-age", 0)
    client.post("/api/v1/communities", headers=token_for(creator), json=community_form("nurses"))
    refused = client.post("/api/v1/communities", headers=token_for(creator), json=community_form("nurses"))
    assert refused.status_code == 409
    client.post("/api/v1/communities/nurses/members", headers=token_for(joiner))
    assert balances(factory)[tokens.member_account(creator.id)] == 40


def test_each_completed_interval_of_the_log_mints_the_block_reward_once(factory):
    with unit_of_work(factory) as session:
        tokens.set_parameter(session, tokens.INTERVAL_ENTRIES, 10)
        tokens.set_parameter(session, tokens.INTERVAL_AMOUNT, 7)
        assert len(tokens.reward_intervals(session, 25)) == 2
        assert tokens.reward_intervals(session, 29) == []
        assert len(tokens.reward_intervals(session, 30)) == 1
        tokens.set_parameter(session, tokens.INTERVAL_ENTRIES, 3)  # too short: it would feed itself
        assert tokens.reward_intervals(session, 100) == []
    assert balances(factory)["treasury"] == 21
