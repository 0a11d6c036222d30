"""Results: reports per subject, the round's table, CSV of aggregates, receipts, leaders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from app import auth, exports
from app.api.schemas import _In
from app.deps import CurrentAdmin, CurrentReader, CurrentUser, SessionDep
from app.exports import Lang
from ballots import leaders, lifecycle, reports
from ballots.accounts import MIN_PASSWORD_LENGTH
from ballots.db import utcnow
from ballots.thresholds import MIN_COMMENT_BALLOTS

router = APIRouter(tags=["results"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CriterionOut(BaseModel):
    key: str
    label_vi: str
    label_en: str
    counts: dict[int, int]
    no_opinion: int
    mean: float | None
    district_mean: float | None


class TrendOut(BaseModel):
    round_id: int
    year: int
    round_title: str
    role: str
    mean: float | None


class ReportOut(BaseModel):
    subject_id: int
    round_id: int
    round_title: str
    year: int
    unit_name: str
    role: str
    full_name: str
    threshold: int
    comment_threshold: int
    enough: bool = Field(description="False: fewer than k ballots; no numbers are given")
    ballots: int | None
    overall_mean: float | None
    district_overall_mean: float | None
    criteria: list[CriterionOut] | None
    comments: list[dict[str, str]] | None = Field(
        description=f"Random order, no metadata; null below max(k, {MIN_COMMENT_BALLOTS}) ballots"
    )
    trend: list[TrendOut]


class SummaryOut(BaseModel):
    subject_id: int
    unit_code: str
    unit_name: str
    role: str
    full_name: str
    enough: bool
    ballots: int | None
    overall_mean: float | None
    criterion_means: list[float | None] | None


class InviteOut(BaseModel):
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


def report_out(report: reports.SubjectReport) -> ReportOut:
    """The JSON form of a report (the same object the HTML page renders)."""
    return ReportOut(
        subject_id=report.subject_id,
        round_id=report.round_id,
        round_title=report.round_title,
        year=report.year,
        unit_name=report.unit_name,
        role=report.role.value,
        full_name=report.full_name,
        threshold=report.threshold,
        comment_threshold=report.comment_threshold,
        enough=report.enough,
        ballots=report.ballots,
        overall_mean=report.overall_mean,
        district_overall_mean=report.district_overall_mean,
        criteria=[CriterionOut(**c.__dict__) for c in report.criteria]
        if report.criteria is not None
        else None,
        comments=[{"question": q, "text": t} for q, t in report.comments]
        if report.comments is not None
        else None,
        trend=[
            TrendOut(
                round_id=p.round_id,
                year=p.year,
                round_title=p.round_title,
                role=p.role.value,
                mean=p.mean,
            )
            for p in report.trend
        ],
    )


@router.get("/reports/{subject_id}", response_model=ReportOut)
def read_report(subject_id: int, db: SessionDep, user: CurrentUser) -> ReportOut:
    """One subject's report: a leader's own (once published), any for admins and observers."""
    return report_out(reports.subject_report(db, subject_id, viewer=user))


@router.get("/rounds/{round_id}/results", response_model=list[SummaryOut])
def round_results(round_id: int, db: SessionDep, user: CurrentReader) -> list[SummaryOut]:
    """Every subject of a closed round; subjects below k carry no numbers."""
    return [
        SummaryOut(**{**row.__dict__, "role": row.role.value})
        for row in reports.round_results(db, round_id, viewer=user)
    ]


LangQuery = Annotated[Lang, Query(description="vi (default) or en: headers and role names")]


@router.get("/rounds/{round_id}/results.csv", response_class=Response)
def round_results_csv(
    round_id: int, db: SessionDep, user: CurrentReader, lang: LangQuery = "vi"
) -> Response:
    """Aggregates only, one row per subject; never a ballot row."""
    table = exports.results_table(db, round_id, viewer=user, lang=lang)
    return Response(
        exports.to_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="ket-qua-dot-{round_id}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/rounds/{round_id}/results.xlsx", response_class=Response)
def round_results_xlsx(
    round_id: int, db: SessionDep, user: CurrentReader, lang: LangQuery = "vi"
) -> Response:
    """The same aggregates as an Excel workbook, which district offices open."""
    table = exports.results_table(db, round_id, viewer=user, lang=lang)
    return Response(
        exports.to_xlsx(table, lang),
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="ket-qua-dot-{round_id}.xlsx"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/rounds/{round_id}/receipts", response_model=list[str])
def published_receipts(round_id: int, db: SessionDep) -> list[str]:
    """The sorted receipts of a closed round, public, so each voter can find theirs."""
    return lifecycle.published_receipts(db, round_id)


@router.post(
    "/rounds/{round_id}/leaders",
    response_model=list[InviteOut],
    status_code=status.HTTP_201_CREATED,
)
def create_leaders(round_id: int, db: SessionDep, admin: CurrentAdmin) -> list[InviteOut]:
    """Logins for the heads of a published round; setup codes are shown this once."""
    invites = leaders.create_leader_accounts(db, round_id, actor=admin.username, now=utcnow())
    return [InviteOut(**i.__dict__) for i in invites]


@router.post("/auth/setup", status_code=status.HTTP_204_NO_CONTENT)
def complete_setup(body: SetupIn, request: Request, db: SessionDep) -> Response:
    """A leader chooses a password with the one-time setup code (attempts are limited)."""
    auth.complete_setup(request, db, body.username, body.code, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
