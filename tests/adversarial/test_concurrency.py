"""Races on the voting path with real commits: one slip, many phones; many slips at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from ballots import audit, ballot_box, casting, lifecycle
from ballots.db import make_engine, make_session_factory, transaction
from ballots.errors import CodeAlreadyUsed, VotingClosed
from tests.ballot_helpers import answers_for, open_round_with_slips


def _race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def factory(committed_database_url: str) -> sessionmaker[Session]:
    """Sessions on a database of the test's own, pooled as the server pools them.

    200 threads share at most 40 connections, as 200 phones share a worker's pool: the
    server's max_connections (100 by default) is never the limit being tested.
    """
    engine = make_engine(committed_database_url, pool_size=20, max_overflow=20, pool_timeout=60)
    return make_session_factory(engine)


def _counts(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with factory() as session:
        return (
            int(session.scalar(select(func.count()).select_from(ballot_box.Ballot)) or 0),
            int(session.scalar(select(func.count()).select_from(ballot_box.FreeTextAnswer)) or 0),
            int(session.scalar(select(func.count()).select_from(ballot_box.Receipt)) or 0),
        )


class TestRaces:
    """Concurrent casting."""

    def test_32_phones_casting_one_slip_store_exactly_one_ballot(
        self, factory: sessionmaker[Session], sample_data: Path
    ) -> None:
        """Same slip, different answers, at once: one ballot; the rest see its receipt or 'used'."""
        with transaction(factory) as session:
            _, slips = open_round_with_slips(session, sample_data, {"PHUONG-BODE": 1})
            form = casting.preview(session, slips["PHUONG-BODE"][0])
        token = slips["PHUONG-BODE"][0]

        def cast(i: int) -> casting.CastResult:
            with transaction(factory) as session:
                answers = answers_for(form, value=1 + i % 4, strengths=f"ý kiến {i}")
                return casting.cast(session, token, answers)

        results = _race(32, cast)
        receipts = {r.receipt for r in results if isinstance(r, casting.CastResult)}
        others = [r for r in results if not isinstance(r, casting.CastResult)]
        assert len(receipts) == 1
        assert all(isinstance(r, CodeAlreadyUsed) for r in others), others
        assert sum(1 for r in results if isinstance(r, casting.CastResult) and not r.repeated) == 1
        assert _counts(factory) == (1, 1, 1)

    def test_200_different_slips_cast_at_once_all_land(
        self, factory: sessionmaker[Session], sample_data: Path
    ) -> None:
        """Two hundred phones with their own slips: two hundred ballots and receipts."""
        with transaction(factory) as session:
            _, slips = open_round_with_slips(
                session, sample_data, {"PHUONG-SAIDONG": 100, "PHUONG-GIANGBIEN": 100}
            )
            forms = {code: casting.preview(session, tokens[0]) for code, tokens in slips.items()}
        work = [(t, forms[code]) for code, tokens in slips.items() for t in tokens]

        def cast(i: int) -> casting.CastResult:
            token, form = work[i]
            with transaction(factory) as session:
                return casting.cast(session, token, answers_for(form, value=1 + i % 4))

        results = _race(len(work), cast)
        failures = [r for r in results if not isinstance(r, casting.CastResult)]
        assert failures == []
        assert len({r.receipt for r in results}) == 200
        assert _counts(factory)[0] == 200
        assert _counts(factory)[2] == 200


class TestCloseAgainstCasts:
    """A close and casts racing: no ballot lands after the box is rewritten, none is lost."""

    def test_close_waits_for_a_cast_in_flight_and_rewrites_its_ballot(
        self, factory: sessionmaker[Session], sample_data: Path
    ) -> None:
        """The close blocks until the open cast commits, then includes its ballot."""
        with transaction(factory) as session:
            round_id, slips = open_round_with_slips(session, sample_data, {"PHUONG-BODE": 1})
        token = slips["PHUONG-BODE"][0]
        casting_session = factory()
        casting.cast(casting_session, token, answers_for(casting.preview(casting_session, token)))
        closed = threading.Event()

        def close() -> None:
            with transaction(factory) as session:
                lifecycle.close_round(session, round_id, actor="test")
            closed.set()

        closer = threading.Thread(target=close)
        closer.start()
        assert not closed.wait(1.0), "the close did not wait for the cast in flight"
        casting_session.commit()
        casting_session.close()
        closer.join(timeout=30)
        assert closed.is_set()
        assert _counts(factory) == (1, 0, 1)
        with factory() as session:
            entry = audit.entries(session)[-1]
            assert (entry.action, entry.payload["ballots"]) == ("round.closed", 1)
            if session.get_bind().dialect.name == "postgresql":
                xmins = session.execute(
                    text("SELECT (SELECT xmin::text FROM ballots), (SELECT xmin::text FROM tokens)")
                ).one()
                assert xmins[0] != xmins[1]

    def test_cast_arriving_during_a_close_is_refused(
        self, factory: sessionmaker[Session], sample_data: Path
    ) -> None:
        """A cast that starts while the close is uncommitted waits, then hears 'closed'."""
        with transaction(factory) as session:
            round_id, slips = open_round_with_slips(session, sample_data, {"PHUONG-BODE": 1})
            form = casting.preview(session, slips["PHUONG-BODE"][0])
        closing = factory()
        lifecycle.close_round(closing, round_id, actor="test")
        outcome: list[object] = []

        def cast() -> None:
            try:
                with transaction(factory) as session:
                    outcome.append(
                        casting.cast(session, slips["PHUONG-BODE"][0], answers_for(form))
                    )
            except Exception as exc:
                outcome.append(exc)

        caster = threading.Thread(target=cast)
        caster.start()
        caster.join(timeout=1.0)
        assert caster.is_alive(), "the cast did not wait for the close"
        closing.commit()
        closing.close()
        caster.join(timeout=30)
        assert len(outcome) == 1
        assert isinstance(outcome[0], VotingClosed)
        assert _counts(factory) == (0, 0, 0)
