"""Console: the district's units and the round's heads from CSV (preview, then import),
which units take part and how many voters each has.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.csrf import CsrfProtected, posted_form
from app.deps import CurrentAdmin, CurrentReader, SessionDep
from app.errors import problem_text
from app.i18n import N_, gettext
from app.uploads import MAX_UPLOAD_BYTES, read_upload
from app.web.console_common import back_to, done_message, error_status, error_text, render
from ballots import imports, rounds, units
from ballots.accounts import User
from ballots.errors import DomainError, InvalidFile, InvalidInput
from ballots.participants import add_all_wards, list_round_units, set_electorates
from ballots.subjects import import_subjects, list_subjects
from ballots.vocabulary import RoundStatus, UnitKind

router = APIRouter(include_in_schema=False, dependencies=[CsrfProtected])

# The checked file travels back with the confirmation, so nothing is kept between the two.
FileData = Annotated[str, Form(max_length=MAX_UPLOAD_BYTES * 4 // 3 + 8)]


def _encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidInput(N_("The file could not be read back; upload it again.")) from None


def _units_context(db: Session, round_id: int) -> dict[str, object]:
    known = units.list_units(db)
    return {
        "round": rounds.get_round(db, round_id),
        "wards_known": sum(1 for u in known if u.kind is UnitKind.WARD),
        "schools_known": sum(1 for u in known if u.kind is UnitKind.SCHOOL),
        "participants": list_round_units(db, round_id),
        "draft": rounds.get_round(db, round_id).status is RoundStatus.DRAFT,
    }


def _units_page(
    request: Request,
    db: Session,
    user: User,
    round_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
    problems: list[str] | None = None,
) -> Response:
    return render(
        request,
        "console/units.html",
        user,
        status_code=status_code,
        error=error,
        problems=problems or [],
        done=done_message(request),
        **_units_context(db, round_id),
    )


def _refused(exc: DomainError) -> tuple[str, list[str]]:
    """A refusal and, for a file, its line-numbered problems, in the viewer's language."""
    problems = (
        [
            gettext(N_("Line {line}: {problem}")).format(line=p.line, problem=problem_text(p))
            for p in exc.problems
        ]
        if isinstance(exc, InvalidFile)
        else []
    )
    return error_text(exc), problems


@router.get("/rounds/{round_id:int}/units")
def units_page(request: Request, round_id: int, db: SessionDep, user: CurrentReader) -> Response:
    """The district's units, the upload form, and the round's units with their electorate."""
    return _units_page(request, db, user, round_id)


def _preview(
    request: Request,
    user: User,
    round_: rounds.Round,
    data: bytes,
    preview: Callable[[], imports.Preview],
    *,
    what: str,
    confirm: str,
    page: Callable[..., Response],
) -> Response:
    try:
        result = preview()
    except DomainError as exc:
        error, problems = _refused(exc)
        return page(status_code=error_status(exc), error=error, problems=problems)
    return render(
        request,
        "console/import_preview.html",
        user,
        round=round_,
        what=what,
        preview=result,
        data=_encode(data),
        confirm=confirm,
    )


@router.post("/rounds/{round_id:int}/units/preview")
def units_preview(
    request: Request, round_id: int, file: UploadFile, db: SessionDep, admin: CurrentAdmin
) -> Response:
    """Check a units file and show what it would change; nothing is imported yet."""
    round_ = rounds.get_round(db, round_id)
    try:
        data = read_upload(file)
    except DomainError as exc:
        return _units_page(
            request, db, admin, round_id, status_code=error_status(exc), error=error_text(exc)
        )
    return _preview(
        request,
        admin,
        round_,
        data,
        lambda: imports.preview_units(db, data),
        what=N_("Units file"),
        confirm=f"/rounds/{round_id}/units/import",
        page=lambda **kw: _units_page(request, db, admin, round_id, **kw),
    )


