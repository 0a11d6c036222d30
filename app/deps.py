"""FastAPI dependencies: the per-request transaction, the current user and role checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from app.settings import Settings
from ballots import accounts
from ballots.db import utcnow
from ballots.errors import DomainError, PermissionDenied
from ballots.vocabulary import UserRole

SESSION_COOKIE = "phieukin_session"


def get_settings_dep(request: Request) -> Settings:
    """The app's settings (set by the factory, so tests can give their own)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: commit on success, roll back on any error."""
    factory = request.app.state.session_factory
    session: Session = factory()
    try:
        yield session
        session.commit()
    except DomainError as exc:
        # A failed login must still count the failure (see DomainError.keeps_writes).
        if exc.keeps_writes:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Requests holding a database session at once, per worker process; the engine's pool has
# exactly this many connections (app/main.py). Requests beyond it wait without a thread.
DB_SESSIONS = 15

# scope="function": the commit runs when the route returns, before the response is sent.
# With the default ("request") it ran after sending: a voter could hold a receipt for a
# ballot whose commit then failed. max_concurrency: every step of a sync dependency and
# route takes a worker thread; without the cap, 40 threads could all be waiting for one of
# 15 connections while the requests holding them waited for a thread to commit: a stall
# under a meeting's load (docs/PERFORMANCE.md, casting).
SessionDep = Annotated[Session, Depends(get_db, scope="function", max_concurrency=DB_SESSIONS)]


def current_user_or_none(
    request: Request, db: SessionDep, _settings: SettingsDep
) -> accounts.User | None:
    """The logged-in user, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    idle = request.app.state.session_idle
    return accounts.resolve_login_session(db, token, request.app.state.secret_key, utcnow(), idle)


OptionalUser = Annotated[accounts.User | None, Depends(current_user_or_none)]


def current_user(user: OptionalUser) -> accounts.User:
    """The logged-in user, or 401."""
    if user is None:
        raise HTTPException(status_code=401, detail="Log in first.")
    return user


CurrentUser = Annotated[accounts.User, Depends(current_user)]


def _require(*roles: UserRole):  # type: ignore[no-untyped-def]
    def check(user: CurrentUser) -> accounts.User:
        if user.role not in roles:
            raise PermissionDenied("Your account cannot do this.")
        return user

    return check


CurrentAdmin = Annotated[accounts.User, Depends(_require(UserRole.ADMIN))]
CurrentReader = Annotated[accounts.User, Depends(_require(UserRole.ADMIN, UserRole.OBSERVER))]
