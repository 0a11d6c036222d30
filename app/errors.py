"""Domain errors to HTTP: the one table of status codes, and the JSON/HTML handlers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.i18n import N_, gettext, has_translation
from ballots import errors

STATUS: dict[type[errors.DomainError], int] = {
    errors.NotFound: 404,
    errors.InvalidInput: 422,
    errors.InvalidState: 409,
    errors.AlreadyExists: 409,
    errors.AuthenticationFailed: 401,
    errors.TooManyAttempts: 429,
    errors.PermissionDenied: 403,
    errors.MistypedCode: 422,
    errors.UnknownCode: 404,
    errors.CodeAlreadyUsed: 409,
    errors.VotingNotOpen: 409,
    errors.VotingClosed: 409,
    errors.BatchVoided: 410,
    errors.InvalidBallot: 422,
    errors.TooManyGuesses: 429,
}


# A page never shows English to a Vietnamese reader: a message without its own translation
# (text from a library, say) falls back to the sentence of its class.
FALLBACK: dict[type[errors.DomainError], str] = {
    errors.NotFound: N_("This was not found."),
    errors.InvalidInput: N_("The input is not valid."),
    errors.InvalidState: N_("This cannot be done in the current state of the round."),
    errors.AlreadyExists: N_("This already exists."),
    errors.AuthenticationFailed: N_("Wrong username or password."),
    errors.TooManyAttempts: N_("Too many attempts. Try again later."),
    errors.PermissionDenied: N_("Your account cannot do this."),
    errors.DomainError: N_("This cannot be done."),
}
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
    words (a round's status, say) are translated too."""
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
        if cls in FALLBACK:
            return gettext(FALLBACK[cls])
    return gettext(FALLBACK[errors.DomainError])


def problem_text(problem: errors.Problem) -> str:
    """One line-numbered problem of an uploaded file, in the viewer's language."""
    return translate(problem.template, dict(problem.params)) or problem.message


def status_for(exc: errors.DomainError) -> int:
    """The HTTP status of a domain error (most specific class wins)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


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


def _respond(
    request: Request,
    status: int,
    message: str,
    code: str,
    details: dict[str, Any] | None = None,
    page_message: str | None = None,
) -> Response:
    details = details or {}
    headers = {}
    if "retry_after" in details:
        headers["Retry-After"] = str(details["retry_after"])
    if _wants_html(request):
        return error_page(request, status, page_message or message, headers=headers)
    return JSONResponse(error_body(message, code, details), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, exc: errors.DomainError) -> Response:
        code = getattr(exc, "code", None) or type(exc).__name__.lower()
        return _respond(request, status_for(exc), exc.message, code, exc.details, message_for(exc))

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
    async def _unexpected(request: Request, exc: Exception) -> Response:
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
