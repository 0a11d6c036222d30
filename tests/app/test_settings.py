"""Settings refuse unsafe values and never fall back to a hard-coded secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import SECRET_KEY_FILE, Settings


class TestSettings:
    """PHIEUKIN_ settings."""

    def test_threshold_below_three_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """ANONYMITY_THRESHOLD=2 stops the service from starting."""
        monkeypatch.setenv("PHIEUKIN_ANONYMITY_THRESHOLD", "2")
        with pytest.raises(ValidationError):
            Settings()

    def test_defaults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """SQLite file in the working directory and k = 5 by default."""
        for name in ("DATABASE_URL", "ANONYMITY_THRESHOLD", "PUBLIC_BASE_URL", "SECRET_KEY"):
            monkeypatch.delenv(f"PHIEUKIN_{name}", raising=False)
        settings = Settings()
        assert settings.database_url == "sqlite:///./phieukin.db"
        assert settings.anonymity_threshold == 5
        assert settings.secret_key is None

    def test_secret_key_is_generated_into_a_private_file(self, tmp_path: Path) -> None:
        """Without a configured key, one is made beside the database, mode 0600, and reused."""
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", secret_key=None)
        key = settings.secret_key_bytes()
        path = tmp_path / SECRET_KEY_FILE
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(key) >= 32
        assert Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}").secret_key_bytes() == key
        other = tmp_path / "other"
        other.mkdir()
        assert Settings(database_url=f"sqlite:///{other / 'y.db'}").secret_key_bytes() != key

    def test_short_configured_secret_is_refused(self) -> None:
        """A configured key shorter than 32 characters is an error."""
        with pytest.raises(ValueError, match="32"):
            Settings(secret_key="short").secret_key_bytes()  # type: ignore[arg-type]

    def test_base_url_must_be_http_without_fragment(self) -> None:
        """The QR base URL cannot carry '#' (the token rides in the fragment)."""
        with pytest.raises(ValidationError):
            Settings(public_base_url="https://x.vn/#a")
        assert Settings(public_base_url="https://x.vn/").public_base_url == "https://x.vn"

    def test_plain_postgresql_url_uses_psycopg3(self) -> None:
        """postgresql:// is read as the psycopg 3 driver the project ships."""
        url = Settings(database_url="postgresql://u@h/db").database_url
        assert url == "postgresql+psycopg://u@h/db"
