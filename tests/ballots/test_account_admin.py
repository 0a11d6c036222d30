"""Managing accounts: disable and enable, reset with a setup code, change one's own password."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ballots import account_admin, accounts, audit, setup_codes
from ballots.accounts import LoginSession
from ballots.db import utcnow
from ballots.errors import AuthenticationFailed, InvalidInput, InvalidState, NotFound
from ballots.vocabulary import UserRole

KEY = b"k" * 32
PASSWORD = "mật khẩu đủ dài"
IDLE = timedelta(minutes=30)


def _user(db: Session, username: str, role: UserRole = UserRole.OBSERVER) -> accounts.User:
    return accounts.create_user(
        db, username=username, full_name=username, role=role, password=PASSWORD, actor="test"
    )


def _sessions(db: Session, user: accounts.User) -> int:
    return int(
        db.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id)
        )
        or 0
    )


def _actions(db: Session) -> list[str]:
    return [e.action for e in audit.entries(db)]


class TestDisable:
    """A disabled account is out at once and stays out."""

    def test_sessions_end_at_once_and_login_fails(self, db: Session) -> None:
        """Its cookies stop working in the same transaction; its password no longer logs in."""
        _user(db, "chief", UserRole.ADMIN)
        obs = _user(db, "giamsat")
        cookie = accounts.start_login_session(db, obs, KEY, utcnow())
        account_admin.disable_user(db, "giamsat", actor="chief")
        assert _sessions(db, obs) == 0
        assert accounts.resolve_login_session(db, cookie, KEY, utcnow(), IDLE) is None
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, "giamsat", PASSWORD, utcnow())
        assert _actions(db)[-1] == "user.disabled"
        assert audit.entries(db)[-1].payload["sessions_ended"] == 1

    def test_enable_lets_the_old_password_work_again(self, db: Session) -> None:
        """Enabling is audit-logged and the password stands."""
        _user(db, "chief", UserRole.ADMIN)
        _user(db, "giamsat")
        account_admin.disable_user(db, "giamsat", actor="chief")
        account_admin.enable_user(db, "giamsat", actor="chief")
        assert accounts.authenticate(db, "giamsat", PASSWORD, utcnow()).username == "giamsat"
        assert _actions(db)[-1] == "user.enabled"

    def test_own_account_and_last_admin_are_refused(self, db: Session) -> None:
        """Nobody locks the district out: not oneself, not the last active admin."""
        _user(db, "chief", UserRole.ADMIN)
        with pytest.raises(InvalidState, match="your own"):
            account_admin.disable_user(db, "chief", actor="chief")
        with pytest.raises(InvalidState, match="last active admin"):
            account_admin.disable_user(db, "chief", actor="cli:root")
        _user(db, "deputy", UserRole.ADMIN)
        account_admin.disable_user(db, "deputy", actor="chief")
        with pytest.raises(InvalidState, match="already disabled"):
            account_admin.disable_user(db, "deputy", actor="chief")
        with pytest.raises(NotFound):
            account_admin.disable_user(db, "nobody", actor="chief")

    def test_a_disabled_account_cannot_use_a_setup_code(self, db: Session) -> None:
        """A code handed out before the account was disabled stops working."""
        _user(db, "chief", UserRole.ADMIN)
        _user(db, "giamsat")
        reset = account_admin.reset_password(db, "giamsat", actor="chief", now=utcnow())
        account_admin.disable_user(db, "giamsat", actor="chief")
        with pytest.raises(AuthenticationFailed):
            setup_codes.complete_setup(db, "giamsat", reset.setup_code, "mới và đủ dài", utcnow())


class TestResetPassword:
    """A reset gives a one-time setup code, as heads get."""

    def test_old_password_stops_and_the_code_works_once(self, db: Session) -> None:
        """The old password and sessions end; the code sets a new password, then is spent."""
        _user(db, "chief", UserRole.ADMIN)
        obs = _user(db, "giamsat")
        accounts.start_login_session(db, obs, KEY, utcnow())
        reset = account_admin.reset_password(db, "giamsat", actor="chief", now=utcnow())
        assert _sessions(db, obs) == 0
        assert reset.setup_code not in str(audit.entries(db)[-1].payload)
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, "giamsat", PASSWORD, utcnow())
        setup_codes.complete_setup(
            db, "giamsat", reset.setup_code.lower(), "mới và đủ dài", utcnow()
        )
        assert accounts.authenticate(db, "giamsat", "mới và đủ dài", utcnow()).id == obs.id
        with pytest.raises(AuthenticationFailed):
            setup_codes.complete_setup(db, "giamsat", reset.setup_code, "lần nữa đủ dài", utcnow())
        assert "user.password_reset" in _actions(db)

    def test_disabled_account_is_not_reset(self, db: Session) -> None:
        """Enable first: a reset must not revive a disabled account behind anyone's back."""
        _user(db, "chief", UserRole.ADMIN)
        _user(db, "giamsat")
        account_admin.disable_user(db, "giamsat", actor="chief")
        with pytest.raises(InvalidState, match="disabled"):
            account_admin.reset_password(db, "giamsat", actor="chief", now=utcnow())


