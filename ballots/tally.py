"""The tally (kết quả tổng hợp): counts per subject, criterion and value, kept from the close.

The close counts the round's ballots once, in SQL, in its own transaction, right after the
ballot box is opened and rewritten, and keeps the counts as rows of ``criterion_counts``. A
closed round's ballots never change, so the counts stay true; reading them is a small
indexed read instead of unpacking every ballot's JSON again (docs/PERFORMANCE.md: the
unpacking cost about 2 s a tally at 1,000,000 ballots). Before the close there is nothing
to read: results stay sealed (invariant 5), and only the full closed set is ever counted
(invariant 6). No ballot is ever loaded into Python. Nothing here applies the anonymity
threshold: ``ballots.reports`` does, and is the only caller that turns counts into
something shown.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ForeignKey, Select, SmallInteger, func, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ballots import ballot_box
from ballots.ballot_box import FreeTextAnswer
from ballots.db import Base
from ballots.tokens import token_summary


class CriterionCount(Base):
    """How many of a unit's ballots gave one value to one criterion of one subject.

    Written at the close and never after. Counts only: nothing per ballot, so nothing here
    can be put in casting order or tied to a ballot, its texts or its token.
    """

    __tablename__ = "criterion_counts"

    # The key leads with the round, then the unit: the whole round's tally and one unit's
    # (a subject's report) are both read through it.
    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    # From 0 in questionnaire order (a questionnaire has at most 50 criteria).
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    # A scale value (1-10), or 0 for "not enough information".
    value: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    ballots: Mapped[int]


# At the close: per (unit, subject, criterion position, value), how many ballots gave it.
# Position counts from 0 in questionnaire order; value 0 is "not enough information".
_COUNT_BALLOTS_SQL = {
    "sqlite": """
        SELECT b.unit_id AS unit_id, CAST(s.key AS INTEGER) AS subject_id,
               CAST(c.key AS INTEGER) AS position, c.value AS value, count(*) AS n
        FROM ballots AS b, json_each(b.ratings) AS s, json_each(s.value) AS c
        WHERE b.round_id = :round_id
        GROUP BY 1, 2, 3, 4
    """,
    # Keys first, then each subject's array by key: unpacking jsonb_each's values instead
    # made the planner put a Memoize in between that cost half the time on 1,000,000 ballots
    # (docs/PERFORMANCE.md). A plain SELECT, not INSERT ... SELECT: PostgreSQL 15 plans no
    # parallel workers for a statement that writes, and this one runs on both cores.
    "postgresql": """
        SELECT b.unit_id AS unit_id, s.key::int AS subject_id,
               (c.position - 1)::int AS position, c.value::int AS value, count(*) AS n
        FROM ballots AS b
        CROSS JOIN LATERAL jsonb_object_keys(b.ratings) AS s(key)
        CROSS JOIN LATERAL jsonb_array_elements_text(b.ratings -> s.key) WITH ORDINALITY
            AS c(value, position)
        WHERE b.round_id = :round_id
        GROUP BY 1, 2, 3, 4
    """,
}

Counts = dict[int, dict[int, dict[int, int]]]  # subject -> position -> value -> ballots


def count_ballots(session: Session, round_id: int) -> int:
    """At the close: count the round's opened ballots and keep the counts; returns the rows.

    Runs in the close's transaction after ``ballot_box.open_box`` has rewritten the box, so
    it counts exactly the ballots the close anchors in the audit log, sealed or not.
    """
    dialect = session.get_bind().dialect.name
    restore = None
    if dialect == "postgresql":
        # Right after the rewrite every ballot has a new copy in random physical order,
        # the old row still beside it: walking the (round, unit) index fetches a page per
        # row, three times slower than scanning the table at 1,000,000 ballots
        # (docs/PERFORMANCE.md). The planner, which guesses 100 rows per JSON function,
        # still picks the index there; plain index scans are off for this statement only.
        restore = session.scalar(text("SELECT current_setting('enable_indexscan')"))
        session.execute(text("SELECT set_config('enable_indexscan', 'off', true)"))
    rows = [
        {
            "round_id": round_id,
            "unit_id": int(unit_id),
            "subject_id": int(subject_id),
            "position": int(position),
            "value": int(value),
            "ballots": int(n),
        }
        for unit_id, subject_id, position, value, n in session.execute(
            text(_COUNT_BALLOTS_SQL[dialect]), {"round_id": round_id}
        )
    ]
    if restore is not None:
        session.execute(
            text("SELECT set_config('enable_indexscan', :value, true)"), {"value": restore}
        )
    if rows:
        session.execute(insert(CriterionCount), rows)
    return len(rows)


@dataclass(frozen=True)
class CriterionTally:
    """Counts of one criterion for one subject."""

    position: int
    counts: dict[int, int]  # scale value -> ballots
    no_opinion: int

    @property
    def rated(self) -> int:
        """Ballots that gave a rating (not 'no opinion')."""
        return sum(self.counts.values())

    @property
    def mean(self) -> float | None:
        """Mean over rated answers; None when nobody rated."""
        rated = self.rated
        return sum(v * n for v, n in self.counts.items()) / rated if rated else None


@dataclass(frozen=True)
class UnitTurnout:
    """Ballots beside live slips and electorate."""

    unit_id: int
    unit_code: str
    unit_name: str
    ballots: int
    live_tokens: int
    electorate: int


def counts_query(round_id: int, unit_id: int | None = None) -> Select[int, int, int, int]:
    """The query ``criterion_counts`` runs: (subject, position, value, ballots) rows."""
    query = (
        select(
            CriterionCount.subject_id,
            CriterionCount.position,
            CriterionCount.value,
            func.sum(CriterionCount.ballots),
        )
        .where(CriterionCount.round_id == round_id)
        .group_by(CriterionCount.subject_id, CriterionCount.position, CriterionCount.value)
        # One order on both databases, so that every dict below is built the same way.
        .order_by(CriterionCount.subject_id, CriterionCount.position, CriterionCount.value)
    )
    if unit_id is not None:
        query = query.where(CriterionCount.unit_id == unit_id)
    return query


def criterion_counts(session: Session, round_id: int, unit_id: int | None = None) -> Counts:
    """Counts per subject, criterion and value for the whole round, or one unit's subjects.

    Read from what the close kept: empty for a round that has not closed.
    """
    counts: Counts = defaultdict(lambda: defaultdict(dict))
    for subject_id, position, value, n in session.execute(counts_query(round_id, unit_id)):
        counts[int(subject_id)][int(position)][int(value)] = int(n)
    return counts


def criteria_of(counts: dict[int, dict[int, int]], positions: int) -> list[CriterionTally]:
    """One subject's counts as a list of criteria in questionnaire order."""
    out = []
    for position in range(positions):
        values = counts.get(position, {})
        out.append(
            CriterionTally(
                position=position,
                counts={v: n for v, n in values.items() if v != 0},
                no_opinion=values.get(0, 0),
            )
        )
    return out


def ballots_per_unit(session: Session, round_id: int) -> dict[int, int]:
    """Ballots per unit, sealed or not: every ballot of a unit rates each subject once."""
    return ballot_box.ballots_per_unit(session, round_id)


def turnout(session: Session, round_id: int) -> list[UnitTurnout]:
    """Per unit: ballots / live slips / electorate. Counts only: visible while voting runs."""
    ballots = ballots_per_unit(session, round_id)
    return [
        UnitTurnout(
            unit_id=t.unit.id,
            unit_code=t.unit.code,
            unit_name=t.unit.name,
            ballots=ballots.get(t.unit.id, 0),
            live_tokens=t.live,
            electorate=t.electorate,
        )
        for t in token_summary(session, round_id)
    ]


def comments(session: Session, round_id: int, subject_id: int) -> list[tuple[str, str]]:
    """A subject's free-text answers (question, text) in a fresh random order."""
    rows = [
        (q, t)
        for q, t in session.execute(
            select(FreeTextAnswer.question, FreeTextAnswer.text).where(
                FreeTextAnswer.round_id == round_id, FreeTextAnswer.subject_id == subject_id
            )
        )
    ]
    secrets.SystemRandom().shuffle(rows)
    return rows
