"""In-app notifications: what a member should know about (a digest of subscribed insights, a place freed
on an event's waitlist, a vote that opens). Any later domain notifies through `notify`."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from aicommons.core.db import Base, UTCDateTime, utcnow
from aicommons.core.pagination import Page, PageRequest, paginate
from aicommons.members.models import Member


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_member", "member_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # such as "digest", "waitlist", "vote"
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(4000), default="")
    url: Mapped[str] = mapped_column(String(500), default="")  # a path of the commons
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


def notify(session: Session, member_id: int, *, kind: str, title: str, body: str = "", url: str = "") -> None:
    """Leave a notification for a member, in the caller's transaction."""
    session.add(Notification(member_id=member_id, kind=kind, title=title[:200], body=body[:4000], url=url))


def list_for(session: Session, member: Member, request: PageRequest) -> Page[Notification]:
    """A member's notifications, newest first."""
    query = select(Notification).where(Notification.member_id == member.id).order_by(Notification.id.desc())
    return paginate(session, query, request)


def unread_count(session: Session, member: Member) -> int:
    query = select(func.count()).where(Notification.member_id == member.id, Notification.read_at.is_(None))
    return session.scalar(query) or 0


def mark_all_read(session: Session, member: Member) -> None:
    session.execute(
        update(Notification)
        .where(Notification.member_id == member.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
