"""Who may do what with members: the one place the members domain checks authorization."""

from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.members.models import GlobalRole, Member


def require_admin(actor: Member) -> None:
    if actor.role != GlobalRole.ADMIN:
        raise CommonsError(ErrorCode.FORBIDDEN, "only an admin may do this")


def may_see_job(actor: Member, submitted_by_id: int | None) -> bool:
    return actor.role == GlobalRole.ADMIN or submitted_by_id == actor.id
