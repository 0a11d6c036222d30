"""Invariant 7: after close, nothing stored still carries casting order or links rows.

500 ballots are cast in a known order, each carrying its number in its ratings and in a
comment. After the close, the order of a plain SELECT and the physical order (SQLite rowid,
PostgreSQL ctid) must not correlate with casting order; no PostgreSQL system column may tie
a ballot to its texts or to its spent token; and no deleted copy may remain in the file.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ballots import casting, lifecycle, participants, rounds, scrub, subjects, tokens, units
from ballots.db import make_engine, make_session_factory, transaction

N = 500
# |rho| of a random permutation of 500 has a standard deviation of about 0.045; 0.2 is
# more than four of them, and the same measure before the close shows rho near 1.
RHO_BOUND = 0.2


def _digits(i: int) -> list[int]:
    """Ballot number i written in base 4 over five criteria (values 1-4)."""
    return [(i // 4**p) % 4 + 1 for p in range(5)]


def _number(values: list[int]) -> int:
    return sum((v - 1) * 4**p for p, v in enumerate(values[:5]))


def _comment(i: int) -> str:
    return f"bình luận thứ {i:04d} về đồng chí"


def _rho(order: list[int]) -> float:
    return statistics.correlation(list(range(len(order))), order)


@pytest.fixture
def cast_in_order(
    committed_database_url: str, sample_data: Path
) -> tuple[Engine, sessionmaker[Session], int]:
    """An open round in which ballots 0..499 were cast one after the other."""
    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        units.import_units(session, (sample_data / "long_bien_units.csv").read_bytes(), actor="t")
        round_id = rounds.create_round(
            session, title="Đợt thử", year=2023, anonymity_threshold=5, actor="t"
        ).id
        subjects.import_subjects(
            session, round_id, (sample_data / "long_bien_subjects.csv").read_bytes(), actor="t"
        )
        participants.set_round_units(session, round_id, [("PHUONG-SAIDONG", N)], actor="t")
        plain = tokens.issue_tokens(session, round_id, "PHUONG-SAIDONG", N, actor="t").tokens
        lifecycle.open_round(session, round_id, actor="t", key_holders=None)
        form = casting.preview(session, plain[0])
    keys = [c.key for c in form.questionnaire.criteria]
    first, second = (str(s.id) for s in form.subjects)
    for i, token in enumerate(plain):
        values = [*_digits(i), 4, 4]
        answers = {
            "ratings": {
                first: dict(zip(keys, values, strict=True)),
                second: dict.fromkeys(keys, 3),
            },
            "texts": {first: {"strengths": _comment(i)}},
        }
        with transaction(factory) as session:  # one transaction per ballot, as in real life
            casting.cast(session, token, answers)
    return engine, factory, round_id


def _ballot_order(engine: Engine, order_by: str | None) -> list[int]:
    """Ballot numbers in the order the database returns them (None: no ORDER BY)."""
    query = "SELECT ratings FROM ballots" + (f" ORDER BY {order_by}" if order_by else "")
    with engine.connect() as conn:
        rows = [r if isinstance(r, dict) else json.loads(r) for (r,) in conn.execute(text(query))]
    # The first head's ratings end in 4, 4 and carry the number; the second's are all 3.
    return [next(_number(v) for v in r.values() if v[5:] == [4, 4]) for r in rows]


def _text_order(engine: Engine, order_by: str | None) -> list[int]:
    """Comment numbers in the order the database returns them (None: no ORDER BY)."""
    query = "SELECT text FROM free_text_answers" + (f" ORDER BY {order_by}" if order_by else "")
    with engine.connect() as conn:
        return [int(t.split()[3]) for (t,) in conn.execute(text(query))]


def _physical(engine: Engine) -> str:
    return "rowid" if engine.dialect.name == "sqlite" else "ctid"


def _close(factory: sessionmaker[Session], engine: Engine, round_id: int) -> None:
    with transaction(factory) as session:
        lifecycle.close_round(session, round_id, actor="t")
    assert scrub.scrub(engine).done


class TestInvariant7CloseRewritesTheBox:
    """The close copies ballots and texts into fresh rows in random order."""

    def test_invariant_7_casting_order_is_visible_before_close(
        self, cast_in_order: tuple[Engine, sessionmaker[Session], int]
    ) -> None:
        """The measurement works: before the close, physical order is casting order."""
        engine, _, _ = cast_in_order
        assert _rho(_ballot_order(engine, _physical(engine))) > 0.9
        assert _rho(_text_order(engine, _physical(engine))) > 0.9

    def test_invariant_7_after_close_no_order_reflects_casting(
        self, cast_in_order: tuple[Engine, sessionmaker[Session], int]
    ) -> None:
        """Plain SELECT order and physical order of ballots and texts are uncorrelated."""
        engine, factory, round_id = cast_in_order
        _close(factory, engine, round_id)
        for order_by in (None, _physical(engine)):
            ballots = _ballot_order(engine, order_by)
            assert sorted(ballots) == list(range(N))
            assert abs(_rho(ballots)) < RHO_BOUND, order_by
            texts = _text_order(engine, order_by)
            assert sorted(texts) == list(range(N))
            assert abs(_rho(texts)) < RHO_BOUND, order_by

    @pytest.mark.parametrize("committed_database_url", ["postgresql"], indirect=True)
    def test_invariant_7_no_system_column_links_a_ballot_to_its_texts_or_token(
        self, cast_in_order: tuple[Engine, sessionmaker[Session], int]
    ) -> None:
        """On PostgreSQL every ballot and text row carries the close's xmin, no token's."""
        engine, factory, round_id = cast_in_order
        with engine.connect() as conn:
            before = {r[0] for r in conn.execute(text("SELECT xmin::text FROM ballots"))} & {
                r[0] for r in conn.execute(text("SELECT xmin::text FROM tokens"))
            }
        assert len(before) == N  # the measurement works: each cast shared its xmin
        _close(factory, engine, round_id)
        with engine.connect() as conn:
            ballot_x = {r[0] for r in conn.execute(text("SELECT xmin::text FROM ballots"))}
            text_x = {r[0] for r in conn.execute(text("SELECT xmin::text FROM free_text_answers"))}
            token_x = {r[0] for r in conn.execute(text("SELECT xmin::text FROM tokens"))}
        assert len(ballot_x | text_x) == 1
        assert not (ballot_x & token_x)

    @pytest.mark.parametrize("committed_database_url", ["sqlite"], indirect=True)
    def test_invariant_7_no_deleted_copy_stays_in_the_sqlite_file(
        self, cast_in_order: tuple[Engine, sessionmaker[Session], int], committed_database_url: str
    ) -> None:
        """Each comment is in the file exactly once after close: the old rows are gone."""
        engine, factory, round_id = cast_in_order
        _close(factory, engine, round_id)
        engine.dispose()
        path = Path(committed_database_url.removeprefix("sqlite:///"))
        data = path.read_bytes()
        wal = path.with_name(path.name + "-wal")
        data += wal.read_bytes() if wal.exists() else b""
        counts = {data.count(_comment(i).encode()) for i in range(N)}
        assert counts == {1}
