"""The voting page /v: server-rendered, works without script, on a 360 px phone.

The QR code opens /v#TOKEN; the fragment never reaches the server. A few lines of script
(static/vote.js) read it, clear it from the address bar and POST it here. Without script
the voter types the code into a POST form. No token ever travels in a URL.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from app import voting
from app.deps import SessionDep
from app.errors import key_for, status_for
from app.web.vote_text import words
from ballots.casting import NO_OPINION, BallotForm, validate_answers
from ballots.errors import InvalidBallot, MistypedCode, VotingError
from ballots.questionnaire import HEAD_TEXT_CHARS, MAX_FREE_TEXT_CHARS
from crypto.tokens import typed_groups

router = APIRouter(include_in_schema=False)

HEADERS = {
    # Nothing of the voting pages may stay on a shared phone or leak to another site.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
}


def _lang(value: str | None) -> str:
    return "en" if value == "en" else "vi"


def _page(request: Request, name: str, lang: str, status_code: int = 200, **ctx: Any) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        name,
        {"lang": lang, "t": words(lang), **ctx},
        status_code=status_code,
        headers=HEADERS,
    )
    return response


@router.get("/v")
@router.get("/V")
def start(request: Request, lang: str | None = None) -> Response:
    """The page a slip's QR code opens."""
    return _page(request, "vote_start.html", _lang(lang), error=None)


@router.post("/v")
@router.post("/V")
def open_ballot(
    request: Request,
    db: SessionDep,
    code: Annotated[str, Form(max_length=200)],
    lang: Annotated[str | None, Form()] = None,
) -> Response:
    """Show the ballot form for a code, without spending it."""
    language = _lang(lang)
    try:
        form = voting.preview(request, db, code)
    except MistypedCode as exc:
        # The code stays in the field, its printed groups shown with the faulty ones marked.
        return _page(
            request,
            "vote_start.html",
            language,
            status_for(exc),
            error=key_for(exc),
            code=code,
            groups=typed_groups(code),
        )
    except VotingError as exc:
        return _page(request, "vote_start.html", language, status_for(exc), error=key_for(exc))
    return _form_page(request, language, form, code, {}, None)


def _form_page(
    request: Request,
    lang: str,
    form: BallotForm,
    token: str,
    given: dict[str, str],
    bad_field: str | None,
    status_code: int = 200,
) -> Response:
    return _page(
        request,
        "vote_form.html",
        lang,
        status_code,
        form=form,
        token=token,
        given=given,
        bad_field=bad_field,
        error="invalid_answers" if bad_field else None,
        head_text_chars=HEAD_TEXT_CHARS,
    )


def _review_page(
    request: Request, lang: str, form: BallotForm, token: str, given: dict[str, str]
) -> Response:
    """What was chosen, per head and criterion, and the texts, with "edit" and "send"."""
    q = form.questionnaire
    options = {str(o.value): o for o in q.scale.options}
    heads = []
    for s in form.subjects:
        choices = []
        for c in q.criteria:
            value = given.get(f"r.{s.id}.{c.key}", "")
            none = value == str(NO_OPINION)
            label = q.scale.no_opinion if none else options[value]
            choices.append((c, label, none))
        texts = [
            (f, given[f"t.{s.id}.{f.key}"])
            for f in q.free_text
            if given.get(f"t.{s.id}.{f.key}", "").strip()
        ]
        heads.append((s, choices, texts))
    kept = {k: v for k, v in given.items() if k.startswith(("r.", "t."))}
    return _page(request, "vote_review.html", lang, form=form, token=token, heads=heads, kept=kept)


def answers_from_form(data: FormData) -> dict[str, Any]:
    """Fields r.<subject>.<criterion> and t.<subject>.<question> as the API's answers."""
    ratings: dict[str, dict[str, Any]] = {}
    texts: dict[str, dict[str, str]] = {}
    for key, value in data.multi_items():
        if not isinstance(value, str):
            continue
        kind, _, rest = key.partition(".")
        subject, _, item = rest.partition(".")
        if kind == "r" and subject and item:
            ratings.setdefault(subject, {})[item] = (
                int(value) if value.isascii() and value.isdigit() else value
            )
        elif kind == "t" and subject and item:
            texts.setdefault(subject, {})[item] = value
    return {"ratings": ratings, "texts": texts}


@router.post("/v/cast")
@router.post("/V/cast")
async def cast(request: Request, db: SessionDep) -> Response:
    """Review, edit or cast the ballot; the receipt page, or the form again with the problem.

    ``step``: "review" (the form's button) shows the choices without spending anything,
    "edit" puts them back in the form, "send" (or none: older pages, scripts) casts.
    """
    # A field may hold a whole comment: up to MAX_FREE_TEXT_CHARS characters of up to 4
    # UTF-8 bytes, each byte percent-encoded as 3 characters. The body's own limit (64 KiB)
    # still bounds the whole ballot.
    data = await request.form(max_fields=500, max_part_size=12 * MAX_FREE_TEXT_CHARS + 1024)
    language = _lang(str(data.get("lang") or ""))
    token = str(data.get("token") or "")
    answers = answers_from_form(data)
    given = {k: v for k, v in data.multi_items() if isinstance(v, str)}
    step = str(data.get("step") or "send")
    if step in ("review", "edit"):
        try:
            form = await _run(voting.preview, request, db, token)
        except VotingError as exc:
            return _page(request, "vote_start.html", language, status_for(exc), error=key_for(exc))
        if step == "edit":
            return _form_page(request, language, form, token, given, None)
        try:
            validate_answers(form, answers)
        except InvalidBallot as exc:
            field = str(exc.details.get("field", ""))
            return _form_page(request, language, form, token, given, field or "answers", 422)
        return _review_page(request, language, form, token, given)
    try:
        result = await _run(voting.cast, request, db, token, answers)
    except InvalidBallot as exc:
        form = await _run(voting.preview, request, db, token)
        field = str(exc.details.get("field", ""))
        return _form_page(request, language, form, token, given, field or "answers", 422)
    except VotingError as exc:
        return _page(request, "vote_start.html", language, status_for(exc), error=key_for(exc))
    return _page(
        request,
        "vote_receipt.html",
        language,
        200 if result.repeated else 201,
        receipt=result.receipt,
        repeated=result.repeated,
    )


async def _run(func: Any, *args: Any) -> Any:
    # The services are synchronous (database I/O); keep them off the event loop.
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func, *args)
