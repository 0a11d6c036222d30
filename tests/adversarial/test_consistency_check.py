"""`phieukin check`: ballots = spent slips = receipts, the audit chain, the close's anchor;
and a pg_dump restored into a fresh database passes it (scripts/restore_and_check.sh).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ballots import ballot_box, consistency, lifecycle
from ballots.audit import AuditEntry
from ballots.db import transaction
from ballots.participants import RoundUnit
from tests.adversarial.conftest import phieukin

Voted = tuple[str, Engine, sessionmaker[Session], int]
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "restore_and_check.sh"


def _check(factory: sessionmaker[Session], round_id: int) -> consistency.CheckReport:
    with factory() as session:
        return consistency.check_round(session, round_id)


def _failed(report: consistency.CheckReport) -> list[str]:
    return [f.name for f in report.findings if not f.ok]


def _close(factory: sessionmaker[Session], round_id: int) -> None:
    with transaction(factory) as session:
        lifecycle.close_round(session, round_id, actor="t")


class TestConsistencyCheck:
    """The check passes on an honest round and names what was tampered with."""

    def test_open_then_closed_round_is_consistent(self, voted: Voted) -> None:
        _, _, factory, round_id = voted
        report = _check(factory, round_id)
        assert report.ok, report.findings
        _close(factory, round_id)
        report = _check(factory, round_id)
        assert report.ok, report.findings
        assert "close anchor: receipts" in [f.name for f in report.findings]

    def test_a_lost_receipt_is_found(self, voted: Voted) -> None:
        _, _, factory, round_id = voted
        with transaction(factory) as session:
            code = ballot_box.receipts(session, round_id)[0]
            session.execute(delete(ballot_box.Receipt).where(ballot_box.Receipt.code == code))
        assert _failed(_check(factory, round_id)) == ["receipts"]

    def test_a_ballot_added_after_the_close_breaks_the_anchor(self, voted: Voted) -> None:
        _, _, factory, round_id = voted
        _close(factory, round_id)
        with transaction(factory) as session:
            unit_id = session.scalar(
                select(RoundUnit.unit_id).where(RoundUnit.round_id == round_id)
            )
            assert unit_id is not None
            ballot_box.put(
                session,
                round_id=round_id,
                unit_id=unit_id,
                ratings={},
                texts=[],
                receipt="Z" * 16,
                sealed_to=None,
            )
        failed = _failed(_check(factory, round_id))
        assert "close anchor: ballots" in failed
        assert "close anchor: receipts" in failed
        assert any(name.startswith("unit ") for name in failed)

    def test_an_edited_audit_entry_breaks_the_chain(self, voted: Voted) -> None:
        _, _, factory, round_id = voted
        with transaction(factory) as session:
            session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(actor="khác"))
        assert _failed(_check(factory, round_id)) == ["audit chain"]

    def test_cli_exit_status_says_whether_consistent(self, voted: Voted) -> None:
        url, _, factory, round_id = voted
        good = phieukin(url, "check", "--round", str(round_id))
        assert good.returncode == 0, good.stdout + good.stderr
        assert "consistent" in good.stdout
        with transaction(factory) as session:
            session.execute(delete(ballot_box.Receipt))
        bad = phieukin(url, "check", "--round", str(round_id))
        assert bad.returncode == 1
        assert "NOT consistent" in bad.stdout
        assert phieukin(url, "check", "--round", "999").returncode == 1


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
@pytest.mark.parametrize("committed_database_url", ["postgresql"], indirect=True)
class TestRestoredBackup:
    """A pg_dump restored into a fresh database is checked by the restore script."""

    def test_dump_restores_and_checks(
        self, voted: Voted, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        url, _engine, factory, round_id = voted
        _close(factory, round_id)
        server = make_url(url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHIEUKIN_")}
        env |= {
            "PGHOST": server.host or "127.0.0.1",
            "PGPORT": str(server.port or 5432),
            "PGUSER": server.username or "postgres",
            "PHIEUKIN": str(Path(sys.executable).parent / "phieukin"),
        }

        def dump_and_check() -> subprocess.CompletedProcess[str]:
            dump = tmp_path / "backup.dump"
            subprocess.run(
                ["pg_dump", "-Fc", "-f", str(dump), "-d", str(server.database)],
                env=env,
                check=True,
                timeout=120,
            )
            return subprocess.run(
                ["bash", str(SCRIPT), str(dump), "--round", str(round_id)],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )

        restored = dump_and_check()
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert f"Round {round_id}: consistent" in restored.stdout
        with transaction(factory) as session:
            session.execute(
                delete(ballot_box.Receipt).where(ballot_box.Receipt.round_id == round_id)
            )
        tampered = dump_and_check()
        assert tampered.returncode == 1, tampered.stdout + tampered.stderr
        assert "NOT consistent" in tampered.stdout
