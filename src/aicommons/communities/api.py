"""JSON routes of the communities domain under /api/v1."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from aicommons.communities import service
from aicommons.communities.loaders import CommunityBySlug
from aicommons.communities.models import MembershipStatus
from aicommons.communities.schemas import (
    CommunityCreate,
    CommunityFilter,
    CommunityPage,
    CommunityRead,
    CommunityRegister,
    CommunityUpdate,
    Invitation,
    MembershipPage,
    MembershipRead,
    RoleChange,
    StatsRead,
)
from aicommons.core.jobs import JobRead
from aicommons.core.pagination import Paging
from aicommons.core.web import DbSession
from aicommons.members.auth import CurrentMember, OptionalMember

router = APIRouter(prefix="/api/v1/communities", tags=["communities"])


@router.get("")
def browse(
    filters: Annotated[CommunityFilter, Query()], page: Paging, session: DbSession, viewer: OptionalMember
) -> CommunityPage:
    """Communities the viewer may see, filtered by text, format, sector, SDG and region."""
    found = service.search(session=session, viewer=viewer, filters=filters, page=page)
    return CommunityPage.model_validate(found, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED)
def create(form: CommunityCreate, creator: CurrentMember, session: DbSession) -> CommunityRead:
    return CommunityRead.model_validate(service.create(session=session, creator=creator, form=form))


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register(form: CommunityRegister, registrar: CurrentMember, session: DbSession) -> CommunityRead:
    """Register an existing team or office, naming its steward and the channels it already uses."""
    return CommunityRead.model_validate(service.register(session=session, registrar=registrar, form=form))


@router.get("/{slug}")
def show(community: CommunityBySlug) -> CommunityRead:
    return CommunityRead.model_validate(community)


@router.patch("/{slug}")
def edit(
    community: CommunityBySlug, changes: CommunityUpdate, actor: CurrentMember, session: DbSession
) -> CommunityRead:
    updated = service.update_community(session=session, actor=actor, community=community, changes=changes)
    return CommunityRead.model_validate(updated)


@router.post("/{slug}/archive")
def archive(community: CommunityBySlug, actor: CurrentMember, session: DbSession) -> CommunityRead:
    return CommunityRead.model_validate(service.archive(session=session, actor=actor, community=community))


@router.get("/{slug}/members")
def members(
    community: CommunityBySlug,
    page: Paging,
    session: DbSession,
    viewer: OptionalMember,
    state: MembershipStatus = MembershipStatus.ACTIVE,
) -> MembershipPage:
    """Active members; with `state=pending` or `state=invited`, the queue its organizers work through."""
    found = service.list_members(session=session, viewer=viewer, community=community, status=state, page=page)
    return MembershipPage.model_validate(found, from_attributes=True)


@router.post("/{slug}/members", status_code=status.HTTP_201_CREATED)
def join(community: CommunityBySlug, member: CurrentMember, session: DbSession) -> MembershipRead:
    """Join (open), ask to join (approval) or accept an invitation (invite)."""
    return MembershipRead.model_validate(service.join(session=session, community=community, member=member))


@router.delete("/{slug}/members/me", status_code=status.HTTP_204_NO_CONTENT)
def leave(community: CommunityBySlug, member: CurrentMember, session: DbSession) -> Response:
    service.leave(session=session, community=community, member=member)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{slug}/requests/{handle}/approve")
def approve(
    community: CommunityBySlug, handle: str, actor: CurrentMember, session: DbSession
) -> MembershipRead:
    decided = service.decide(session=session, actor=actor, community=community, handle=handle, approve=True)
    return MembershipRead.model_validate(decided)


@router.post("/{slug}/requests/{handle}/reject", status_code=status.HTTP_204_NO_CONTENT)
def reject(community: CommunityBySlug, handle: str, actor: CurrentMember, session: DbSession) -> Response:
    service.decide(session=session, actor=actor, community=community, handle=handle, approve=False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{slug}/invitations", status_code=status.HTTP_201_CREATED)
def invite(
    community: CommunityBySlug, form: Invitation, actor: CurrentMember, session: DbSession
) -> MembershipRead:
    invited = service.invite(session=session, actor=actor, community=community, handle=form.handle)
    return MembershipRead.model_validate(invited)


@router.put("/{slug}/members/{handle}/role")
def set_role(
    community: CommunityBySlug, handle: str, change: RoleChange, actor: CurrentMember, session: DbSession
) -> MembershipRead:
    changed = service.set_role(
        session=session, actor=actor, community=community, handle=handle, role=change.role
    )
    return MembershipRead.model_validate(changed)


@router.get("/{slug}/stats")
def stats(community: CommunityBySlug, session: DbSession) -> StatsRead:
    found = service.stats(session=session, community=community)
    return StatsRead(
        figures=found.figures if found else {}, refreshed_at=found.refreshed_at if found else None
    )


@router.post("/{slug}/stats/refresh", status_code=status.HTTP_202_ACCEPTED)
def refresh_stats(community: CommunityBySlug, actor: CurrentMember, session: DbSession) -> JobRead:
    """Queue a background job that recomputes the community's statistics; poll /api/v1/jobs/{id}."""
    return JobRead.model_validate(
        service.request_stats_refresh(session=session, actor=actor, community=community)
    )
