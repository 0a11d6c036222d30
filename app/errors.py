"""Domain errors at the edge: the one table, and the JSON, HTML and console renderers.

``RULES`` gives each class of ``ballots.errors`` its HTTP status, its message key and the
sentence a page falls back to. The JSON handler, the staff pages and the ``phieukin``
command read it; no route, page or command maps an error a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.i18n import N_, gettext, has_translation
from ballots import errors


@dataclass(frozen=True)
class Rule:
    """How the edge renders one class of domain error.

    ``key`` is the ``code`` of the JSON body, the key the voting page words in the voter's
    language (app/web/vote_text.py) and the tag the console prints. ``fallback`` is what a
    page says when the error's own message has no translation.
    """

    status: int
    key: str
    fallback: str | None = None


# The one table: JSON, HTML pages and the CLI all read it; no route maps an error again.
RULES: dict[type[errors.DomainError], Rule] = {
    errors.DomainError: Rule(400, "domainerror", N_("This cannot be done.")),
    errors.NotFound: Rule(404, "notfound", N_("This was not found.")),
    errors.InvalidInput: Rule(422, "invalidinput", N_("The input is not valid.")),
    errors.InvalidState: Rule(
        409, "invalidstate", N_("This cannot be done in the current state of the round.")
    ),
    errors.AlreadyExists: Rule(409, "alreadyexists", N_("This already exists.")),
    errors.AuthenticationFailed: Rule(
        401, "authenticationfailed", N_("Wrong username or password.")
    ),
    errors.TooManyAttempts: Rule(429, "toomanyattempts", N_("Too many attempts. Try again later.")),
    errors.PermissionDenied: Rule(403, "permissiondenied", N_("Your account cannot do this.")),
    errors.VotingError: Rule(400, "voting_error"),
    errors.MistypedCode: Rule(422, "mistyped_code"),
    errors.UnknownCode: Rule(404, "unknown_code"),
    errors.CodeAlreadyUsed: Rule(409, "already_used"),
    errors.VotingNotOpen: Rule(409, "not_open"),
    errors.VotingClosed: Rule(409, "closed"),
    errors.BatchVoided: Rule(410, "batch_voided"),
    errors.InvalidBallot: Rule(422, "invalid_answers"),
    errors.TooManyGuesses: Rule(429, "too_many_attempts"),
}


def rule_for(exc: errors.DomainError) -> Rule:
    """The rule of a domain error: the most specific class in the table wins."""
    for cls in type(exc).__mro__:
        if cls in RULES:
            return RULES[cls]
    return RULES[errors.DomainError]


def status_for(exc: errors.DomainError) -> int:
    """The HTTP status of a domain error."""
    return rule_for(exc).status


def key_for(exc: errors.DomainError) -> str:
    """The message key of a domain error (the JSON ``code``)."""
    return rule_for(exc).key


def console_line(exc: errors.DomainError) -> str:
    """What the ``phieukin`` command prints for a domain error."""
    return f"Error ({key_for(exc)}): {exc.message}"


# Words that services put into their messages as fields: translated where they appear.
FIELD_WORDS = (
    N_("draft"),
    N_("open"),
    N_("closed"),
    N_("published"),
    N_("ward"),
    N_("school"),
    N_("Units file"),
    N_("Subjects file"),
)
TITLES: dict[int, str] = {
    401: N_("Log in first"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Not possible now"),
    410: N_("No longer valid"),
    422: N_("Please check the input"),
    429: N_("Too many attempts"),
}


def translate(template: str, params: dict[str, object] | None = None) -> str:
    """An English template and its fields in the current language; fields that are known
    words (a round's status, say) are translated too.
    """
    text = gettext(template) if has_translation(template) else None
    if text is None:
        return ""
    if not params:
        return text
    fields = {
        k: gettext(v) if isinstance(v, str) and has_translation(v) else v for k, v in params.items()
    }
    try:
        return text.format(**fields)
    except (KeyError, IndexError, ValueError):  # a translation that lost a field
        return template.format(**params)


def message_for(exc: errors.DomainError) -> str:
    """What a page says about ``exc``, in the viewer's language."""
    text = translate(exc.template, exc.params)
    if text:
        return text
    for cls in type(exc).__mro__:
        fallback = RULES[cls].fallback if cls in RULES else None
        if fallback:
            return gettext(fallback)
    return gettext(N_("This cannot be done."))


def problem_text(problem: errors.Problem) -> str:
    """One line-numbered problem of an uploaded file, in the viewer's language."""
    return translate(problem.template, dict(problem.params)) or problem.message


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def error_body(message: str, code: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The uniform JSON error body."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    extra = {k: v for k, v in (details or {}).items() if k != "code"}
    if extra:
        body["error"]["details"] = extra
    return body


def error_page(
    request: Request,
    status: int,
    message: str,
    *,
    user: object | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The HTML error page: a title for the status and one sentence, in the viewer's language."""
    title = gettext(TITLES.get(status, N_("Not possible")))
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": title, "message": message, "user": user},
        status_code=status,
        headers=headers,
    )
    return response


def refusal_page(
    request: Request,
    exc: errors.DomainError,
    *,
    message: str | None = None,
    user: object | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error page for a refusal a route caught: status from the table, the message given
    (a page may word it more closely) or the error's own, translated.
    """
    return error_page(
        request,
        status_for(exc),
        message or message_for(exc),
        user=user,
        headers={**(headers or {}), **_retry_after(exc.details)},
    )


def _retry_after(details: dict[str, Any]) -> dict[str, str]:
    return {"Retry-After": str(details["retry_after"])} if "retry_after" in details else {}


def _respond(
    request: Request,
    status: int,
    message: str,
    code: str,
    details: dict[str, Any] | None = None,
    page_message: str | None = None,
) -> Response:
    details = details or {}
    headers = _retry_after(details)
    if _wants_html(request):
        return error_page(request, status, page_message or message, headers=headers)
    return JSONResponse(error_body(message, code, details), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, exc: errors.DomainError) -> Response:
        rule = rule_for(exc)
        return _respond(request, rule.status, exc.message, rule.key, exc.details, message_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
            for e in exc.errors()
        ]
        return _respond(
            request,
            422,
            "The request is not valid.",
            "invalidinput",
            {"errors": problems},
            gettext(N_("The request is not valid.")),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> Response:
        # A bug, never an answer to input: the suite fails on any 5xx. The client still
        # gets the uniform body rather than a plain-text trace.
        return _respond(
            request, 500, "Internal error.", "internal", None, gettext(N_("Internal error."))
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {
            404: N_("Not found."),
            405: N_("Method not allowed."),
            401: N_("Log in first."),
            403: N_("Your account cannot do this."),
        }
        english = messages.get(exc.status_code, N_("Error."))
        message = exc.detail if isinstance(exc.detail, str) else english
        if exc.status_code == 401 and _wants_html(request):
            return HTMLResponse(status_code=303, headers={"Location": "/login"})
        page = translate(message) or gettext(english)
        return _respond(request, exc.status_code, message, f"http{exc.status_code}", None, page)
