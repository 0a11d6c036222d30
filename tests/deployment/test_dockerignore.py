""".dockerignore: local state and secrets stay out of the build context, sources stay in."""

from __future__ import annotations

import pytest

from tests.deployment_helpers import (
    dockerignore_patterns,
    ignored,
)


class TestDockerignore:
    """Local state and secrets stay out of the build context; the source goes in."""

    @pytest.mark.parametrize(
        "path",
        [
            ".venv/bin/python",
            ".git/HEAD",
            "phieukin.db",
            "phieukin.db-wal",
            "phieukin.secret_key",
            "data/phieukin.secret_key",
            ".pytest_cache/README.md",
            "app/__pycache__/main.cpython-311.pyc",
            ".env",
        ],
    )
    def test_leaves_out_local_state_and_secrets(self, path: str) -> None:
        """Virtualenvs, history, databases, the session key and caches are not sent."""
        assert ignored(path, dockerignore_patterns())

    @pytest.mark.parametrize(
        "path",
        [
            "pyproject.toml",
            "constraints.txt",
            "alembic.ini",
            "alembic/env.py",
            "app/main.py",
            "ballots/models.py",
            "crypto/tokens.py",
            "docker/entrypoint.sh",
        ],
    )
    def test_keeps_what_the_image_is_built_from(self, path: str) -> None:
        """Everything the Dockerfile copies is in the context."""
        assert not ignored(path, dockerignore_patterns())