@router.post("/rounds/{round_id:int}/units/import")
def units_import(
    request: Request, round_id: int, data: FileData, db: SessionDep, admin: CurrentAdmin
) -> Response:
    """Import the previewed units file (all or nothing)."""
    rounds.get_round(db, round_id)
    try:
        units.import_units(db, _decode(data), actor=admin.username)
    except DomainError as exc:
        error, problems = _refused(exc)
        return _units_page(
            request,
            db,
            admin,
            round_id,
            status_code=error_status(exc),
            error=error,
            problems=problems,
        )
    return back_to(f"/rounds/{round_id}/units", "units")


@router.post("/rounds/{round_id:int}/wards")
def add_wards(request: Request, round_id: int, db: SessionDep, admin: CurrentAdmin) -> Response:
    """Every known ward takes part, with its usual electorate."""
    try:
        add_all_wards(db, round_id, actor=admin.username)
    except DomainError as exc:
        return _units_page(
            request, db, admin, round_id, status_code=error_status(exc), error=error_text(exc)
        )
    return back_to(f"/rounds/{round_id}/units", "wards")


def _electorates(form: FormData) -> dict[str, int]:
    values: dict[str, int] = {}
    for key, value in form.multi_items():
        if key.startswith("electorate:") and isinstance(value, str):
            text = value.strip()
            if not text.isdigit() or len(text) > 9:
                raise InvalidInput(
                    "Electorate of {code} must be 1-{n}.",
                    params={"code": key.removeprefix("electorate:"), "n": units.MAX_ELECTORATE},
                )
            values[key.removeprefix("electorate:")] = int(text)
    return values


@router.post("/rounds/{round_id:int}/electorate")
def save_electorate(
    request: Request, round_id: int, admin: CurrentAdmin, db: SessionDep
) -> Response:
    """Save the editable table of electorates (draft only); one field per unit."""
    try:
        set_electorates(db, round_id, _electorates(posted_form(request)), actor=admin.username)
    except DomainError as exc:
        return _units_page(
            request, db, admin, round_id, status_code=error_status(exc), error=error_text(exc)
        )
    return back_to(f"/rounds/{round_id}/units", "electorate")


# ---------------------------------------------------------------- heads of units


def _heads_page(
    request: Request,
    db: Session,
    user: User,
    round_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
    problems: list[str] | None = None,
) -> Response:
    round_ = rounds.get_round(db, round_id)
    return render(
        request,
        "console/heads.html",
        user,
        status_code=status_code,
        round=round_,
        subjects=list_subjects(db, round_id),
        draft=round_.status is RoundStatus.DRAFT,
        error=error,
        problems=problems or [],
        done=done_message(request),
    )


@router.get("/rounds/{round_id:int}/heads")
def heads_page(request: Request, round_id: int, db: SessionDep, user: CurrentReader) -> Response:
    """Who holds each head role in the round, and the upload form."""
    return _heads_page(request, db, user, round_id)


@router.post("/rounds/{round_id:int}/heads/preview")
def heads_preview(
    request: Request, round_id: int, file: UploadFile, db: SessionDep, admin: CurrentAdmin
) -> Response:
    """Check a heads file against the round and show what it would record."""
    round_ = rounds.get_round(db, round_id)
    try:
        data = read_upload(file)
    except DomainError as exc:
        return _heads_page(
            request, db, admin, round_id, status_code=error_status(exc), error=error_text(exc)
        )
    return _preview(
        request,
        admin,
        round_,
        data,
        lambda: imports.preview_subjects(db, round_id, data),
        what=N_("Subjects file"),
        confirm=f"/rounds/{round_id}/heads/import",
        page=lambda **kw: _heads_page(request, db, admin, round_id, **kw),
    )


@router.post("/rounds/{round_id:int}/heads/import")
def heads_import(
    request: Request, round_id: int, data: FileData, db: SessionDep, admin: CurrentAdmin
) -> Response:
    """Import the previewed heads file (all or nothing)."""
    try:
        import_subjects(db, round_id, _decode(data), actor=admin.username)
    except DomainError as exc:
        error, problems = _refused(exc)
        return _heads_page(
            request,
            db,
            admin,
            round_id,
            status_code=error_status(exc),
            error=error,
            problems=problems,
        )
    return back_to(f"/rounds/{round_id}/heads", "heads")
