"""What the members API accepts and returns."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from aicommons.core.vocabulary import LANGUAGE_CODE, Sector
from aicommons.members.models import GlobalRole

Handle = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{2,31}$", to_lower=True)]
Password = Annotated[str, Field(min_length=10, max_length=128)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


def _languages(codes: list[str]) -> list[str]:
    bad = [code for code in codes if not LANGUAGE_CODE.match(code)]
    if bad:
        raise ValueError(f"not ISO 639 language codes: {', '.join(bad)}")
    return list(dict.fromkeys(codes))


Languages = Annotated[list[str], Field(max_length=10), AfterValidator(_languages)]
Sectors = Annotated[list[Sector], Field(max_length=8), AfterValidator(lambda s: list(dict.fromkeys(s)))]


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: Handle
    email: Annotated[EmailStr, Field(max_length=254)]
    password: Password
    display_name: DisplayName


class Login(BaseModel):
    handle: Annotated[str, Field(min_length=1, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=128)]


class TokenLogin(Login):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)] = "cli"


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    bio: Annotated[str, Field(max_length=2000)] | None = None
    sectors: Sectors | None = None
    languages: Languages | None = None


class RoleUpdate(BaseModel):
    role: GlobalRole


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    handle: str
    display_name: str
    bio: str
    sectors: list[str]
    languages: list[str]
    role: GlobalRole
    created_at: datetime


class MeRead(MemberRead):
    email: str


class TransferCreate(BaseModel):
    """Tokens to another member; retrying with the same idempotency key never sends twice."""

    model_config = ConfigDict(extra="forbid")

    to: Handle
    amount: Annotated[int, Field(ge=1, le=1_000_000_000)]
    note: Annotated[str, Field(max_length=500)] = ""
    idempotency_key: Annotated[
        str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    ]


class TransferRead(BaseModel):
    id: int
    source: str
    target: str
    amount: int
    reason: str
    note: str
    created_at: datetime

    @classmethod
    def of(cls, moved: Any) -> "TransferRead":
        return cls(
            id=moved.id,
            source=moved.from_account.owner,
            target=moved.to_account.owner,
            amount=moved.amount,
            reason=moved.reason,
            note=moved.note,
            created_at=moved.created_at,
        )


class AccountRead(BaseModel):
    owner: str
    balance: int
    transfers: list[TransferRead]
    total: int
    page: int
    size: int


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    secret: str = Field(description="shown once; keep it safe")

    @classmethod
    def of(cls, token: object, secret: str) -> "TokenCreated":
        return cls.model_validate({**TokenRead.model_validate(token).model_dump(), "secret": secret})


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    unread: int
    total: int
    page: int
    size: int
