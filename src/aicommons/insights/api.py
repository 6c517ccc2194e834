"""JSON routes of the insights domain under /api/v1."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from aicommons.communities.loaders import CommunityBySlug
from aicommons.core.pagination import Page, PageRequest, Paging
from aicommons.core.web import DbSession
from aicommons.insights import service, subscriptions
from aicommons.insights.models import Insight, Reuse
from aicommons.insights.schemas import (
    EndorsementRead,
    InsightCreate,
    InsightFilter,
    InsightPage,
    InsightRead,
    ReachRead,
    ReplyCreate,
    ReplyPage,
    ReplyRead,
    ReuseCreate,
    ReusePage,
    ReuseRead,
    SubscriptionCreate,
    SubscriptionList,
    SubscriptionRead,
)
from aicommons.members.auth import CurrentMember, OptionalMember
from aicommons.members.models import Member

router = APIRouter(prefix="/api/v1", tags=["insights"])


def insight_by_id(insight_id: int, session: DbSession, viewer: OptionalMember) -> Insight:
    return service.get(session=session, insight_id=insight_id, viewer=viewer)


InsightById = Annotated[Insight, Depends(insight_by_id)]


@router.get("/insights")
def browse(
    filters: Annotated[InsightFilter, Query()], page: Paging, session: DbSession, viewer: OptionalMember
) -> InsightPage:
    """The network feed: what the viewer may read, filtered; with `q`, best match first."""
    found = service.feed(session=session, viewer=viewer, filters=filters, page=page)
    return InsightPage.model_validate(found, from_attributes=True)


@router.post("/insights", status_code=status.HTTP_201_CREATED)
def publish(form: InsightCreate, author: CurrentMember, session: DbSession) -> InsightRead:
    """Post an insight in a community you belong to (rate-limited per member)."""
    return InsightRead.model_validate(service.publish(session=session, author=author, form=form))


@router.get("/insights/subscriptions")
def my_subscriptions(member: CurrentMember, session: DbSession) -> SubscriptionList:
    found = subscriptions.list_for(session=session, member=member)
    return SubscriptionList(items=[SubscriptionRead.model_validate(item) for item in found])


@router.post("/insights/subscriptions", status_code=status.HTTP_201_CREATED)
def subscribe(form: SubscriptionCreate, member: CurrentMember, session: DbSession) -> SubscriptionRead:
    """Follow a `sector`, `tag` or `community`: a daily digest notification lists what is new there."""
    return SubscriptionRead.model_validate(subscriptions.subscribe(session=session, member=member, form=form))


@router.delete("/insights/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def unsubscribe(subscription_id: int, member: CurrentMember, session: DbSession) -> Response:
    subscriptions.unsubscribe(session=session, member=member, subscription_id=subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/insights/{insight_id}")
def show(insight: InsightById) -> InsightRead:
    return InsightRead.model_validate(insight)


@router.get("/insights/{insight_id}/replies")
def replies(insight: InsightById, page: Paging, session: DbSession) -> ReplyPage:
    """The accepted answer first, then the replies in the order they came."""
    found = service.replies(session=session, insight=insight, page=page)
    return ReplyPage.model_validate(found, from_attributes=True)


@router.post("/insights/{insight_id}/replies", status_code=status.HTTP_201_CREATED)
def reply(insight: InsightById, form: ReplyCreate, author: CurrentMember, session: DbSession) -> ReplyRead:
    return ReplyRead.model_validate(service.reply(session=session, author=author, insight=insight, form=form))


@router.post("/insights/{insight_id}/replies/{reply_id}/accept")
def accept(insight: InsightById, reply_id: int, actor: CurrentMember, session: DbSession) -> ReplyRead:
    """The asker of a question accepts a reply as its answer."""
    answer = service.accept(session=session, actor=actor, insight=insight, reply_id=reply_id)
    return ReplyRead.model_validate(answer)


@router.put("/insights/{insight_id}/endorsement")
def endorse(insight: InsightById, member: CurrentMember, session: DbSession) -> EndorsementRead:
    service.endorse(session=session, member=member, insight=insight)
    return EndorsementRead(endorsed=True, endorsement_count=insight.endorsement_count)


@router.delete("/insights/{insight_id}/endorsement")
def withdraw_endorsement(insight: InsightById, member: CurrentMember, session: DbSession) -> EndorsementRead:
    service.withdraw_endorsement(session=session, member=member, insight=insight)
    return EndorsementRead(endorsed=False, endorsement_count=insight.endorsement_count)


@router.get("/insights/{insight_id}/reuses")
def reuses(insight: InsightById, page: Paging, session: DbSession, viewer: OptionalMember) -> ReusePage:
    """The communities that reused the insight; a private one the viewer may not see stays unnamed."""
    return _reuse_page(session, viewer, service.reuses(session=session, insight=insight, page=page))


@router.post("/insights/{insight_id}/reuses", status_code=status.HTTP_201_CREATED)
def record_reuse(
    insight: InsightById, form: ReuseCreate, actor: CurrentMember, session: DbSession
) -> ReuseRead:
    """A steward or organizer records that their community used this insight from another community."""
    reuse = service.record_reuse(session=session, actor=actor, insight=insight, form=form)
    return ReuseRead.of(reuse, reuse.community)


@router.get("/communities/{slug}/insights")
def community_insights(
    community: CommunityBySlug, page: Paging, session: DbSession, viewer: OptionalMember
) -> InsightPage:
    filters = InsightFilter(community=community.slug)
    found = service.feed(session=session, viewer=viewer, filters=filters, page=page)
    return InsightPage.model_validate(found, from_attributes=True)


@router.get("/communities/{slug}/insights/reach")
def reach(community: CommunityBySlug, session: DbSession, viewer: OptionalMember) -> ReachRead:
    """The network effect: how many of its insights other communities reused, across how many sectors."""
    shared = service.feed(
        session=session,
        viewer=viewer,
        filters=InsightFilter(community=community.slug),
        page=PageRequest(size=1),
    )
    figures = service.reach(session=session, community=community)
    return ReachRead(insights=shared.total, **asdict(figures))


def _reuse_page(session: Session, viewer: Member | None, found: Page[Reuse]) -> ReusePage:
    items = [ReuseRead.of(reuse, service.named_community(session, reuse, viewer)) for reuse in found.items]
    return ReusePage(items=items, total=found.total, page=found.page, size=found.size)
