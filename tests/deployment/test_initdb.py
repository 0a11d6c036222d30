"""docker/initdb: the app's PostgreSQL role, made as the postgres image makes it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from sqlalchemy.engine import make_url

from tests.deployment_helpers import (
    INITDB,
)

# --- docker/initdb: the app's role --------------------------------------------------------


class TestAppRole:
    """The init script, run against a real PostgreSQL server, as the postgres image runs it."""

    @pytest.mark.parametrize("backend", ["postgresql"])
    def test_init_script_makes_a_role_that_owns_the_schema_and_is_no_superuser(
        self, backend: str
    ) -> None:
        """The role can migrate and VACUUM FULL its tables, and has no superuser powers."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import DBAPIError

        from app import migrations
        from tests.conftest import _postgres_url

        server = make_url(_postgres_url())
        if shutil.which("psql") is None or shutil.which("sh") is None:
            pytest.skip("psql (PostgreSQL's client) is not installed")
        suffix = os.urandom(4).hex()
        database, role = f"phieukin_initdb_{suffix}", f"phieukin_app_{suffix}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        try:
            env = {
                **os.environ,
                "PGHOST": server.host or "127.0.0.1",
                "PGPORT": str(server.port or 5432),
                "PGPASSWORD": server.password or "",
                "POSTGRES_USER": server.username or "postgres",
                "POSTGRES_DB": database,
                "PHIEUKIN_DB_USER": role,
                "PHIEUKIN_DB_PASSWORD": "app0password0" + suffix,
            }
            done = subprocess.run(
                ["sh", str(INITDB / "10-app-role.sh")],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            with admin.connect() as conn:
                powers = conn.execute(
                    text(
                        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls "
                        "FROM pg_roles WHERE rolname = :r"
                    ),
                    {"r": role},
                ).one()
                owner = conn.execute(
                    text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :d"),
                    {"d": database},
                ).scalar_one()
            assert tuple(powers) == (False, False, False, False)
            assert owner == role
            url = server.set(
                database=database, username=role, password=env["PHIEUKIN_DB_PASSWORD"]
            ).render_as_string(hide_password=False)
            migrations.upgrade(url)
            as_app = create_engine(url, isolation_level="AUTOCOMMIT")
            with as_app.connect() as conn:
                owners = set(
                    conn.execute(
                        text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")
                    ).scalars()
                )
                conn.execute(text("VACUUM FULL ballots"))
                with pytest.raises(DBAPIError, match=r"permission denied|must be superuser"):
                    conn.execute(text("COPY (SELECT 1) TO PROGRAM 'true'"))
            as_app.dispose()
            assert owners == {role}
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            admin.dispose()
