"""The migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from ballots.models import metadata


class TestMigrations:
    """`alembic upgrade head` on an empty database equals the models."""

    def test_upgrade_head_yields_exactly_the_models_schema(self, engine: Engine) -> None:
        """Autogenerate finds nothing to add, drop or alter after upgrading."""
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
        assert diff == []

    def test_every_model_table_exists(self, engine: Engine) -> None:
        """Each table the models declare is in the migrated database."""
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
        assert "alembic_version" in tables
