"""Races on the voting path with real commits: one slip, many phones; many slips at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ballots import ballot_box, casting
from ballots.db import make_engine, make_session_factory, transaction
from ballots.errors import CodeAlreadyUsed
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
        self, factory: sessionmaker[Session], shared_data: Path
    ) -> None:
        """Same slip, different answers, at once: one ballot; the rest see its receipt or 'used'."""
        with transaction(factory) as session:
            _, slips = open_round_with_slips(session, shared_data, {"PHUONG-BODE": 1})
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
        self, factory: sessionmaker[Session], shared_data: Path
    ) -> None:
        """Two hundred phones with their own slips: two hundred ballots and receipts."""
        with transaction(factory) as session:
            _, slips = open_round_with_slips(
                session, shared_data, {"PHUONG-SAIDONG": 100, "PHUONG-GIANGBIEN": 100}
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
