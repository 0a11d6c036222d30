"""The engine's pool: a connection broken while idle is replaced before a request sees it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from ballots.db import make_engine


def _kill_pooled_connection(database_url: str, idle_ping_seconds: float) -> tuple[int, object]:
    """Use the pool's one connection, terminate its backend, then use the pool again."""
    engine = make_engine(
        database_url, pool_size=1, max_overflow=0, idle_ping_seconds=idle_ping_seconds
    )
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        with engine.connect() as conn:
            return first, conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    finally:
        engine.dispose()
        admin.dispose()


# Terminating a backend and psycopg's prepared statements exist on PostgreSQL only.
ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@ON_POSTGRESQL
class TestIdleConnections:
    """Pooled connections are tested only when they sat idle."""

    def test_a_connection_broken_while_idle_is_replaced(self, database_url: str) -> None:
        """Past the idle time, the broken connection is pinged, dropped and replaced."""
        first, second = _kill_pooled_connection(database_url, idle_ping_seconds=0)
        assert second != first

    def test_a_connection_used_moments_ago_is_not_pinged(self, database_url: str) -> None:
        """Within the idle time there is no ping: the broken connection fails the statement."""
        with pytest.raises(OperationalError):
            _kill_pooled_connection(database_url, idle_ping_seconds=3600)


@ON_POSTGRESQL
class TestPreparedStatements:
    """psycopg prepares repeated statements unless told not to (PgBouncer < 1.21)."""

    @pytest.mark.parametrize("prepared", [True, False])
    def test_repeated_statements_are_prepared_only_when_allowed(
        self, database_url: str, prepared: bool
    ) -> None:
        """After seven runs of one statement, the connection holds a prepared one, or none."""
        engine = make_engine(database_url, prepared_statements=prepared)
        try:
            with engine.connect() as conn:
                for _ in range(7):
                    conn.execute(text("SELECT 1 + :x"), {"x": 1})
                held = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
        finally:
            engine.dispose()
        assert (held or 0) > 0 if prepared else held == 0
