"""The tally (kết quả tổng hợp), computed by the database with GROUP BY.

Ratings are unpacked and counted in SQL; no ballot is ever loaded into Python. Nothing here
applies the anonymity threshold: ``ballots.reports`` does, and is the only caller that
turns counts into something shown.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ballots import ballot_box
from ballots.ballot_box import FreeTextAnswer
from ballots.tokens import token_summary

# Per (subject, criterion position, value): how many ballots gave it. Position counts from 0
# in questionnaire order; value 0 is "not enough information".
_COUNTS_SQL = {
    "sqlite": """
        SELECT CAST(s.key AS INTEGER) AS subject_id, CAST(c.key AS INTEGER) AS position,
               c.value AS value, count(*) AS n
        FROM ballots AS b, json_each(b.ratings) AS s, json_each(s.value) AS c
        WHERE b.round_id = :round_id {unit_filter}
        GROUP BY 1, 2, 3
    """,
    # Keys first, then each subject's array by key: unpacking jsonb_each's values instead
    # made the planner put a Memoize in between that cost half the time on 1,000,000 ballots
    # (docs/PERFORMANCE.md). The aggregate stays parallel.
    "postgresql": """
        SELECT s.key::int AS subject_id, (c.position - 1)::int AS position,
               c.value::int AS value, count(*) AS n
        FROM ballots AS b
        CROSS JOIN LATERAL jsonb_object_keys(b.ratings) AS s(key)
        CROSS JOIN LATERAL jsonb_array_elements_text(b.ratings -> s.key) WITH ORDINALITY
            AS c(value, position)
        WHERE b.round_id = :round_id {unit_filter}
        GROUP BY 1, 2, 3
    """,
}

Counts = dict[int, dict[int, dict[int, int]]]  # subject -> position -> value -> ballots


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


def criterion_counts(session: Session, round_id: int, unit_id: int | None = None) -> Counts:
    """Counts per subject, criterion and value for the whole round, or one unit's subjects."""
    dialect = session.get_bind().dialect.name
    sql = _COUNTS_SQL[dialect].format(unit_filter="AND b.unit_id = :unit_id" if unit_id else "")
    params: dict[str, int] = {"round_id": round_id}
    if unit_id:
        params["unit_id"] = unit_id
    if unit_id and dialect == "postgresql":
        # One unit's few thousand ballots: compiling the query (JIT) costs more than running
        # it. Local to this transaction.
        session.execute(text("SET LOCAL jit = off"))
    counts: Counts = defaultdict(lambda: defaultdict(dict))
    for subject_id, position, value, n in session.execute(text(sql), params):
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
