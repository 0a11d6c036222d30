"""Request and response bodies of the JSON API: every schema, in one module.

Responses are read from the domain's own results (``from_attributes``), so a field added to
a result reaches the API by being declared here, never by a mapper copying it by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ballots import key_ceremony
from ballots.accounts import MIN_PASSWORD_LENGTH
from ballots.questionnaire import Questionnaire
from ballots.thresholds import (
    DEFAULT_ANONYMITY_THRESHOLD,
    MIN_ANONYMITY_THRESHOLD,
    MIN_COMMENT_BALLOTS,
)
from ballots.tokens import MAX_BATCH
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


class RoundUnitOut(_Out):
    unit: UnitOut
    electorate: int


class SubjectOut(BaseModel):
    id: int
    unit_code: str
    unit_name: str
    role: Role
    full_name: str


# ---------------------------------------------------------------- results


class CriterionOut(_Out):
    key: str
    label_vi: str
    label_en: str
    counts: dict[int, int]
    no_opinion: int
    mean: float | None
    district_mean: float | None


class TrendOut(_Out):
    round_id: int
    year: int
    round_title: str
    role: Role
    mean: float | None


class CommentOut(BaseModel):
    question: str
    text: str


class ReportOut(_Out):
    subject_id: int
    round_id: int
    round_title: str
    year: int
    unit_name: str
    role: Role
    full_name: str
    threshold: int
    comment_threshold: int
    enough: bool = Field(description="False: fewer than k ballots; no numbers are given")
    ballots: int | None
    overall_mean: float | None
    district_overall_mean: float | None
    criteria: list[CriterionOut] | None
    comments: list[CommentOut] | None = Field(
        description=f"Random order, no metadata; null below max(k, {MIN_COMMENT_BALLOTS}) ballots"
    )
    trend: list[TrendOut]

    @field_validator("comments", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        """The domain gives (question, text) pairs; the API names the two."""
        if value is None:
            return None
        return [p if isinstance(p, dict) else {"question": p[0], "text": p[1]} for p in value]


class SummaryOut(_Out):
    subject_id: int
    unit_code: str
    unit_name: str
    role: Role
    full_name: str
    enough: bool
    ballots: int | None
    overall_mean: float | None
    criterion_means: list[float | None] | None


class InviteOut(_Out):
    subject_id: int
    unit_name: str
    role: str
    full_name: str
    username: str
    setup_code: str | None = Field(description="Shown once; null when an account was linked")


class SetupIn(_In):
    username: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)


# ---------------------------------------------------------------- round setup


class SlipsIn(_In):
    unit_code: str = Field(min_length=1, max_length=40)
    count: int = Field(ge=1, le=MAX_BATCH)
    override_electorate: bool = Field(
        default=False, description="Issue more slips than the electorate; audit-logged."
    )


class VoidIn(_In):
    reason: str = Field(min_length=1, max_length=500)


class BatchOut(BaseModel):
    id: int
    unit_code: str
    size: int
    over_electorate: bool
    voided: bool


class UnitTokensOut(BaseModel):
    unit_code: str
    unit_name: str
    electorate: int
    live_tokens: int
    used_tokens: int
    ballots: int


class LotteryIn(_In):
    phrase: str = Field(min_length=1, max_length=500, examples=["3 5 1 6 2 4 – XSMB 24/11/2026"])
    counts: dict[str, int] | None = Field(
        default=None, examples=[{"kindergarten": 5, "primary": 5, "lower_secondary": 5}]
    )
    excluded: list[str] = Field(default_factory=list, max_length=500)
    reason: str | None = Field(default=None, max_length=500)


class ScrubOut(BaseModel):
    done: bool = Field(description="true only when the files were verified clean")
    detail: str


class TransitionOut(BaseModel):
    round_id: int
    status: str
    audit_head: str = Field(description="SEQ:HASH to write on the round's minutes")
    scrub: ScrubOut | None = Field(
        default=None,
        description="After a close: whether deleted ballot content was cleared from the "
        "database files. When done is false, run `phieukin round scrub ROUND`.",
    )


class VerdictOut(_Out):
    ok: bool
    entries_checked: int
    head: str | None
    first_broken_seq: int | None
    reason: str | None


class AuditEntryOut(_Out):
    seq: int
    at: str
    actor: str
    action: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


# ---------------------------------------------------------------- voting


class TokenIn(_In):
    token: str = Field(min_length=1, max_length=200, description="The slip's code")


class CastIn(TokenIn):
    answers: dict[str, Any] = Field(
        description='{"ratings": {"<subject id>": {"<criterion>": 1-4 or 0 for no opinion}}, '
        '"texts": {"<subject id>": {"<question>": "text"}}}'
    )


class BallotSubjectOut(_Out):
    id: int
    role: Role
    full_name: str


class FormOut(_Out):
    round_title: str
    unit_name: str
    subjects: list[BallotSubjectOut]
    questionnaire: Questionnaire
    anonymity_threshold: int
    comment_threshold: int


class ReceiptOut(_Out):
    receipt: str
    repeated: bool = Field(description="True when this slip had already voted: same receipt")


# ---------------------------------------------------------------- the school lottery


class PoolSchoolOut(BaseModel):
    code: str
    level: SchoolLevel


class LotteryProofOut(BaseModel):
    """Everything an observer needs to re-run the draw (docs/LOTTERY.md)."""

    algorithm_version: str
    specification: str
    round_id: int
    phrase: str
    normalized_phrase: str
    pool: list[PoolSchoolOut]
    excluded: list[str]
    pool_digest: str
    counts: dict[str, int]
    seed: str
    chosen: dict[str, list[str]]
    reason: str | None
    drawn_by: str
    drawn_at: str = Field(description="ISO 8601, UTC")


class LotteryVerificationOut(_Out):
    matches: bool
    stored_seed: str
    recomputed_seed: str
    stored_chosen: dict[str, list[str]]
    recomputed_chosen: dict[str, list[str]]


# ---------------------------------------------------------------- sealed box: key ceremony


class OpenIn(_In):
    key_holders: list[str] = Field(
        min_length=2,
        max_length=key_ceremony.MAX_KEY_HOLDERS,
        description="The key holders' names, one share each (n).",
        examples=[["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Em"]],
    )
    shares_needed: int | None = Field(
        default=None, ge=2, description="Shares needed to open the box (k); default 3."
    )


class ShareOut(BaseModel):
    number: int
    holder: str
    share: str = Field(description="The share's text: the holder's file holds exactly this.")
    file_name: str
    sheet_pdf_base64: str = Field(description="The printable sheet (A4 PDF), base64.")


class OpenOut(TransitionOut):
    shares_needed: int
    key_holders: int
    shares: list[ShareOut] = Field(
        description="Shown once, never kept by the server: hand each to its holder now."
    )


class CloseIn(_In):
    shares: list[Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=list,
        max_length=key_ceremony.MAX_KEY_HOLDERS,
        description="k key shares, as typed or as their files hold them (sealed rounds).",
    )
