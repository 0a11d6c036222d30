"""Domain errors to HTTP: the one table of status codes, and the JSON/HTML handlers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def _respond(
    request: Request, status: int, message: str, code: str, details: dict[str, Any] | None = None
) -> Response:
    details = details or {}
    headers = {}
    if "retry_after" in details:
        headers["Retry-After"] = str(details["retry_after"])
    if _wants_html(request):
        templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "message": message},
            status_code=status,
            headers=headers,
        )
    return JSONResponse(error_body(message, code, details), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, exc: errors.DomainError) -> Response:
        code = getattr(exc, "code", None) or type(exc).__name__.lower()
        return _respond(request, status_for(exc), exc.message, code, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
            for e in exc.errors()
        ]
        return _respond(
            request, 422, "The request is not valid.", "invalidinput", {"errors": problems}
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # A bug, never an answer to input: the suite fails on any 5xx. The client still
        # gets the uniform body rather than a plain-text trace.
        return _respond(request, 500, "Internal error.", "internal")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "Not found.", 405: "Method not allowed.", 401: "Log in first."}
        message = exc.detail if isinstance(exc.detail, str) else messages.get(exc.status_code, "")
        if exc.status_code == 401 and _wants_html(request):
            return HTMLResponse(status_code=303, headers={"Location": "/login"})
        return _respond(request, exc.status_code, message or "Error.", f"http{exc.status_code}")
