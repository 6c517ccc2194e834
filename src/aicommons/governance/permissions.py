"""Who may do what with proposals: the one place the governance domain checks authorization.

Any member proposes commons-wide; a community's active members propose in it. A proposal's kinds depend
on where it is made: the commons decides its treasury, its parameters and which datasets it admits; a
community decides its own account and its roles. The proposer or a guardian (an admin; for a community's
proposal, also its stewards) may cancel a proposal until it is executed. Who votes is not decided here:
it is the proposal's electorate, fixed when its voting opens (governance/electorate.py). A private
community's proposals exist only for those who may see the community.
"""

from sqlalchemy.orm import Session

from aicommons.communities import permissions as community_permissions
from aicommons.communities import service as communities
from aicommons.communities.models import Community, MembershipStatus, Role
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.governance.models import Kind, Proposal
from aicommons.members.models import GlobalRole, Member

COMMONS_KINDS = frozenset(
    {Kind.SIGNAL, Kind.TREASURY_TRANSFER, Kind.PARAMETER_CHANGE, Kind.DATASET_ADMISSION}
)
COMMUNITY_KINDS = frozenset({Kind.SIGNAL, Kind.TREASURY_TRANSFER, Kind.MEMBERSHIP})


def _role(session: Session, community: Community, member: Member) -> Role | None:
    membership = communities.membership_of(session, community, member)
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        return None
    return membership.role


def is_member(session: Session, community: Community | None, member: Member | None) -> bool:
    """Whether `member` takes part in decisions of the community (of the commons, when None)."""
    if member is None:
        return False
    return community is None or _role(session, community, member) is not None


def require_kind(kind: Kind, community: Community | None) -> None:
    allowed = COMMONS_KINDS if community is None else COMMUNITY_KINDS
    if kind not in allowed:
        where = "commons-wide" if community is None else "in a community"
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"a {kind.replace('_', ' ')} is not decided {where}")


def require_proposer_of(session: Session, member: Member, community: Community | None) -> None:
    if not is_member(session, community, member):
        raise CommonsError(ErrorCode.FORBIDDEN, "only the community's active members propose in it")


def may_see(session: Session, viewer: Member | None, proposal: Proposal) -> bool:
    """A private community's proposals exist only for those who may see the community."""
    community = proposal.community
    if community is None:
        return True
    return community_permissions.may_see(
        community, viewer, communities.membership_of(session, community, viewer)
    )


def is_guardian(session: Session, member: Member | None, proposal: Proposal) -> bool:
    if member is None:
        return False
    if member.role == GlobalRole.ADMIN:
        return True
    community = proposal.community
    return community is not None and _role(session, community, member) == Role.STEWARD


def may_cancel(session: Session, member: Member | None, proposal: Proposal) -> bool:
    if member is None:
        return False
    return member.id == proposal.proposer_id or is_guardian(session, member, proposal)


def require_cancel(session: Session, member: Member, proposal: Proposal) -> None:
    if not may_cancel(session, member, proposal):
        raise CommonsError(ErrorCode.FORBIDDEN, "only the proposer or a guardian may cancel a proposal")


def require_submit(member: Member, proposal: Proposal) -> None:
    if member.id != proposal.proposer_id:
        raise CommonsError(ErrorCode.FORBIDDEN, "only the proposer submits a draft")
