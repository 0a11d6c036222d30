"""Results: reports per subject, the round's table, CSV of aggregates, receipts, leaders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app import auth, exports
from app.api.schemas import InviteOut, ReportOut, SetupIn, SummaryOut
from app.deps import CurrentAdmin, CurrentReader, CurrentUser, SessionDep
from app.exports import Lang
from ballots import leaders, lifecycle, reports
from ballots.db import utcnow

router = APIRouter(tags=["results"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/reports/{subject_id}", response_model=ReportOut)
def read_report(subject_id: int, db: SessionDep, user: CurrentUser) -> ReportOut:
    """One subject's report: a leader's own (once published), any for admins and observers."""
    return ReportOut.model_validate(reports.subject_report(db, subject_id, viewer=user))


@router.get("/rounds/{round_id}/results", response_model=list[SummaryOut])
def round_results(round_id: int, db: SessionDep, user: CurrentReader) -> list[SummaryOut]:
    """Every subject of a closed round; subjects below k carry no numbers."""
    return [
        SummaryOut.model_validate(row) for row in reports.round_results(db, round_id, viewer=user)
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
    return [InviteOut.model_validate(i) for i in invites]


@router.post("/auth/setup", status_code=status.HTTP_204_NO_CONTENT)
def complete_setup(body: SetupIn, request: Request, db: SessionDep) -> Response:
    """A leader chooses a password with the one-time setup code (attempts are limited)."""
    auth.complete_setup(request, db, body.username, body.code, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
