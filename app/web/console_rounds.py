"""Console: the list of rounds, creating one, and a round's page with its checklist."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from app.api.schemas import RoundIn
from app.csrf import CsrfProtected
from app.deps import CurrentAdmin, CurrentReader, SessionDep, SettingsDep
from app.i18n import N_, gettext
from app.web.console_common import (
    FIELD_LABELS,
    back_to,
    done_message,
    error_status,
    error_text,
    render,
    validation_text,
)
from ballots import audit, checklist, rounds
from ballots.errors import DomainError

router = APIRouter(include_in_schema=False, dependencies=[CsrfProtected])

TextField = Annotated[str, Form(max_length=500)]


def _day(value: str, end: bool = False) -> datetime | None:
    """A date from an <input type=date> as the start (or end) of that day in UTC."""
    if not value.strip():
        return None
    day = date.fromisoformat(value.strip())
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


@router.get("/rounds")
def rounds_page(
    request: Request, db: SessionDep, user: CurrentReader, settings: SettingsDep
) -> Response:
    """Every round, newest first; admins also get the form to create one."""
    return render(
        request,
        "console/rounds.html",
        user,
        rounds=rounds.list_rounds(db),
        form={},
        error=None,
        default_k=settings.anonymity_threshold,
        this_year=datetime.now(UTC).year,
        done=done_message(request),
    )


@router.post("/rounds")
def create_round(
    request: Request,
    db: SessionDep,
    admin: CurrentAdmin,
    settings: SettingsDep,
    title: TextField = "",
    year: TextField = "",
    plan_reference: TextField = "",
    opens_on: TextField = "",
    closes_on: TextField = "",
    anonymity_threshold: TextField = "",
) -> Response:
    """Create a round in draft, validated as the API validates it."""
    form = {
        "title": title,
        "year": year,
        "plan_reference": plan_reference,
        "opens_on": opens_on,
        "closes_on": closes_on,
        "anonymity_threshold": anonymity_threshold,
    }

    def again(message: str, status_code: int) -> Response:
        return render(
            request,
            "console/rounds.html",
            admin,
            status_code=status_code,
            rounds=rounds.list_rounds(db),
            form=form,
            error=message,
            default_k=settings.anonymity_threshold,
            this_year=datetime.now(UTC).year,
            done=None,
        )

    try:
        body = RoundIn.model_validate(  # the API's schema: the same rules
            {
                "title": title.strip(),
                "year": year.strip() or "0",
                "plan_reference": plan_reference.strip() or None,
                "opens_at": _day(opens_on),
                "closes_at": _day(closes_on, end=True),
                "anonymity_threshold": anonymity_threshold.strip() or None,
            }
        )
    except ValidationError as exc:
        return again(validation_text(exc), 422)
    except ValueError:  # a date the browser did not check
        fields = f"{gettext(FIELD_LABELS['opens_at'])}, {gettext(FIELD_LABELS['closes_at'])}"
        return again(gettext(N_("Please check: {fields}.")).format(fields=fields), 422)
    try:
        created = rounds.create_round(
            db,
            title=body.title,
            year=body.year,
            plan_reference=body.plan_reference,
            opens_at=body.opens_at,
            closes_at=body.closes_at,
            anonymity_threshold=body.anonymity_threshold or settings.anonymity_threshold,
            actor=admin.username,
        )
    except DomainError as exc:
        return again(error_text(exc), error_status(exc))
    return back_to(f"/rounds/{created.id}", "created")


@router.get("/rounds/{round_id:int}")
def round_page(request: Request, round_id: int, db: SessionDep, user: CurrentReader) -> Response:
    """A round's details and the checklist of its steps."""
    round_ = rounds.get_round(db, round_id)
    steps = checklist.checklist(db, round_id)
    head = audit.head(db)
    return render(
        request,
        "console/round.html",
        user,
        round=round_,
        steps=steps,
        audit_head=f"{head[0]}:{head[1]}" if head else None,
        done=done_message(request),
    )
