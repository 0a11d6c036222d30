"""The phieukin command line, run as a real process against a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PHIEUKIN = Path(sys.executable).parent / "phieukin"


def run(tmp: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``phieukin`` in ``tmp`` with a database there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIEUKIN_")}
    env["PHIEUKIN_DATABASE_URL"] = f"sqlite:///{tmp / 'cli.db'}"
    return subprocess.run(
        [str(PHIEUKIN), *args],
        cwd=tmp,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A folder where `phieukin demo` has run once."""
    tmp = tmp_path_factory.mktemp("cli")
    result = run(tmp, "demo")
    assert result.returncode == 0, result.stderr
    return tmp, result.stdout


class TestCli:
    """Commands an operator runs."""

    def test_demo_loads_the_sample_and_prints_logins(self, demo_dir: tuple[Path, str]) -> None:
        """A published 2023 round with one school below k, slips, an open round, logins."""
        tmp, out = demo_dir
        assert "14 wards and 15 schools taking part" in out
        assert "published" in out
        assert "Below the anonymity threshold on purpose: Trường" in out
        assert "(3 ballots, k = 5)" in out
        assert "printed into slips/round-2/" in out
        assert len(list((tmp / "slips" / "round-2").glob("*.pdf"))) == 29
        assert out.count("HTTP://127.0.0.1:8000/V#") == 3
        assert "admin          password: " in out
        assert "sees only own report" in out
        assert (tmp / "cli.db").exists()
        assert (tmp / "phieukin.secret_key").stat().st_mode & 0o077 == 0

    def test_demo_round_verifies(self, demo_dir: tuple[Path, str]) -> None:
        """The demo's lottery and audit chain verify from the command line."""
        tmp, _ = demo_dir
        assert run(tmp, "lottery", "verify", "--round", "2").returncode == 0
        audit = run(tmp, "audit", "verify")
        assert audit.returncode == 0, audit.stderr
        assert "Audit chain verifies" in audit.stdout

    def test_admin_create_reads_the_password_from_stdin(self, demo_dir: tuple[Path, str]) -> None:
        """The password never appears as an argument."""
        tmp, _ = demo_dir
        result = run(
            tmp,
            "admin",
            "create",
            "bantochuc",
            "--full-name",
            "Ban Tổ chức",
            stdin="mật khẩu rất dài\n",
        )
        assert result.returncode == 0, result.stderr
        assert "Created admin bantochuc" in result.stdout
        again = run(tmp, "admin", "create", "bantochuc", stdin="mật khẩu rất dài\n")
        assert again.returncode == 1
        assert "taken" in again.stderr

    def test_import_reports_the_bad_line(self, demo_dir: tuple[Path, str]) -> None:
        """A bad units file exits 1 and names the line."""
        tmp, _ = demo_dir
        bad = tmp / "bad.csv"
        bad.write_text("code,kind,level,name,ward\nX-1,ward,,Phường X,Phường X\nX-2,moon,,Y,Y\n")
        result = run(tmp, "import", "units", str(bad))
        assert result.returncode == 1
        assert "'line': 3" in result.stderr

    def test_demo_can_run_twice(self, demo_dir: tuple[Path, str]) -> None:
        """Running the demo again refreshes the passwords and keeps one round."""
        tmp, first = demo_dir
        second = run(tmp, "demo")
        assert second.returncode == 0, second.stderr
        assert "Demo round 2:" in second.stdout
        assert second.stdout != first

    def test_every_command_has_help(self, tmp_path: Path) -> None:
        """--help works on each command."""
        for args in (
            ["--help"],
            ["db", "upgrade", "--help"],
            ["admin", "create", "--help"],
            ["import", "units", "--help"],
            ["serve", "--help"],
            ["demo", "--help"],
            ["leaders", "create", "--help"],
            ["lottery", "verify", "--help"],
            ["tokens", "issue", "--help"],
        ):
            assert run(tmp_path, *args).returncode == 0, args
