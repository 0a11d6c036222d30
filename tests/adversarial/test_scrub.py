"""The scrub after a close cannot silently fail: checked, retried, reported everywhere.

A reader that holds the database during the close keeps the pre-close ballot ids in the
SQLite write-ahead log, and holds off PostgreSQL's VACUUM FULL. The scrub must then say it
did not finish (in its result, the HTTP answer, the CLI's exit code and the audit log),
and finish once the reader is gone, with nothing of the old rows left in the files.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from ballots import audit, lifecycle, scrub
from ballots.ballot_box import Ballot
from ballots.db import transaction
from tests.adversarial.conftest import PASSWORD, phieukin
from tests.conftest import make_settings


def _ballot_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [str(i) for (i,) in conn.execute(select(Ballot.id))]


def _files_hold(engine: Engine, ids: list[str]) -> bool:
    """Whether any of the ballot ids is still written anywhere in the SQLite files."""
    database = Path(str(engine.url.database))
    blobs = b"".join(p.read_bytes() for p in (database, Path(f"{database}-wal")) if p.exists())
    # SQLAlchemy's Uuid type stores 32 hex digits on SQLite.
    return any(i.replace("-", "").encode() in blobs for i in ids)


@contextmanager
def reader_holding(engine: Engine) -> Iterator[None]:
    """Another connection in the middle of a read transaction, as a slow report page is."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("COMMIT")  # leave the IMMEDIATE transaction begun on connect
            conn.exec_driver_sql("BEGIN DEFERRED")
        conn.execute(text("SELECT count(*) FROM ballots")).scalar()
        yield


def _actions(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return [e.action for e in audit.entries(session, after=0, limit=1000)]


class TestScrubCannotSilentlyFail:
    """A held scrub is reported, then redone to the end."""

    def test_a_reader_during_close_makes_the_scrub_fail_loudly_then_it_is_redone(
        self, voted: tuple[str, Engine, sessionmaker[Session], int]
    ) -> None:
        _, engine, factory, round_id = voted
        before = _ballot_ids(engine)
        with reader_holding(engine):
            with transaction(factory) as session:
                lifecycle.close_round(session, round_id, actor="t")
            held = scrub.scrub(engine, patience_s=2.5, pause_s=0.1)
            assert not held.done, held
            assert held.attempts >= 2  # it retried before giving up
            if engine.dialect.name == "sqlite":
                assert _files_hold(engine, before)  # what the failure is about
        done = scrub.scrub(engine, patience_s=10.0)
        assert done.done, done
        if engine.dialect.name == "sqlite":
            assert Path(f"{engine.url.database}-wal").stat().st_size == 0
            assert not _files_hold(engine, before)
        assert set(_ballot_ids(engine)).isdisjoint(before)

    def test_close_over_http_says_the_scrub_did_not_finish(
        self, voted: tuple[str, Engine, sessionmaker[Session], int]
    ) -> None:
        url, engine, factory, round_id = voted
        app = create_app(make_settings(url, scrub_patience_seconds=1.0))
        with TestClient(app) as client, reader_holding(engine):
            login = {"username": "admin", "password": PASSWORD}
            assert client.post("/api/v1/auth/login", json=login).status_code == 200
            reply = client.post(f"/api/v1/rounds/{round_id}/close")
            assert reply.status_code == 200, reply.text
            assert reply.json()["status"] == "closed"
            assert reply.json()["scrub"]["done"] is False
            assert reply.json()["scrub"]["detail"]
        app.state.engine.dispose()
        assert _actions(factory)[-2:] == ["round.closed", "round.scrub_failed"]

    def test_cli_reports_a_failed_scrub_and_round_scrub_redoes_it(
        self, voted: tuple[str, Engine, sessionmaker[Session], int]
    ) -> None:
        url, engine, factory, round_id = voted
        with reader_holding(engine):
            closed = phieukin(url, "round", "close", str(round_id), "--yes")
        assert closed.returncode == 1, closed.stdout + closed.stderr
        assert "NOT scrubbed" in closed.stderr
        assert f"phieukin round scrub {round_id}" in closed.stderr
        redone = phieukin(url, "round", "scrub", str(round_id))
        assert redone.returncode == 0, redone.stderr
        assert "Files scrubbed" in redone.stdout
        assert _actions(factory)[-3:] == ["round.closed", "round.scrub_failed", "round.scrubbed"]

    def test_scrub_of_a_round_still_open_is_refused(
        self, voted: tuple[str, Engine, sessionmaker[Session], int]
    ) -> None:
        url, _, factory, round_id = voted
        result = phieukin(url, "round", "scrub", str(round_id))
        assert result.returncode == 1
        assert "open" in result.stderr
        assert "round.scrubbed" not in _actions(factory)
