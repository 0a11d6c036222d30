"""The phieukin command line, run as a real process against a real SQLite file."""

from __future__ import annotations

import os
import shutil
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
    # A copy as the demo left it, for tests that need the open round before others close it.
    shutil.copytree(tmp, tmp.parent / f"{tmp.name}-pristine")
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
        assert out.count("http://127.0.0.1:8000/v#") == 10  # lower case, as a camera shows it
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
        """Running the demo again keeps one round and the same logins, with fresh slips."""
        tmp, first = demo_dir
        second = run(tmp, "demo")
        assert second.returncode == 0, second.stderr
        assert "Demo round 2:" in second.stdout
        logins = [line for line in first.splitlines() if "password: " in line]
        assert len(logins) == 3
        assert logins == [line for line in second.stdout.splitlines() if "password: " in line]
        slips = {line for line in first.splitlines() if "/v#" in line}
        assert slips.isdisjoint(line for line in second.stdout.splitlines() if "/v#" in line)
        assert "[1] Migrating the database..." in second.stderr

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
            ["round", "minutes", "--help"],
            ["admin", "disable", "--help"],
            ["admin", "reset-password", "--help"],
        ):
            assert run(tmp_path, *args).returncode == 0, args


class TestConfirmations:
    """Irreversible steps ask first; --yes skips the question (scripts have no terminal)."""

    def test_no_answer_or_no_leaves_the_round_open(self, demo_dir: tuple[Path, str]) -> None:
        """Without --yes, an empty or negative answer aborts and nothing changes."""
        tmp, _ = demo_dir
        for stdin in ("", "n\n"):
            result = run(tmp, "round", "close", "3", stdin=stdin)
            assert result.returncode == 1
            assert "cannot be undone" in result.stdout
            assert "Aborted" in result.stderr
        minutes = tmp / "open.pdf"
        assert run(tmp, "round", "minutes", "3", "--out", str(minutes)).returncode == 0
        assert "Đợt chưa đóng" in _pdf_text(minutes)

    def test_void_asks_first(self, demo_dir: tuple[Path, str]) -> None:
        """Voiding a batch needs a yes."""
        tmp, _ = demo_dir
        result = run(tmp, "tokens", "void", "--batch", "1", "--reason", "thử", stdin="n\n")
        assert result.returncode == 1
        assert "Batch 1 is void" not in result.stdout

    def test_disable_reset_and_enable_an_account(self, demo_dir: tuple[Path, str]) -> None:
        """Disable asks (answered yes), list shows it, enable and reset print what they did."""
        tmp, _ = demo_dir
        disabled = run(tmp, "admin", "disable", "giamsat", stdin="y\n")
        assert disabled.returncode == 0, disabled.stderr
        assert "logs it out everywhere" in disabled.stdout
        listed = run(tmp, "admin", "list").stdout
        assert any(
            line.split()[:3] == ["giamsat", "observer", "disabled"] for line in listed.splitlines()
        )
        refused = run(tmp, "admin", "reset-password", "giamsat", "--yes")
        assert refused.returncode == 1
        assert "enable it first" in refused.stderr
        assert run(tmp, "admin", "enable", "giamsat").returncode == 0
        reset = run(tmp, "admin", "reset-password", "giamsat", "--yes")
        assert reset.returncode == 0, reset.stderr
        assert "Setup code for giamsat: " in reset.stdout

    def test_minutes_and_close_with_yes(self, demo_dir: tuple[Path, str]) -> None:
        """`round minutes` writes a PDF with the close's head; --yes closes without asking."""
        tmp, _ = demo_dir
        shares = sorted((tmp / "slips" / "round-3" / "key-shares").glob("*.txt"))[:3]
        args = [a for f in shares for a in ("--share", str(f))]
        closed = run(tmp, "round", "close", "3", "--yes", *args)
        assert closed.returncode == 0, closed.stderr
        head = closed.stdout.split("audit head ")[1].strip()
        out = tmp / "minutes" / "round-3.pdf"
        result = run(tmp, "round", "minutes", "3", "--out", str(out))
        assert result.returncode == 0, result.stderr
        text = _pdf_text(out)
        assert "BIÊN BẢN" in text
        assert head in text
        assert run(tmp, "round", "minutes", "99", "--out", str(tmp / "x.pdf")).returncode == 1


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


class TestSealedRoundCli:
    """The demo's open round is sealed; the CLI closes it with share files."""

    def test_close_needs_three_share_files_and_shares_are_in_no_other_file(
        self, demo_dir: tuple[Path, str], tmp_path: Path
    ) -> None:
        """Two files: refused, 1 more needed. Three: closed. No share outside its files."""
        source, out = demo_dir
        assert "DEMO ONLY: the demo keeps the key shares itself" in out
        tmp = tmp_path / "copy"
        shutil.copytree(source.parent / f"{source.name}-pristine", tmp)
        share_dir = tmp / "slips" / "round-3" / "key-shares"
        files = sorted(share_dir.glob("*.txt"))
        assert len(files) == 5
        assert len(list(share_dir.glob("*.pdf"))) == 5
        args = [a for f in files[:2] for a in ("--share", str(f))]
        refused = run(tmp, "round", "close", "3", "--yes", *args)
        assert refused.returncode == 1
        assert "1 more needed" in refused.stderr
        args += ["--share", str(files[4])]
        closed = run(tmp, "round", "close", "3", "--yes", *args)
        assert closed.returncode == 0, closed.stderr
        assert "Round 3 is closed." in closed.stdout
        values = [f.read_text().split()[5:] for f in files]
        needles = {" ".join(v).encode() for v in values} | {"".join(v).encode() for v in values}
        for path in tmp.rglob("*"):
            if path.is_file() and path.parent != share_dir:
                data = path.read_bytes()
                assert not any(n in data for n in needles), path
        assert not any(n in (closed.stdout + refused.stderr).encode() for n in needles)
