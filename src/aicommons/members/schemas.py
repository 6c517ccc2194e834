"""What the members API accepts and returns."""

from datetime import datetime
from typing import Annotated

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
