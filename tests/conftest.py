"""Fixtures: a migrated database per backend, a rolled-back transaction per test.

Every database test runs on SQLite, and again on PostgreSQL when
PHIEUKIN_TEST_DATABASE_URL names a server; there each test session makes a throwaway
database and drops it at the end, so no developer's data is ever touched.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app import migrations
from app.main import create_app
from app.settings import Settings
from ballots.db import make_engine
from ballots.scrub import ScrubResult

PG_ENV = "PHIEUKIN_TEST_DATABASE_URL"
# The project's own sample district, the one `phieukin demo` loads: the suite needs nothing
# beside the repository.
SAMPLE_DATA = Path(__file__).resolve().parents[1] / "app" / "demo_data"
TEST_SECRET = "test-secret-key-" + "x" * 32


@pytest.fixture(scope="session")
def sample_data() -> Path:
    """The sample district shipped in app/demo_data (units and subjects CSV)."""
    return SAMPLE_DATA


def pytest_unconfigure(config: pytest.Config) -> None:
    """End the run with one line that counts the skips by reason (after pytest's own)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    reasons: Counter[str] = Counter()
    for report in reporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if not reasons:
        reporter.write_line("skipped by reason: none")
        return
    counted = "; ".join(f"{n} x {reason}" for reason, n in reasons.most_common())
    reporter.write_line(f"skipped by reason: {counted}")


def _postgres_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL leg not run: set {PG_ENV} to run it")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A new, migrated database of ``backend``, dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.db'}"
        migrations.upgrade(url)
        yield url
        return
    server = make_url(_postgres_url())
    name = f"phieukin_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A freshly migrated database of each backend, for the whole test session."""
    with fresh_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def committed_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of its own for a test whose transactions really commit (races, close)."""
    with fresh_database(request.param, tmp_path_factory.mktemp("committed")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine of the test database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits are savepoints inside the test's outer transaction."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for calling services directly."""
    with session_factory() as session:
        yield session


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test app; never reads a key file."""
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "public_base_url": "http://testserver",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def app(database_url: str, session_factory: sessionmaker[Session]) -> FastAPI:
    """The real app, its requests running in the test's transaction."""
    application = create_app(make_settings(database_url))
    application.state.engine.dispose()
    application.state.session_factory = session_factory
    # Requests here share the test's uncommitted transaction, which a VACUUM FULL would wait
    # on forever; the scrub is tested directly on databases of their own.
    application.state.scrub_box = lambda: ScrubResult(
        True, "none", 0, "not run: the test's transaction stays open"
    )
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client for the app."""
    with TestClient(app) as test_client:
        yield test_client
