"""Settings from the environment (prefix PHIEUKIN_), refusing unsafe values."""

from __future__ import annotations

import os
import secrets
import sys
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url  # layers: reads a URL's parts to refuse unsafe values

from ballots.thresholds import DEFAULT_ANONYMITY_THRESHOLD, MIN_ANONYMITY_THRESHOLD

SECRET_KEY_FILE = "phieukin.secret_key"  # noqa: S105 - a file name, not a secret


class Settings(BaseSettings):
    """Everything an operator can set; see README "Configuration"."""

    model_config = SettingsConfigDict(env_prefix="PHIEUKIN_", env_file=None, extra="ignore")

    database_url: str = "sqlite:///./phieukin.db"
    # PostgreSQL: psycopg prepares a statement on a connection after 5 uses. Turn it off
    # behind a PgBouncer older than 1.21 in transaction mode (docs/OPERATIONS.md).
    db_prepared_statements: bool = True
    secret_key: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    anonymity_threshold: int = Field(
        default=DEFAULT_ANONYMITY_THRESHOLD, ge=MIN_ANONYMITY_THRESHOLD
    )
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Per-client login attempts allowed per minute before answers slow down.
    login_attempts_per_minute: int = Field(default=10, ge=1)
    # Per-client unknown slip codes per minute on the voting path.
    wrong_codes_per_minute: int = Field(default=60, ge=1)
    # Where the per-client limits live when several workers or servers share them
    # (redis://host:6379/0); unset, each process keeps its own in memory.
    redis_url: str | None = None
    # Keys in Redis start with this; servers of one deployment must use the same prefix.
    redis_key_prefix: str = Field(default="phieukin:", min_length=1, max_length=100)
    # How long the close keeps retrying the scrub while readers hold the files.
    scrub_patience_seconds: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        # "postgresql://" means psycopg 2 to SQLAlchemy; this project ships psycopg 3.
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None  # set but empty, as compose writes an unset variable: memory
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("REDIS_URL must start with redis://, rediss:// or unix://")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("PUBLIC_BASE_URL must start with http:// or https://")
        if "#" in value or "?" in value:
            raise ValueError("PUBLIC_BASE_URL cannot contain '#' or '?'")
        return value

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry Secure when the service is reached over https."""
        return self.public_base_url.startswith("https://")

    def data_dir(self) -> Path:
        """Where local files live: beside the SQLite file, else the working directory."""
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(str(url.database)).resolve().parent
        return Path.cwd()

    def secret_key_bytes(self) -> bytes:
        """The secret key, generated into a 0600 file on first run when not configured."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < 32:
                raise ValueError("PHIEUKIN_SECRET_KEY must be at least 32 characters")
            return value.encode()
        return _key_from_file(self.data_dir() / SECRET_KEY_FILE)


def _key_from_file(path: Path) -> bytes:
    if path.exists():
        return path.read_text().strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: if two workers start at once, one writes and the other reads what it wrote.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    print(
        f"phieukin: no PHIEUKIN_SECRET_KEY set; generated one into {path} (mode 0600). "
        "Keep that file with the database backups.",
        file=sys.stderr,
    )
    return key.encode()


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
