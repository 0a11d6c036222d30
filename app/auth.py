"""Logging in and out, shared by the JSON API and the HTML pages."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy.orm import Session

from app.deps import SESSION_COOKIE
from app.settings import Settings
from ballots import accounts, leaders
from ballots.db import utcnow
from ballots.errors import TooManyAttempts


def client_key(request: Request) -> str:
    """The client's address, for in-memory throttling only (never stored or logged)."""
    return request.client.host if request.client else "unknown"


def log_in(
    request: Request, db: Session, username: str, password: str
) -> tuple[accounts.User, str]:
    """Check the password under per-client and per-account limits; returns (user, cookie)."""
    throttle(request)
    now = utcnow()
    user = accounts.authenticate(db, username, password, now)
    token = accounts.start_login_session(db, user, request.app.state.secret_key, now)
    return user, token


def throttle(request: Request) -> None:
    """Count one password or setup-code attempt from this client; refuse past the limit."""
    wait = request.app.state.login_limiter.hit(client_key(request))
    if wait:
        raise TooManyAttempts(
            "Too many attempts from this device. Try again in {seconds} seconds.", retry_after=wait
        )


def complete_setup(
    request: Request, db: Session, username: str, code: str, password: str
) -> accounts.User:
    """A head chooses a password with the one-time setup code, under the login limit."""
    throttle(request)
    return leaders.complete_setup(db, username, code, password, utcnow())


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    """HttpOnly, SameSite=Strict, Secure over https; lifetime is bounded on the server."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
    )


def log_out(request: Request, db: Session, response: Response) -> None:
    """Forget the session on the server and in the browser."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_login_session(db, token, request.app.state.secret_key)
    response.delete_cookie(SESSION_COOKIE, path="/")
