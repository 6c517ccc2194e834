"""The demo's journeys: page visits of many demo members across the communities, spread over the last
year, so that every funnel starts wide. Joins, roles and contributions come from the rest of the demo."""

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from aicommons.communities import permissions as community_permissions
from aicommons.communities import service as communities
from aicommons.communities.models import Community
from aicommons.core.db import utcnow
from aicommons.journeys import service
from aicommons.members.models import Member

VISIT_SHARE = 0.55  # of the members who may see a community but are not in it, how many looked at it
MEMBERS_VISIT = 0.9  # of its members, how many looked at its page before joining (others were invited)
YEAR_DAYS = 360


def seed(session: Session, people: dict[str, Member]) -> None:
    """Record the demo members' visits; the same every time (a seeded generator)."""
    chance = random.Random(2026)
    for community in session.scalars(select(Community).order_by(Community.id)):
        for member in people.values():
            membership = communities.membership_of(session, community, member)
            if not community_permissions.may_see(community, member, membership):
                continue
            share = MEMBERS_VISIT if membership is not None else VISIT_SHARE
            if chance.random() < share:
                _visit(session, community, member, chance)


def _visit(session: Session, community: Community, member: Member, chance: random.Random) -> None:
    """A first visit some time in the last year, and a few more since."""
    days_ago = chance.uniform(1, YEAR_DAYS)
    for _ in range(chance.randint(1, 3)):
        at = utcnow() - timedelta(days=days_ago)
        service.record_visit(session=session, community=community, member=member, now=at)
        days_ago = chance.uniform(0, days_ago)
