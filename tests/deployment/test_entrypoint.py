"""docker/entrypoint.sh, run against a stand-in ``phieukin`` that records its arguments."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.deployment_helpers import (
    DUMMY_ENV,
    ENTRYPOINT,
)

# --- docker/entrypoint.sh ----------------------------------------------------------------------

STAND_IN = """#!/bin/sh
printf '%s\\n' "$*" >> "$PHIEUKIN_CALLS"
if [ "$1" = db ] && [ -n "${FAIL_UPGRADE:-}" ]; then exit 3; fi
exit 0
"""


@dataclass(frozen=True)
class Run:
    """What one run of the entrypoint did."""

    returncode: int
    calls: list[str]
    stderr: str


@pytest.fixture
def entrypoint(tmp_path: Path) -> Any:
    """Runs docker/entrypoint.sh with a stand-in ``phieukin`` that records its arguments."""
    sh = shutil.which("sh")
    if os.name != "posix" or sh is None:
        pytest.skip("needs a POSIX sh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "phieukin").write_text(STAND_IN)
    (bin_dir / "phieukin").chmod(0o755)
    calls = tmp_path / "calls.log"

    def run(*args: str, **overrides: str | None) -> Run:
        env: dict[str, str | None] = {
            "PATH": f"{bin_dir}{os.pathsep}{os.defpath}",
            "PHIEUKIN_CALLS": str(calls),
            "PHIEUKIN_DATABASE_URL": "postgresql+psycopg://phieukin:pw@db:5432/phieukin",
            "PHIEUKIN_SECRET_KEY": DUMMY_ENV["PHIEUKIN_SECRET_KEY"],
            **overrides,
        }
        calls.write_text("")
        done = subprocess.run(
            [sh, str(ENTRYPOINT), *args],
            env={k: v for k, v in env.items() if v is not None},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return Run(done.returncode, calls.read_text().splitlines(), done.stderr)

    return run


SERVE = "serve --host 0.0.0.0 --port 8000 --workers 4"


class TestEntrypoint:
    """The container migrates the database, then serves; proxy headers only on request."""

    def test_migrates_then_serves_on_all_interfaces(self, entrypoint: Any) -> None:
        """`phieukin db upgrade` runs first, then `phieukin serve` with four workers."""
        run = entrypoint()
        assert run.returncode == 0, run.stderr
        assert run.calls == ["db upgrade", SERVE]

    @pytest.mark.parametrize(("setting", "trusted"), [(None, False), ("0", False), ("1", True)])
    def test_proxy_headers_only_when_opted_in(
        self, entrypoint: Any, setting: str | None, trusted: bool
    ) -> None:
        """--proxy-headers is passed only when PHIEUKIN_PROXY_HEADERS=1."""
        run = entrypoint(PHIEUKIN_PROXY_HEADERS=setting)
        assert run.returncode == 0, run.stderr
        assert ("--proxy-headers" in run.calls[-1].split()) is trusted

    def test_worker_count_comes_from_the_environment(self, entrypoint: Any) -> None:
        """PHIEUKIN_WORKERS sets the number of worker processes."""
        assert entrypoint(PHIEUKIN_WORKERS="2").calls[-1].endswith("--workers 2")

    def test_failed_migration_stops_the_start(self, entrypoint: Any) -> None:
        """When the upgrade fails, the server is not started on an old schema."""
        run = entrypoint(FAIL_UPGRADE="1")
        assert run.returncode != 0
        assert run.calls == ["db upgrade"]

    def test_refuses_postgresql_without_a_secret_key(self, entrypoint: Any) -> None:
        """A key generated inside the container would be lost with it, so none is made."""
        run = entrypoint(PHIEUKIN_SECRET_KEY=None)
        assert run.returncode != 0
        assert run.calls == []
        assert "PHIEUKIN_SECRET_KEY" in run.stderr

    def test_arguments_run_instead_of_the_server(self, entrypoint: Any) -> None:
        """`docker compose run app phieukin admin create lan` runs just that command."""
        run = entrypoint("phieukin", "admin", "create", "lan")
        assert run.returncode == 0, run.stderr
        assert run.calls == ["admin create lan"]
