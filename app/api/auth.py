"""Login, logout and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app import auth
from app.api.schemas import LoginIn, UserIn, UserOut
from app.deps import CurrentAdmin, CurrentUser, SessionDep, SettingsDep
from ballots import accounts

router = APIRouter(tags=["accounts"])


@router.post("/auth/login", response_model=UserOut)
def login(
    body: LoginIn, request: Request, response: Response, db: SessionDep, settings: SettingsDep
) -> accounts.User:
    """Log in; sets the session cookie."""
    user, token = auth.log_in(request, db, body.username, body.password)
    auth.set_session_cookie(response, token, settings)
    return user


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, db: SessionDep) -> Response:
    """Log out (always succeeds)."""
    auth.log_out(request, db, response)
    response.status_code = status.HTTP_204_NO_CONTENT
    return response


@router.get("/auth/me", response_model=UserOut)
def me(user: CurrentUser) -> accounts.User:
    """The logged-in account."""
    return user


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserIn, db: SessionDep, admin: CurrentAdmin) -> accounts.User:
    """Create an account (admins only)."""
    return accounts.create_user(
        db,
        username=body.username,
        full_name=body.full_name,
        role=body.role,
        password=body.password,
        actor=admin.username,
    )
