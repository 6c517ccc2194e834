"""Following sectors, tags and communities, and the daily digest that tells a member what is new there
(docs/decisions/0024-daily-digest.md)."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.insights.models import Facet, Insight, Subscription
from aicommons.insights.schemas import SubscriptionCreate
from aicommons.insights.service import NEWEST_FIRST, filed_under, readable
from aicommons.members.models import Member
from aicommons.members.notifications import notify

MAX_SUBSCRIPTIONS = 50
DAY = timedelta(days=1)
DIGEST_LINES = 10
DUE_BATCH = 200


def subscribe(*, session: Session, member: Member, form: SubscriptionCreate) -> Subscription:
    """Follow a sector, tag or community; following it again returns the first subscription."""
    if form.facet == Facet.COMMUNITY:
        communities.get(session=session, slug=form.value, viewer=member)  # one the member may see
    existing = session.scalar(
        select(Subscription).where(
            Subscription.member_id == member.id,
            Subscription.facet == form.facet,
            Subscription.value == form.value,
        )
    )
    if existing is not None:
        return existing
    if len(list_for(session=session, member=member)) >= MAX_SUBSCRIPTIONS:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"follow at most {MAX_SUBSCRIPTIONS} things")
    subscription = Subscription(
        member_id=member.id, facet=form.facet, value=form.value, last_digest_at=utcnow()
    )
    session.add(subscription)
    session.flush()
    return subscription


def list_for(*, session: Session, member: Member) -> list[Subscription]:
    query = select(Subscription).where(Subscription.member_id == member.id)
    return list(session.scalars(query.order_by(Subscription.facet, Subscription.value)))


def unsubscribe(*, session: Session, member: Member, subscription_id: int) -> None:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.member_id != member.id:
        raise CommonsError(ErrorCode.SUBSCRIPTION_NOT_FOUND, f"you have no subscription {subscription_id}")
    session.delete(subscription)
    session.flush()


def due(session: Session, *, now: datetime, limit: int = DUE_BATCH) -> list[int]:
    """Members with a subscription whose last digest is a day old or older."""
    query = select(Subscription.member_id).where(Subscription.last_digest_at <= now - DAY).distinct()
    return list(session.scalars(query.order_by(Subscription.member_id).limit(limit)))


def send_digest(session: Session, *, member_id: int, now: datetime) -> bool:
    """One notification listing what is new since the member's last digest and theirs to read; False
    when nothing was due (another worker sent it) or nothing was new."""
    member = session.get(Member, member_id)
    following = list(session.scalars(select(Subscription).where(Subscription.member_id == member_id)))
    if member is None or not following or not _claim(session, member_id, now):
        return False
    fresh = _new_for(session, member, following, now)
    if fresh:
        count = len(fresh) if len(fresh) <= DIGEST_LINES else _count_new(session, member, following, now)
        title = f"{count} new insight{'s' if count != 1 else ''} in what you follow"
        notify(
            session,
            member_id,
            kind="digest",
            title=title,
            body=_lines(fresh, count),
            url="/insights/subscriptions",
        )
    return bool(fresh)


def _claim(session: Session, member_id: int, now: datetime) -> bool:
    """Move every subscription of the member to `now`, if one is due: whoever moves them sends the digest."""
    moved = session.execute(
        update(Subscription)
        .where(Subscription.member_id == member_id, Subscription.last_digest_at <= now - DAY)
        .values(last_digest_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        return False
    rest = update(Subscription).where(Subscription.member_id == member_id).values(last_digest_at=now)
    session.execute(rest.execution_options(synchronize_session=False))
    return True


def _matching(member: Member, following: Sequence[Subscription], now: datetime) -> list[ColumnElement[bool]]:
    """Insights new to some subscription since its last digest, that the member did not write."""
    new_to_one = or_(
        *(
            filed_under(subscription.facet, subscription.value)
            & (Insight.created_at > subscription.last_digest_at)
            for subscription in following
        )
    )
    others = or_(Insight.author_id.is_(None), Insight.author_id != member.id)
    return [new_to_one, others, Insight.created_at <= now]


def _new_for(
    session: Session, member: Member, following: Sequence[Subscription], now: datetime
) -> list[Insight]:
    query = readable(session, select(Insight), member).where(*_matching(member, following, now))
    return list(session.scalars(query.order_by(NEWEST_FIRST).limit(DIGEST_LINES + 1)))


def _count_new(session: Session, member: Member, following: Sequence[Subscription], now: datetime) -> int:
    query = readable(session, select(func.count(Insight.id)), member).where(
        *_matching(member, following, now)
    )
    return session.scalar(query) or 0


def _lines(fresh: Sequence[Insight], count: int) -> str:
    lines = [f"• {insight.title} ({insight.community.name})" for insight in fresh[:DIGEST_LINES]]
    if count > DIGEST_LINES:
        lines.append(f"… and {count - DIGEST_LINES} more")
    return "\n".join(lines)
