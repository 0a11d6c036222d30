"""Console: the heads' accounts, their one-time setup codes printed as cut-out cards."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.csrf import CsrfProtected
from app.deps import CurrentAdmin, CurrentReader, SessionDep, SettingsDep
from app.i18n import N_, gettext
from app.templating import role_label
from app.web.console_common import NO_STORE, error_status, error_text, render
from app.web.leader_cards_pdf import render_cards
from ballots import leaders, rounds
from ballots.accounts import User
from ballots.db import utcnow
from ballots.errors import DomainError
from ballots.subjects import list_subjects
from ballots.vocabulary import Role, RoundStatus

router = APIRouter(include_in_schema=False, dependencies=[CsrfProtected])


def _page(
    request: Request,
    db: Session,
    user: User,
    round_id: int,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    round_ = rounds.get_round(db, round_id)
    subjects = list_subjects(db, round_id)
    holders = {s.id: leaders.account_of(db, s.id) for s in subjects}
    return render(
        request,
        "console/leaders.html",
        user,
        status_code=status_code,
        round=round_,
        subjects=subjects,
        holders=holders,
        published=round_.status is RoundStatus.PUBLISHED,
        error=error,
        notice=notice,
    )


@router.get("/rounds/{round_id:int}/leaders")
def leaders_page(request: Request, round_id: int, db: SessionDep, user: CurrentReader) -> Response:
    """Each head and their account, if one was made."""
    return _page(request, db, user, round_id)


@router.post("/rounds/{round_id:int}/leaders")
def create_accounts(
    request: Request, round_id: int, db: SessionDep, settings: SettingsDep, admin: CurrentAdmin
) -> Response:
    """Make the missing accounts; the answer is the sheet of setup codes, given once."""
    now = utcnow()
    try:
        invites = leaders.create_leader_accounts(db, round_id, actor=admin.username, now=now)
    except DomainError as exc:
        return _page(
            request, db, admin, round_id, error=error_text(exc), status_code=error_status(exc)
        )
    fresh = [i for i in invites if i.setup_code]
    if not fresh:
        return _page(
            request,
            db,
            admin,
            round_id,
            notice=gettext(N_("Every head already has an account: no new code.")),
        )
    round_ = rounds.get_round(db, round_id)
    pdf = render_cards(
        fresh,
        round_title=round_.title,
        setup_url=f"{settings.public_base_url.rstrip('/')}/setup",
        role_label={r.value: role_label(r) for r in Role},
        expires=now + leaders.SETUP_VALID_FOR,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="ma-thiet-lap-dot-{round_id}.pdf"',
        },
    )
