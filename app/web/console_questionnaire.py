"""Console: the questionnaire editor (while the round is a draft), read-only afterwards.

The form is plain HTML: one row per criterion, question and step of the scale, an order
number to move rows, a box to remove one, and blank rows to add new ones. The result is
validated by the same model as the API (``ballots.questionnaire.Questionnaire``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.csrf import CsrfProtected, posted_form
from app.deps import CurrentAdmin, CurrentReader, SessionDep
from app.i18n import N_, gettext
from app.web.console_common import back_to, done_message, error_status, error_text, render
from ballots import rounds
from ballots.accounts import User
from ballots.errors import DomainError
from ballots.questionnaire import Questionnaire
from ballots.vocabulary import RoundStatus

router = APIRouter(include_in_schema=False, dependencies=[CsrfProtected])

BLANK_ROWS = {"criteria": 2, "free_text": 1, "scale": 1}
MAX_ROWS = 60
SECTION_NAMES = {
    "criteria": N_("Criterion {n}"),
    "free_text": N_("Question {n}"),
    "options": N_("Step {n} of the scale"),
}
FIELD_NAMES = {
    "key": N_("key"),
    "vi": N_("Vietnamese text"),
    "en": N_("English text"),
    "value": N_("value"),
    "max_chars": N_("maximum length"),
    "no_opinion": N_("the no-opinion choice"),
}
PROBLEMS = {
    "missing": N_("{where}: fill this in."),
    "string_too_short": N_("{where}: fill this in."),
    "string_too_long": N_("{where}: too long."),
    "string_pattern_mismatch": N_(
        "{where}: a key starts with a letter and has only a-z, 0-9 and _."
    ),
    "too_short": N_("{where}: at least one is needed."),
    "too_long": N_("{where}: too many."),
    "greater_than_equal": N_("{where}: the number is too small."),
    "less_than_equal": N_("{where}: the number is too large."),
    "int_parsing": N_("{where}: give a whole number."),
}
VALUE_ERRORS = {
    "duplicate keys": N_("Each key must differ from the others: {detail}."),
    "scale values must be distinct": N_("Each step of the scale needs its own value."),
}


def _where(loc: tuple[Any, ...]) -> str:
    """A location in the questionnaire as the editor's rows name it."""
    parts: list[str] = []
    items = list(loc)
    while items:
        head = items.pop(0)
        if head in SECTION_NAMES and items and isinstance(items[0], int):
            parts.append(gettext(SECTION_NAMES[head]).format(n=items.pop(0) + 1))
        elif head in FIELD_NAMES:
            parts.append(gettext(FIELD_NAMES[head]))
    return ", ".join(parts) or gettext(N_("The questionnaire"))


def problems_of(exc: ValidationError) -> list[str]:
    """The model's complaints in the viewer's language, each naming its row."""
    out: list[str] = []
    for err in exc.errors(include_url=False, include_input=False):
        if err["type"] == "value_error":
            text = str(err.get("ctx", {}).get("error", err["msg"]))
            head, _, detail = text.partition(": ")
            template = VALUE_ERRORS.get(head) or VALUE_ERRORS.get(text)
            message = (
                gettext(template).format(detail=detail)
                if template
                else gettext(N_("The questionnaire is not valid."))
            )
        else:
            template = PROBLEMS.get(err["type"], N_("{where}: not valid."))
            message = gettext(template).format(where=_where(tuple(err["loc"])))
        if message not in out:
            out.append(message)
    return out


def _rows(form: FormData, prefix: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of one section, in the order typed, blank rows and removed ones left out."""
    rows: list[tuple[float, int, dict[str, str]]] = []
    for i in range(MAX_ROWS):
        values = {f: str(form.get(f"{prefix}-{i}-{f}", "")).strip() for f in fields}
        if f"{prefix}-{i}-{fields[0]}" not in form and f"{prefix}-{i}-vi" not in form:
            continue
        if form.get(f"{prefix}-{i}-remove") or not any(values.values()):
            continue
        try:
            order = float(str(form.get(f"{prefix}-{i}-order", i + 1)))
        except ValueError:
            order = i + 1
        rows.append((order, i, values))
    return [values for _, _, values in sorted(rows, key=lambda r: (r[0], r[1]))]


def _number(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() and len(text) < 10 else text


def questionnaire_from_form(form: FormData, current: Questionnaire) -> dict[str, Any]:
    """The questionnaire the form describes (roles and version kept from the current one)."""
    options = _rows(form, "scale", ("value", "vi", "en"))
    return {
        "version": current.version,
        "scale": {
            "options": [
                {"value": _number(o["value"]), "vi": o["vi"], "en": o["en"]} for o in options
            ],
            "no_opinion": {
                "vi": str(form.get("no_opinion-vi", "")).strip(),
                "en": str(form.get("no_opinion-en", "")).strip(),
            },
        },
        "criteria": _rows(form, "criteria", ("key", "vi", "en")),
        "free_text": [
            {**q, "max_chars": _number(q["max_chars"])}
            for q in _rows(form, "free_text", ("key", "vi", "en", "max_chars"))
        ],
        "roles": {role.value: label.model_dump() for role, label in current.roles.items()},
    }


def _page(
    request: Request,
    db: Session,
    user: User,
    round_id: int,
    *,
    shown: dict[str, Any] | None = None,
    problems: list[str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    round_ = rounds.get_round(db, round_id)
    current = rounds.get_questionnaire(db, round_id)
    q = shown or current.model_dump(mode="json")
    return render(
        request,
        "console/questionnaire.html",
        user,
        status_code=status_code,
        round=round_,
        q=q,
        blank=BLANK_ROWS,
        editable=round_.status is RoundStatus.DRAFT,
        problems=problems or [],
        error=error,
        done=done_message(request),
    )


@router.get("/rounds/{round_id:int}/questionnaire")
def questionnaire_page(
    request: Request, round_id: int, db: SessionDep, user: CurrentReader
) -> Response:
    """The questionnaire: an editor for admins while the round is a draft."""
    return _page(request, db, user, round_id)


@router.post("/rounds/{round_id:int}/questionnaire")
def save_questionnaire(
    request: Request, round_id: int, db: SessionDep, admin: CurrentAdmin
) -> Response:
    """Validate and save the edited questionnaire; on a problem, the form comes back as typed."""
    current = rounds.get_questionnaire(db, round_id)
    data = questionnaire_from_form(posted_form(request), current)
    try:
        Questionnaire.model_validate(data)
    except ValidationError as exc:
        return _page(
            request, db, admin, round_id, shown=data, problems=problems_of(exc), status_code=422
        )
    try:
        rounds.replace_questionnaire(db, round_id, data, actor=admin.username)
    except DomainError as exc:
        return _page(
            request,
            db,
            admin,
            round_id,
            shown=data,
            error=error_text(exc),
            status_code=error_status(exc),
        )
    return back_to(f"/rounds/{round_id}/questionnaire", "questionnaire")
