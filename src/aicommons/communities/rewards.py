"""The rewards for creating and registering communities, paid only when due (decision 0046): once the
community has `communities:reward-members` established members besides those it rewards, and to each
member at most `communities:rewards-per-period` of each kind in `communities:reward-period` minutes (a
reward over the cap waits for a later period). The amounts are the reward policy's `reward:<event>`."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aicommons.communities.models import Community, CommunityReward, Membership, MembershipStatus
from aicommons.core.db import utcnow
from aicommons.ledger import tokens
from aicommons.members import service as members
from aicommons.members.models import Member

CREATE = "communities:community:create"
REGISTER = "communities:community:register"
REWARD_MEMBERS = "communities:reward-members"
REWARDS_PER_PERIOD = "communities:rewards-per-period"
REWARD_PERIOD = "communities:reward-period"  # minutes
DEFAULTS = {REWARD_MEMBERS: 3, REWARDS_PER_PERIOD: 1, REWARD_PERIOD: 30 * 24 * 60}


def setting(session: Session, name: str) -> int:
    return tokens.parameter(session, name, DEFAULTS[name])


def promise(session: Session, community: Community, event: str, contributors: Iterable[int]) -> None:
    """Owe each contributor the reward of `event` for `community`; `pay_due` pays it when it is due."""
    for member_id in sorted(set(contributors)):
        session.add(CommunityReward(community_id=community.id, member_id=member_id, event=event))
    session.flush()


def pay_due(session: Session, community: Community, now: datetime | None = None) -> list[CommunityReward]:
    """Pay the community's waiting rewards that are due (called whenever someone becomes an active member)."""
    waiting = list(
        session.scalars(
            select(CommunityReward)
            .where(CommunityReward.community_id == community.id, CommunityReward.paid_at.is_(None))
            .order_by(CommunityReward.id)
        )
    )
    rewarded = {reward.member_id for reward in waiting}
    if not waiting or _established_others(session, community, rewarded) < setting(session, REWARD_MEMBERS):
        return []
    return [reward for reward in waiting if _pay(session, reward, now or utcnow())]


def _established_others(session: Session, community: Community, rewarded: set[int]) -> int:
    """Active members of the community who are not rewarded by it and whose accounts are established."""
    count = session.scalar(
        select(func.count())
        .select_from(Membership)
        .join(Member, Member.id == Membership.member_id)
        .where(
            Membership.community_id == community.id,
            Membership.status == MembershipStatus.ACTIVE,
            Membership.member_id.not_in(rewarded),
            Member.created_at <= members.established_before(session),
        )
    )
    return count or 0


def _pay(session: Session, reward: CommunityReward, now: datetime) -> bool:
    """Mint the reward unless its member has had the period's share of this kind; False when it waits."""
    if _paid_in_period(session, reward, now) >= setting(session, REWARDS_PER_PERIOD):
        return False
    subject = f"community:{reward.community_id}"
    minted = tokens.reward(session, reward.event, subject=subject, contributors=[reward.member_id])
    reward.amount, reward.paid_at = sum(transfer.amount for transfer in minted), now
    session.flush()
    return True


def _paid_in_period(session: Session, reward: CommunityReward, now: datetime) -> int:
    since = now - timedelta(minutes=setting(session, REWARD_PERIOD))
    count = session.scalar(
        select(func.count()).where(
            CommunityReward.member_id == reward.member_id,
            CommunityReward.event == reward.event,
            CommunityReward.paid_at > since,
            CommunityReward.amount > 0,
        )
    )
    return count or 0
