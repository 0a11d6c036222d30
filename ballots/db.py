"""Engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, Enum, MetaData, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# One naming convention, so that Alembic emits the same constraint names on SQLite and
# PostgreSQL and a later migration can drop a constraint by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the project's constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(cls: type[StrEnum], name: str) -> Enum:
    """A column type storing ``cls`` as its string values, checked, the same on both backends."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as UTC; SQLite returns naive datetimes for columns stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module's own transaction handling breaks SAVEPOINT and delays BEGIN;
    # turn it off and let SQLAlchemy emit BEGIN itself (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers (turnout pages) run beside the one writer; foreign keys are off by
    # default in SQLite; secure_delete overwrites deleted content so that a ballot row
    # removed at close does not linger in free pages of the file (invariant 7).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front (waiting up to busy_timeout), so a
    # transaction that reads and then writes, like casting, never fails half-way with
    # "database is locked" because another writer slipped in between.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(
    url: str, *, idle_ping_seconds: float = 5.0, prepared_statements: bool = True, **kwargs: Any
) -> Engine:
    """Create the process's engine for ``url`` with the settings each backend needs.

    ``prepared_statements=False`` stops psycopg from preparing statements on PostgreSQL
    (named prepared statements break behind PgBouncer < 1.21 in transaction mode).
    """
    # Statement parameters carry ballots, texts and token hashes: never in logs or in the
    # text of an exception, whatever the log level (invariant 4).
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if not prepared_statements:
        kwargs.setdefault("connect_args", {})["prepare_threshold"] = None
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine, idle_ping_seconds)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection before use when it sat unused for more than idle_seconds.

    A connection that a restart of PostgreSQL (or a network hiccup) broke while it sat in
    the pool is found here and replaced, as with pool_pre_ping. But pre_ping costs every
    request a round trip and a statement, about a tenth of a cast's CPU; a connection in use
    moments ago is alive, so only idle ones are tried.
    """

    def on_checkin(_dbapi: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    def on_checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("checked_in_at")
        if last is not None and time.monotonic() - last <= idle_seconds:
            return
        try:
            cursor = dbapi.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi.rollback()
        except Exception as exc:
            # The pool discards this connection and checks out a fresh one.
            raise DisconnectionError("the pooled connection was broken") from exc

    event.listen(engine, "checkin", on_checkin)
    event.listen(engine, "checkout", on_checkout)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (results are returned after it)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One use case, one transaction: commit when the block succeeds, roll back otherwise."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
