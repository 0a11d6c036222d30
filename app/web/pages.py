"""Login, logout and the home page for admins, observers and leaders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import auth, i18n
from app.csrf import CsrfProtected
from app.deps import OptionalUser, SessionDep, SettingsDep
from app.errors import message_for, status_for
from ballots import rounds
from ballots.errors import AuthenticationFailed, TooManyAttempts
from ballots.vocabulary import UserRole

router = APIRouter(include_in_schema=False)


def _render(request: Request, name: str, status_code: int = 200, **context: object) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status_code
    )
    return response


@router.get("/")
def home(request: Request, db: SessionDep, user: OptionalUser) -> Response:
    """The staff home page: rounds for admins and observers, a notice for leaders."""
    if user is None:
        return RedirectResponse("/login", status_code=303)
    round_list = rounds.list_rounds(db) if user.role is not UserRole.LEADER else []
    return _render(request, "home.html", user=user, rounds=round_list)


@router.get("/login")
def login_form(request: Request, user: OptionalUser) -> Response:
    """The login form."""
    if user is not None:
        return RedirectResponse("/", status_code=303)
    return _render(request, "login.html", error=None, username="")


@router.post("/login")
def login_submit(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Check the password and open a session, or show the form again with one message."""
    try:
        _, token = auth.log_in(request, db, username, password)
    except (AuthenticationFailed, TooManyAttempts) as exc:
        # Returned, not raised: the failure count must be committed with the request.
        return _render(
            request,
            "login.html",
            status_code=status_for(exc),
            error=message_for(exc),
            username=username,
        )
    response = RedirectResponse("/", status_code=303)
    auth.set_session_cookie(response, token, settings)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, settings: SettingsDep, next: str = "/") -> Response:
    """Remember the viewer's language and go back to the same page."""
    # Only a path on this site: never an absolute or scheme-relative URL (open redirect).
    target = next if next.startswith("/") and not next.startswith(("//", "/\\")) else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        i18n.LANG_COOKIE,
        i18n.normalise(code),
        max_age=365 * 24 * 3600,
        samesite="lax",
        secure=settings.secure_cookies,
        httponly=True,
        path="/",
    )
    return response


@router.post("/logout", dependencies=[CsrfProtected])
def logout(request: Request, db: SessionDep) -> Response:
    """Log out and go back to the login page."""
    response = RedirectResponse("/login", status_code=303)
    auth.log_out(request, db, response)
    return response
