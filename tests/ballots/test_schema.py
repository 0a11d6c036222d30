"""The migrations build exactly the schema the models declare, and fill it, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from alembic import command
from app import migrations
from ballots import lifecycle, tally
from ballots.db import make_engine, make_session_factory, transaction
from ballots.models import metadata
from tests.ballot_helpers import cast_varied, open_round_with_slips

# The revision that added criterion_counts and filled it for rounds already closed.
COUNTS_REVISION = "d524124d817a"


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


class TestCountsOfRoundsClosedBefore:
    """The revision that keeps counts at close counts the rounds that closed before it."""

    def test_upgrade_counts_closed_rounds_as_the_close_does_and_open_ones_not(
        self, committed_database_url: str, sample_data: Path
    ) -> None:
        """Counts dropped with a downgrade come back from the ballots, row for row."""
        url = committed_database_url
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            closed, slips = open_round_with_slips(
                session, sample_data, {"PHUONG-BODE": 6, "MN-BODE": 5}
            )
            cast_varied(session, slips)
            lifecycle.close_round(session, closed, actor="test")
            still_open, slips = open_round_with_slips(session, sample_data, {"MN-BODE": 2})
            cast_varied(session, slips, seed=3)
        kept = _kept(engine)
        assert {r[0] for r in kept} == {closed}
        engine.dispose()

        command.downgrade(migrations.alembic_config(url), f"{COUNTS_REVISION}-1")
        assert "criterion_counts" not in inspect(engine).get_table_names()
        engine.dispose()
        migrations.upgrade(url)

        assert _kept(engine) == kept
        with factory() as session:
            assert tally.criterion_counts(session, still_open) == {}
            assert tally.ballots_per_unit(session, still_open)  # its ballots were there
        engine.dispose()


def _kept(engine: Engine) -> list[tuple[int, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT round_id, unit_id, subject_id, position, value, ballots "
                "FROM criterion_counts ORDER BY 1, 2, 3, 4, 5"
            )
        )
        return [tuple(int(v) for v in row) for row in rows]
