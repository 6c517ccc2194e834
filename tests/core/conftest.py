"""Fixtures for the core tests."""

import pytest

from aicommons.communities import service as communities
from aicommons.communities.schemas import CommunityCreate
from aicommons.core.db import unit_of_work


@pytest.fixture
def new_stats_job(factory, make_member):
    """Queue the real community statistics job for a fresh community; returns the job id."""

    def queue() -> int:
        steward = make_member("steward")
        form = CommunityCreate(
            name="Nurses", slug="nurses", format="discussion", sectors=["health"], sdgs=[3], region="europe"
        )
        with unit_of_work(factory) as db:
            community = communities.create(session=db, creator=db.merge(steward), form=form)
            return communities.request_stats_refresh(
                session=db, actor=db.merge(steward), community=community
            ).id

    return queue
