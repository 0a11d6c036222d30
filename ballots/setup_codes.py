"""One-time setup codes: how a head, or anyone whose password was reset, chooses a password.

A code has 80 random bits in the slip alphabet, is shown once (printed and handed over in
person) and is kept only as its SHA-256 until used or expired.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ballots import accounts
from ballots.accounts import User
from ballots.db import as_utc
from ballots.errors import AuthenticationFailed
from crypto.tokens import ALPHABET

SETUP_CODE_LENGTH = 16  # 80 random bits
SETUP_VALID_FOR = timedelta(days=30)


def code_hash(code: str) -> str:
    """What is stored: the SHA-256 of the code without dashes or case."""
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


def new_code() -> str:
    """A fresh code written in groups of four, e.g. ``K3QF-9XDA-...``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(SETUP_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, SETUP_CODE_LENGTH, 4))


def issue(user: User, now: datetime) -> str:
    """Give ``user`` a new code (any earlier one stops working); returns it, once."""
    code = new_code()
    user.setup_code_hash = code_hash(code)
    user.setup_expires_at = now + SETUP_VALID_FOR
    return code


def withdraw(user: User) -> None:
    """Make any outstanding code stop working (the password was set another way)."""
    user.setup_code_hash = None
    user.setup_expires_at = None


def complete_setup(
    session: Session, username: str, code: str, password: str, now: datetime
) -> User:
    """Choose a password with a one-time setup code; the code then stops working."""
    user = accounts.find_user(session, username)
    valid = (
        user is not None
        and user.is_active
        and user.setup_code_hash is not None
        and user.setup_expires_at is not None
        and as_utc(user.setup_expires_at) > now
        and hmac.compare_digest(user.setup_code_hash, code_hash(code))
    )
    if not valid:
        raise AuthenticationFailed("Wrong username or setup code, or the code has expired.")
    assert user is not None
    accounts.set_password(session, user.username, password, actor=user.username)
    user.setup_code_hash = None
    user.setup_expires_at = None
    session.flush()
    return user
