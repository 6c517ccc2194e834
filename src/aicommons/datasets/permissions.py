"""Who may do what with a dataset: the one place the datasets domain checks authorization.

A dataset's owners are the member who owns it, or the stewards and organizers of the community that
owns it; admins may do what owners may. Downloading depends on the policy: anyone for open data, an
approved request for gated data, a current license for priced data, and nobody for federated data,
whose rows never reach the commons.
"""

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from aicommons.communities.models import Membership, MembershipStatus, Role
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.datasets.models import (
    AccessRequest,
    Dataset,
    DatasetLicense,
    LicenseStatus,
    Policy,
    RequestStatus,
)
from aicommons.members.models import GlobalRole, Member

OWNING_ROLES = (Role.STEWARD, Role.ORGANIZER)


class Action(StrEnum):
    EDIT = "edit this dataset"
    PUBLISH = "publish versions of this dataset"
    WITHDRAW = "withdraw versions of this dataset"
    DECIDE = "decide access requests to this dataset"
    SEE_USAGE = "see who used this dataset"


def is_owner(session: Session, dataset: Dataset, member: Member | None) -> bool:
    if member is None:
        return False
    if member.role == GlobalRole.ADMIN or dataset.owner_member_id == member.id:
        return True
    if dataset.owner_community_id is None:
        return False
    role = session.scalar(
        select(Membership.role).where(
            Membership.community_id == dataset.owner_community_id,
            Membership.member_id == member.id,
            Membership.status == MembershipStatus.ACTIVE,
        )
    )
    return role in OWNING_ROLES


def require(session: Session, action: Action, dataset: Dataset, member: Member) -> None:
    """Every owner action is an owner's (or an admin's) to take."""
    if not is_owner(session, dataset, member):
        raise CommonsError(ErrorCode.FORBIDDEN, f"only the owners may {action}")


def may_own_for(session: Session, community_id: int, member: Member) -> bool:
    """May `member` register a dataset on behalf of the community?"""
    if member.role == GlobalRole.ADMIN:
        return True
    role = session.scalar(
        select(Membership.role).where(
            Membership.community_id == community_id,
            Membership.member_id == member.id,
            Membership.status == MembershipStatus.ACTIVE,
        )
    )
    return role in OWNING_ROLES


def current_license(session: Session, dataset: Dataset, member: Member) -> DatasetLicense | None:
    return session.scalar(
        select(DatasetLicense)
        .where(
            DatasetLicense.dataset_id == dataset.id,
            DatasetLicense.member_id == member.id,
            DatasetLicense.status != LicenseStatus.REFUNDED,
            DatasetLicense.expires_at > utcnow(),
        )
        .order_by(DatasetLicense.expires_at.desc())
        .limit(1)
    )


def approved(session: Session, dataset: Dataset, member: Member) -> bool:
    found = session.scalar(
        select(AccessRequest.id).where(
            AccessRequest.dataset_id == dataset.id,
            AccessRequest.member_id == member.id,
            AccessRequest.status == RequestStatus.APPROVED,
        )
    )
    return found is not None


def may_download(session: Session, dataset: Dataset, member: Member | None) -> bool:
    if dataset.policy == Policy.FEDERATED:
        return False
    if dataset.policy == Policy.OPEN or is_owner(session, dataset, member):
        return True
    if member is None:
        return False
    if dataset.policy == Policy.GATED:
        return approved(session, dataset, member)
    return current_license(session, dataset, member) is not None


def require_download(session: Session, dataset: Dataset, member: Member | None) -> None:
    if dataset.policy == Policy.FEDERATED:
        raise CommonsError(ErrorCode.FEDERATED_ONLY)
    if not may_download(session, dataset, member):
        if member is None:
            raise CommonsError(ErrorCode.NOT_AUTHENTICATED, "log in to request access to this dataset")
        raise CommonsError(ErrorCode.ACCESS_REQUIRED)