class TestChangeOwnPassword:
    """Every user changes their own password with the current one."""

    def test_needs_the_current_password_and_ends_other_sessions(self, db: Session) -> None:
        """The session making the change stays; others end; the new password works."""
        obs = _user(db, "giamsat")
        here = accounts.start_login_session(db, obs, KEY, utcnow())
        elsewhere = accounts.start_login_session(db, obs, KEY, utcnow())
        with pytest.raises(AuthenticationFailed):
            account_admin.change_own_password(db, obs, "sai mật khẩu rồi", "mới và đủ dài")
        account_admin.change_own_password(
            db, obs, PASSWORD, "mới và đủ dài", keep_session=accounts.session_id_of(KEY, here)
        )
        assert accounts.resolve_login_session(db, here, KEY, utcnow(), IDLE) is not None
        assert accounts.resolve_login_session(db, elsewhere, KEY, utcnow(), IDLE) is None
        assert accounts.authenticate(db, "giamsat", "mới và đủ dài", utcnow()).id == obs.id
        assert _actions(db)[-1] == "user.password_set"

    def test_short_or_same_password_is_refused(self, db: Session) -> None:
        """The new password follows the same rule as at creation and must change."""
        obs = _user(db, "giamsat")
        with pytest.raises(InvalidInput, match="10 characters"):
            account_admin.change_own_password(db, obs, PASSWORD, "ngắn")
        with pytest.raises(InvalidInput, match="differ"):
            account_admin.change_own_password(db, obs, PASSWORD, PASSWORD)


class TestList:
    """The accounts page's list."""

    def test_admins_then_observers_then_leaders(self, db: Session) -> None:
        """Grouped by role, then by username."""
        _user(db, "zeta")
        _user(db, "beta", UserRole.ADMIN)
        _user(db, "alpha", UserRole.LEADER)
        _user(db, "gamma")
        assert [u.username for u in account_admin.list_users(db)] == [
            "beta",
            "gamma",
            "zeta",
            "alpha",
        ]


class TestCreateWithSetupCode:
    """An account made on the accounts page starts with a setup code, not a password."""

    def test_the_holder_chooses_the_password(self, db: Session) -> None:
        """No password works until the code is used; then the chosen one does."""
        made = account_admin.create_with_setup_code(
            db,
            username="giamsat2",
            full_name="Ủy ban Kiểm tra",
            role=UserRole.OBSERVER,
            actor="chief",
            now=utcnow(),
        )
        assert made.user.password_hash is None
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, "giamsat2", "", utcnow())
        setup_codes.complete_setup(db, "giamsat2", made.setup_code, "mới và đủ dài", utcnow())
        assert accounts.authenticate(db, "giamsat2", "mới và đủ dài", utcnow()).role is (
            UserRole.OBSERVER
        )
