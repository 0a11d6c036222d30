"""Console: the school lottery: the pool and its digest, the draw, the proof to print."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.api.schemas import LotteryIn
from app.csrf import CsrfProtected
from app.deps import CurrentAdmin, CurrentReader, SessionDep
from app.web.console_common import (
    back_to,
    done_message,
    error_status,
    error_text,
    render,
    validation_text,
)
from ballots import lottery, rounds
from ballots.accounts import User
from ballots.errors import DomainError
from ballots.vocabulary import RoundStatus
from crypto import lottery as draw_kit

router = APIRouter(include_in_schema=False, dependencies=[CsrfProtected])

Field = Annotated[str, Form(max_length=5000)]


def _codes(text: str) -> list[str]:
    """School codes typed one per line or separated by commas or spaces."""
    return [c for c in text.replace(",", " ").split() if c][:500]


def _page(
    request: Request,
    db: Session,
    user: User,
    round_id: int,
    *,
    excluded: str = "",
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    round_ = rounds.get_round(db, round_id)
    draw = lottery.current_draw(db, round_id)
    return render(
        request,
        "console/lottery.html",
        user,
        status_code=status_code,
        round=round_,
        draw=draw,
        drawn=lottery.drawn_units(db, draw) if draw else [],
        verification=lottery.verify_draw(db, round_id) if draw else None,
        pool=lottery.pool_preview(db, _codes(excluded)),
        excluded=excluded,
        levels=draw_kit.LEVELS,
        counts=dict(draw_kit.DEFAULT_COUNTS),
        draft=round_.status is RoundStatus.DRAFT,
        form=form or {},
        error=error,
        done=done_message(request),
    )


@router.get("/rounds/{round_id:int}/lottery")
def lottery_page(request: Request, round_id: int, db: SessionDep, user: CurrentReader) -> Response:
    """The pool with its digest (after exclusions), and the draw in force if any."""
    return _page(
        request, db, user, round_id, excluded=request.query_params.get("excluded", "")[:5000]
    )


@router.post("/rounds/{round_id:int}/lottery")
def draw(
    request: Request,
    round_id: int,
    db: SessionDep,
    admin: CurrentAdmin,
    phrase: Field = "",
    excluded: Field = "",
    reason: Field = "",
    count_kindergarten: Field = "",
    count_primary: Field = "",
    count_lower_secondary: Field = "",
    confirmed: Field = "",
) -> Response:
    """Draw the schools; a redraw first shows what it replaces and asks for a reason."""
    form = {
        "phrase": phrase,
        "excluded": excluded,
        "reason": reason,
        "kindergarten": count_kindergarten,
        "primary": count_primary,
        "lower_secondary": count_lower_secondary,
    }

    def again(message: str, status_code: int) -> Response:
        return _page(
            request,
            db,
            admin,
            round_id,
            excluded=excluded,
            form=form,
            error=message,
            status_code=status_code,
        )

    try:
        body = LotteryIn.model_validate(
            {
                "phrase": phrase.strip(),
                "counts": {level: form[level].strip() or "-1" for level in draw_kit.LEVELS},
                "excluded": _codes(excluded),
                "reason": reason.strip() or None,
            }
        )
    except ValidationError as exc:
        return again(validation_text(exc), 422)
    previous = lottery.current_draw(db, round_id)
    if previous is not None and confirmed != "yes":
        return render(
            request,
            "console/confirm_redraw.html",
            admin,
            round=rounds.get_round(db, round_id),
            previous=previous,
            previous_units=lottery.drawn_units(db, previous),
            form=form,
        )
    try:
        lottery.draw_schools(
            db,
            round_id,
            phrase=body.phrase,
            counts=body.counts,
            excluded=body.excluded,
            reason=body.reason,
            actor=admin.username,
        )
    except DomainError as exc:
        return again(error_text(exc), error_status(exc))
    return back_to(f"/rounds/{round_id}/lottery", "lottery")


@router.get("/rounds/{round_id:int}/lottery/proof")
def proof_page(request: Request, round_id: int, db: SessionDep, user: CurrentReader) -> Response:
    """The lottery proof laid out for printing and signing."""
    round_ = rounds.get_round(db, round_id)
    found = lottery.get_draw(db, round_id)
    return render(
        request,
        "console/lottery_proof.html",
        user,
        round=round_,
        draw=found,
        proof=lottery.proof(found),
        drawn=lottery.drawn_units(db, found),
        levels=draw_kit.LEVELS,
        verification=lottery.verify_draw(db, round_id),
    )
