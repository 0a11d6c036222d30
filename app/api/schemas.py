"""Request and response bodies of the JSON API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ballots.accounts import MIN_PASSWORD_LENGTH
from ballots.thresholds import DEFAULT_ANONYMITY_THRESHOLD, MIN_ANONYMITY_THRESHOLD
from ballots.vocabulary import Role, RoundStatus, SchoolLevel, UnitKind, UserRole


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LoginIn(_In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(_Out):
    id: int
    username: str
    full_name: str
    role: UserRole


class UserIn(_In):
    username: str = Field(min_length=3, max_length=64)
    full_name: str = Field(min_length=1, max_length=200)
    role: UserRole
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=1024)


class RoundIn(_In):
    title: str = Field(min_length=1, max_length=200, examples=["Lấy ý kiến người đứng đầu 2023"])
    year: int = Field(ge=2000, le=2100)
    plan_reference: str | None = Field(
        default=None, max_length=200, examples=["Kế hoạch số 104-KH/QU"]
    )
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    anonymity_threshold: int | None = Field(
        default=None,
        ge=MIN_ANONYMITY_THRESHOLD,
        description=f"k; defaults to the server's setting ({DEFAULT_ANONYMITY_THRESHOLD})",
    )


class RoundOut(_Out):
    id: int
    title: str
    plan_reference: str | None
    year: int
    status: RoundStatus
    opens_at: datetime | None
    closes_at: datetime | None
    anonymity_threshold: int


class UnitOut(_Out):
    code: str
    kind: UnitKind
    level: SchoolLevel | None
    name: str
    ward: str
    usual_electorate: int | None


class ImportOut(BaseModel):
    created: int
    updated: int


class RoundUnitIn(_In):
    unit_code: str = Field(min_length=1, max_length=40)
    electorate: int | None = Field(default=None, ge=1, le=100_000)


class RoundUnitOut(BaseModel):
    unit: UnitOut
    electorate: int


class SubjectOut(BaseModel):
    id: int
    unit_code: str
    unit_name: str
    role: Role
    full_name: str
