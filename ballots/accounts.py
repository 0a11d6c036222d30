"""Accounts of admins, observers and leaders; login sessions kept on the server.

Nothing here is on the voting path: voters never have an account (invariant 1).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import DateTime, Enum, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ballots import audit
from ballots.db import Base, as_utc, utcnow
from ballots.errors import (
    AlreadyExists,
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    TooManyAttempts,
)
from ballots.vocabulary import UserRole

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 10

# Failures allowed before an account is slowed down, and how the wait grows.
FREE_FAILURES = 5
FIRST_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 15 * 60

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the username is unknown, so both cases cost the same time and a
# stranger cannot tell which usernames exist from how fast the answer comes.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

GENERIC_LOGIN_FAILURE = "Wrong username or password."


class User(Base):
    """A person who logs in: admin (district staff), observer or leader (a head)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[UserRole] = mapped_column(
        Enum(
            UserRole,
            name="user_role",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A leader's one-time setup code, kept as SHA-256 (it has 80 random bits) until used.
    setup_code_hash: Mapped[str | None] = mapped_column(String(64))
    setup_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LeaderSubject(Base):
    """Binds a leader's account to a subject whose report they may read."""

    __tablename__ = "leader_subjects"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )


class LoginSession(Base):
    """A server-side login session; the cookie holds a secret whose keyed hash is the id."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


_aware = as_utc


def validate_password(password: str) -> None:
    """Refuse passwords too short to survive guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "The password needs at least {n} characters.",
            params={"n": MIN_PASSWORD_LENGTH},
            field="password",
        )


def create_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    role: UserRole,
    password: str | None,
    actor: str,
) -> User:
    """Create an account; a leader may start without a password (set up later)."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise InvalidInput(
            "A username has 3-64 characters: lower-case letters, digits, '.', '_' or '-'.",
            field="username",
        )
    if not full_name.strip():
        raise InvalidInput("A full name is required.", field="full_name")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AlreadyExists(
            "The username {username!r} is taken.", params={"username": username}, field="username"
        )
    if password is not None:
        validate_password(password)
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        password_hash=_hasher.hash(password) if password is not None else None,
        is_active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.created",
        payload={"username": username, "role": role.value},
    )
    return user


def set_password(session: Session, username: str, password: str, *, actor: str) -> User:
    """Set a new password and clear any lock."""
    validate_password(password)
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound("No account named {username!r}.", params={"username": username})
    user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit.record(
        session, actor=actor, action="user.password_set", payload={"username": user.username}
    )
    return user


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; raises argon2's errors on a mismatch."""
    return bool(_hasher.verify(stored_hash, password))


def find_user(session: Session, username: str) -> User | None:
    """The account with ``username``, if any."""
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def authenticate(session: Session, username: str, password: str, now: datetime) -> User:
    """Check a password; failures are counted and, past a few, the account is slowed down."""
    user = find_user(session, username)
    if user is not None and user.locked_until is not None and _aware(user.locked_until) > now:
        wait = int((_aware(user.locked_until) - now).total_seconds()) + 1
        raise TooManyAttempts(
            "Too many failed attempts. Try again in {seconds} seconds.", retry_after=wait
        )
    stored = user.password_hash if user is not None and user.is_active else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
        ok = stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        if user is not None:
            user.failed_logins += 1
            excess = user.failed_logins - FREE_FAILURES
            if excess >= 0:
                seconds = min(FIRST_LOCK_SECONDS * 2**excess, MAX_LOCK_SECONDS)
                user.locked_until = now + timedelta(seconds=seconds)
            session.flush()
        raise AuthenticationFailed(GENERIC_LOGIN_FAILURE)
    assert user is not None
    assert stored is not None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return user


def session_id_of(secret_key: bytes, token: str) -> str:
    """The stored id of the session behind a cookie value."""
    return _session_id(secret_key, token)


def _session_id(secret_key: bytes, token: str) -> str:
    # Keyed, so that a copy of the database alone cannot be turned into live cookies.
    return hmac.new(secret_key, token.encode(), hashlib.sha256).hexdigest()


def start_login_session(session: Session, user: User, secret_key: bytes, now: datetime) -> str:
    """Open a login session; returns the cookie value, which is not stored anywhere."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            id=_session_id(secret_key, token), user_id=user.id, created_at=now, last_seen_at=now
        )
    )
    session.flush()
    return token


def resolve_login_session(
    session: Session, token: str, secret_key: bytes, now: datetime, idle: timedelta
) -> User | None:
    """The user behind a cookie, or None when unknown, idle too long, or disabled."""
    row = session.get(LoginSession, _session_id(secret_key, token))
    if row is None:
        return None
    if now - _aware(row.last_seen_at) > idle:
        session.delete(row)
        session.flush()
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    # Written at most once a minute, so that reading pages does not write on every request.
    if now - _aware(row.last_seen_at) > timedelta(minutes=1):
        row.last_seen_at = now
    return user


def end_login_session(session: Session, token: str, secret_key: bytes) -> None:
    """Log out: forget the session."""
    session.execute(delete(LoginSession).where(LoginSession.id == _session_id(secret_key, token)))


def leader_subject_ids(session: Session, user: User) -> set[int]:
    """Subjects whose reports this leader may read."""
    return set(
        session.scalars(select(LeaderSubject.subject_id).where(LeaderSubject.user_id == user.id))
    )


def bind_leader(session: Session, user: User, subject_id: int, *, actor: str) -> None:
    """Let a leader account read one subject's report (audit-logged)."""
    if user.role is not UserRole.LEADER:
        raise InvalidInput("Only a leader account can be bound to a subject.", field="role")
    if session.get(LeaderSubject, (user.id, subject_id)) is None:
        session.add(LeaderSubject(user_id=user.id, subject_id=subject_id))
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="leader.bound",
            payload={"username": user.username, "subject_id": subject_id},
        )
