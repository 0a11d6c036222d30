"""Accounts pages: the list, creating, disabling, enabling, resetting; one's own password.

Admins change accounts; observers read the list without any control; every user changes
their own password. Disabling and resetting ask first, on a page that says what cannot be
undone. A new account and a reset get a one-time setup code, printed and handed over.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import auth
from app.csrf import CsrfProtected
from app.deps import SESSION_COOKIE, CurrentAdmin, CurrentReader, CurrentUser, SessionDep
from app.errors import message_for
from app.i18n import N_, _
from ballots import account_admin, accounts
from ballots.db import utcnow
from ballots.errors import DomainError
from ballots.vocabulary import UserRole

router = APIRouter(include_in_schema=False, dependencies=[CsrfProtected])

ROLE_LABELS = {
    UserRole.ADMIN: N_("Admin (district staff)"),
    UserRole.OBSERVER: N_("Observer"),
    UserRole.LEADER: N_("Head of a unit"),
}
DONE = {
    "disabled": N_("The account is disabled and was logged out everywhere."),
    "enabled": N_("The account is enabled again."),
    "password": N_("Your password is changed. Your other sessions were logged out."),
}


def _render(request: Request, name: str, status_code: int = 200, **context: object) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, {"role_labels": ROLE_LABELS, **context}, status_code=status_code
    )
    return response


def _list(
    request: Request,
    db: SessionDep,
    user: accounts.User,
    status_code: int = 200,
    **form: object,
) -> Response:
    done = request.query_params.get("done", "")
    return _render(
        request,
        "accounts.html",
        status_code,
        user=user,
        users=account_admin.list_users(db),
        done=_(DONE[done]) if done in DONE else None,
        can_edit=user.role is UserRole.ADMIN,
        roles=list(UserRole),
        **{"error": None, "username": "", "full_name": "", "role": "observer", **form},
    )


@router.get("/accounts")
def account_list(request: Request, db: SessionDep, user: CurrentReader) -> Response:
    """Every account; admins also get the controls and the form to add one."""
    return _list(request, db, user)


@router.post("/accounts")
def account_create(
    request: Request,
    db: SessionDep,
    admin: CurrentAdmin,
    username: Annotated[str, Form(max_length=64)],
    full_name: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    """Create an account with a one-time setup code, shown once on a printable page."""
    form = {"username": username, "full_name": full_name, "role": role}
    if role not in {r.value for r in UserRole}:
        return _list(request, db, admin, 422, error=_("Choose a role."), **form)
    try:
        made = account_admin.create_with_setup_code(
            db,
            username=username,
            full_name=full_name,
            role=UserRole(role),
            actor=admin.username,
            now=utcnow(),
        )
    except DomainError as exc:
        db.rollback()
        return _list(request, db, admin, 422, error=message_for(exc), **form)
    return _render(request, "setup_code.html", 201, user=admin, made=made, new=True)


def _target(db: SessionDep, user_id: int) -> accounts.User:
    return account_admin.get_user(db, user_id)


@router.get("/accounts/{user_id:int}/disable")
def confirm_disable(
    request: Request, db: SessionDep, admin: CurrentAdmin, user_id: int
) -> Response:
    """Ask before disabling: what happens at once and what cannot be undone."""
    target = _target(db, user_id)
    return _render(
        request,
        "confirm_action.html",
        user=admin,
        title=_("Disable the account %(username)s?") % {"username": target.username},
        consequences=[
            _("Every session of this account ends at once: whoever uses it is logged out."),
            _("It cannot log in, nor use a setup code, until it is enabled again."),
            _("This is written in the audit log, which cannot be changed."),
        ],
        action=f"/accounts/{user_id}/disable",
        submit=_("Disable the account"),
        cancel="/accounts",
    )


@router.post("/accounts/{user_id:int}/disable")
def disable(_request: Request, db: SessionDep, admin: CurrentAdmin, user_id: int) -> Response:
    """Disable the account; its sessions end in the same transaction."""
    target = _target(db, user_id)
    account_admin.disable_user(db, target.username, actor=admin.username)
    return RedirectResponse("/accounts?done=disabled", status_code=303)


@router.post("/accounts/{user_id:int}/enable")
def enable(_request: Request, db: SessionDep, admin: CurrentAdmin, user_id: int) -> Response:
    """Let a disabled account log in again."""
    target = _target(db, user_id)
    account_admin.enable_user(db, target.username, actor=admin.username)
    return RedirectResponse("/accounts?done=enabled", status_code=303)


@router.get("/accounts/{user_id:int}/reset")
def confirm_reset(request: Request, db: SessionDep, admin: CurrentAdmin, user_id: int) -> Response:
    """Ask before resetting a password."""
    target = _target(db, user_id)
    return _render(
        request,
        "confirm_action.html",
        user=admin,
        title=_("Reset the password of %(username)s?") % {"username": target.username},
        consequences=[
            _("The current password stops working at once and every session ends."),
            _("A one-time setup code is shown once: print it and hand it over in person."),
            _("The old password cannot be brought back."),
        ],
        action=f"/accounts/{user_id}/reset",
        submit=_("Reset the password"),
        cancel="/accounts",
    )


@router.post("/accounts/{user_id:int}/reset")
def reset(request: Request, db: SessionDep, admin: CurrentAdmin, user_id: int) -> Response:
    """Reset the password; the setup code is shown this once."""
    target = _target(db, user_id)
    made = account_admin.reset_password(db, target.username, actor=admin.username, now=utcnow())
    return _render(request, "setup_code.html", user=admin, made=made, new=False)


@router.get("/account/password")
def password_form(request: Request, user: CurrentUser) -> Response:
    """Every user: change one's own password."""
    return _render(request, "password.html", user=user, error=None)


@router.post("/account/password")
def password_change(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    current: Annotated[str, Form(max_length=1024)],
    password: Annotated[str, Form(max_length=1024)],
    password_again: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Check the current password, set the new one, end the other sessions."""
    if password != password_again:
        return _render(
            request, "password.html", 422, user=user, error=_("The two passwords differ.")
        )
    cookie = request.cookies.get(SESSION_COOKIE, "")
    try:
        auth.throttle(request)  # a session left open must not become a password oracle
        account_admin.change_own_password(
            db,
            user,
            current,
            password,
            keep_session=accounts.session_id_of(request.app.state.secret_key, cookie),
        )
    except DomainError as exc:
        db.rollback()
        return _render(request, "password.html", 422, user=user, error=message_for(exc))
    return RedirectResponse("/account/password?done=password", status_code=303)
