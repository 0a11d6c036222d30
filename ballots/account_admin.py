"""Managing accounts: list, disable, enable, reset a password, change one's own.

Every change is audit-logged. A disabled account's login sessions are deleted in the same
transaction, so it is logged out at once, and it cannot log in or use a setup code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ballots import accounts, audit, setup_codes
from ballots.accounts import LoginSession, User
from ballots.errors import AuthenticationFailed, InvalidInput, InvalidState, NotFound
from ballots.vocabulary import UserRole


@dataclass(frozen=True)
class PasswordReset:
    """The account whose password was reset and its one-time setup code (shown once)."""

    user: User
    setup_code: str
    expires_at: datetime


def create_with_setup_code(
    session: Session,
    *,
    username: str,
    full_name: str,
    role: UserRole,
    actor: str,
    now: datetime,
) -> PasswordReset:
    """A new account without a password: its holder chooses one with the setup code.

    Nobody but the holder ever knows the password; the code is printed and handed over.
    """
    user = accounts.create_user(
        session, username=username, full_name=full_name, role=role, password=None, actor=actor
    )
    code = setup_codes.issue(user, now)
    assert user.setup_expires_at is not None
    return PasswordReset(user=user, setup_code=code, expires_at=user.setup_expires_at)


def list_users(session: Session) -> list[User]:
    """Every account: admins, then observers, then leaders, each by username."""
    order = {UserRole.ADMIN: 0, UserRole.OBSERVER: 1, UserRole.LEADER: 2}
    users = session.scalars(select(User).order_by(User.username))
    return sorted(users, key=lambda u: (order[u.role], u.username))


def get_user(session: Session, user_id: int) -> User:
    """The account with ``user_id`` or ``NotFound``."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    return user


def _by_name(session: Session, username: str) -> User:
    user = accounts.find_user(session, username)
    if user is None:
        raise NotFound("No such account.")
    return user


def end_sessions(session: Session, user: User) -> int:
    """Log ``user`` out everywhere; returns how many sessions ended."""
    result = session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _active_admins(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == UserRole.ADMIN, User.is_active.is_(True))
        )
        or 0
    )


def disable_user(session: Session, username: str, *, actor: str) -> User:
    """Stop an account: its sessions end now, it cannot log in or use a setup code."""
    user = _by_name(session, username)
    if not user.is_active:
        raise InvalidState("The account is already disabled.", status="disabled")
    if user.username == actor:
        raise InvalidState("You cannot disable your own account.", status="active")
    if user.role is UserRole.ADMIN and _active_admins(session) <= 1:
        # Nobody could then enable it again from the pages.
        raise InvalidState("The last active admin account cannot be disabled.", status="active")
    user.is_active = False
    ended = end_sessions(session, user)
    audit.record(
        session,
        actor=actor,
        action="user.disabled",
        payload={"username": user.username, "role": user.role.value, "sessions_ended": ended},
    )
    return user


def enable_user(session: Session, username: str, *, actor: str) -> User:
    """Let a disabled account log in again (with its old password or a setup code)."""
    user = _by_name(session, username)
    if user.is_active:
        raise InvalidState("The account is already active.", status="active")
    user.is_active = True
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.enabled",
        payload={"username": user.username, "role": user.role.value},
    )
    return user


def reset_password(session: Session, username: str, *, actor: str, now: datetime) -> PasswordReset:
    """Forget the password and give a one-time setup code; the account is logged out."""
    user = _by_name(session, username)
    if not user.is_active:
        raise InvalidState("The account is disabled; enable it first.", status="disabled")
    user.password_hash = None
    user.failed_logins = 0
    user.locked_until = None
    code = setup_codes.issue(user, now)
    ended = end_sessions(session, user)
    audit.record(
        session,
        actor=actor,
        action="user.password_reset",
        payload={"username": user.username, "sessions_ended": ended},
    )
    assert user.setup_expires_at is not None
    return PasswordReset(user=user, setup_code=code, expires_at=user.setup_expires_at)


def change_own_password(
    session: Session, user: User, current: str, new: str, *, keep_session: str | None = None
) -> User:
    """Change one's own password after giving the current one; other sessions end.

    ``keep_session`` is the id of the session making the change, which stays logged in.
    """
    try:
        ok = user.password_hash is not None and accounts.verify_password(
            user.password_hash, current
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise AuthenticationFailed("The current password is wrong.")
    if new == current:
        raise InvalidInput("The new password must differ from the current one.", field="password")
    accounts.validate_password(new)
    accounts.set_password(session, user.username, new, actor=user.username)
    others = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_session is not None:
        others = others.where(LoginSession.id != keep_session)
    session.execute(others)
    session.flush()
    return user
