"""Accounts: argon2id passwords, generic failures, slowing down guessing, sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from ballots import accounts
from ballots.db import utcnow
from ballots.errors import AlreadyExists, AuthenticationFailed, InvalidInput, TooManyAttempts
from ballots.vocabulary import UserRole

KEY = b"k" * 32
PASSWORD = "correct horse battery"


def _admin(db: Session) -> accounts.User:
    return accounts.create_user(
        db,
        username="Admin",
        full_name="Ban Tổ chức",
        role=UserRole.ADMIN,
        password=PASSWORD,
        actor="test",
    )


class TestPasswords:
    """Creating accounts and checking passwords."""

    def test_password_is_stored_as_argon2id_hash(self, db: Session) -> None:
        """The database holds an argon2id hash, never the password."""
        user = _admin(db)
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash

    def test_usernames_are_case_insensitive_and_unique(self, db: Session) -> None:
        """'Admin' and 'admin' are the same account."""
        _admin(db)
        with pytest.raises(AlreadyExists):
            accounts.create_user(
                db,
                username="admin",
                full_name="X",
                role=UserRole.OBSERVER,
                password=PASSWORD,
                actor="test",
            )

    def test_short_password_is_refused(self, db: Session) -> None:
        """Passwords under ten characters are refused."""
        with pytest.raises(InvalidInput, match="10 characters"):
            accounts.create_user(
                db,
                username="obs",
                full_name="X",
                role=UserRole.OBSERVER,
                password="short",
                actor="test",
            )

    def test_right_password_logs_in(self, db: Session) -> None:
        """The right password returns the account."""
        _admin(db)
        assert accounts.authenticate(db, "ADMIN", PASSWORD, utcnow()).username == "admin"

    def test_wrong_password_and_unknown_user_get_the_same_message(self, db: Session) -> None:
        """Nobody can learn which usernames exist from the message."""
        _admin(db)
        with pytest.raises(AuthenticationFailed) as wrong_password:
            accounts.authenticate(db, "admin", "not the password", utcnow())
        with pytest.raises(AuthenticationFailed) as unknown_user:
            accounts.authenticate(db, "nobody", "not the password", utcnow())
        assert wrong_password.value.message == unknown_user.value.message

    def test_repeated_failures_slow_the_account_down(self, db: Session) -> None:
        """After five failures even the right password waits, and the wait grows."""
        _admin(db)
        now = utcnow()
        for _ in range(accounts.FREE_FAILURES):
            with pytest.raises(AuthenticationFailed):
                accounts.authenticate(db, "admin", "wrong password", now)
        with pytest.raises(TooManyAttempts) as locked:
            accounts.authenticate(db, "admin", PASSWORD, now)
        assert 0 < locked.value.retry_after <= accounts.FIRST_LOCK_SECONDS + 1
        later = now + timedelta(seconds=accounts.FIRST_LOCK_SECONDS + 1)
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, "admin", "wrong again", later)
        with pytest.raises(TooManyAttempts) as longer:
            accounts.authenticate(db, "admin", PASSWORD, later)
        assert longer.value.retry_after > accounts.FIRST_LOCK_SECONDS
        much_later = later + timedelta(seconds=accounts.MAX_LOCK_SECONDS + 1)
        assert accounts.authenticate(db, "admin", PASSWORD, much_later).username == "admin"


class TestLoginSessions:
    """Server-side sessions with idle expiry."""

    def test_cookie_resolves_to_its_user_and_is_not_stored(self, db: Session) -> None:
        """The cookie value finds the user; the database only has its keyed hash."""
        user = _admin(db)
        token = accounts.start_login_session(db, user, KEY, utcnow())
        found = accounts.resolve_login_session(db, token, KEY, utcnow(), timedelta(minutes=30))
        assert found is not None
        assert found.id == user.id
        assert db.get(accounts.LoginSession, token) is None

    def test_idle_session_expires(self, db: Session) -> None:
        """A session unused for longer than the idle limit no longer logs in."""
        user = _admin(db)
        start = utcnow()
        token = accounts.start_login_session(db, user, KEY, start)
        later = start + timedelta(minutes=31)
        assert accounts.resolve_login_session(db, token, KEY, later, timedelta(minutes=30)) is None

    def test_logout_ends_the_session(self, db: Session) -> None:
        """After logout the cookie is worthless."""
        user = _admin(db)
        token = accounts.start_login_session(db, user, KEY, utcnow())
        accounts.end_login_session(db, token, KEY)
        assert accounts.resolve_login_session(db, token, KEY, utcnow(), timedelta(hours=1)) is None
