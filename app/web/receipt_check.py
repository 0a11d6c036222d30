"""A voter checks a receipt against the list published when the round closed (invariant 8).

The list is public, so checking reveals nothing; the code is sent by POST only so that it
stays out of the browser's history on a shared phone. Nothing about a check is stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.deps import SessionDep
from app.web.vote import HEADERS, _lang
from app.web.vote_text import words
from ballots import ballot_box, rounds
from ballots.rounds import Round
from ballots.vocabulary import RoundStatus
from crypto.tokens import InvalidToken, normalize_receipt

router = APIRouter(include_in_schema=False)
PUBLISHED = (RoundStatus.CLOSED, RoundStatus.PUBLISHED)


def _rounds(db: SessionDep) -> list[Round]:
    return [r for r in rounds.list_rounds(db) if r.status in PUBLISHED]


def _page(
    request: Request, lang: str, choices: list[Round], status_code: int = 200, **ctx: object
) -> Response:
    context = {"lang": lang, "t": words(lang), "rounds": choices, "result": None, **ctx}
    response: Response = request.app.state.templates.TemplateResponse(
        request, "receipt_check.html", context, status_code=status_code, headers=HEADERS
    )
    return response


@router.get("/receipt")
def check_form(request: Request, db: SessionDep, lang: str | None = None) -> Response:
    """The form: a round whose receipts are published, and the code."""
    choices = _rounds(db)
    return _page(request, _lang(lang), choices, chosen=choices[0].id if choices else None)


@router.post("/receipt")
def check(
    request: Request,
    db: SessionDep,
    round_id: Annotated[int, Form(alias="round")],
    code: Annotated[str, Form(max_length=200)],
    lang: Annotated[str | None, Form()] = None,
) -> Response:
    """Say whether the code is in the chosen round's published list."""
    language = _lang(lang)
    choices = _rounds(db)
    if round_id not in {r.id for r in choices}:
        return _page(request, language, choices, 404, chosen=None, code=code, result="unknown")
    try:
        canonical = normalize_receipt(code)
    except InvalidToken:
        return _page(request, language, choices, 422, chosen=round_id, code=code, result="mistyped")
    found = ballot_box.receipt_published(db, round_id, canonical)
    return _page(
        request,
        language,
        choices,
        chosen=round_id,
        code=canonical,
        result="found" if found else "missing",
    )
