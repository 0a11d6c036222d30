"""The tally kept at the close: the same counts as counting the ballots by hand, both databases."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ballots import lifecycle, tally
from ballots.ballot_box import Ballot
from ballots.errors import SharesRefused
from ballots.rounds import Round
from tests.ballot_helpers import cast_varied, open_round_with_slips, open_sealed_round_with_slips

# Two wards (two heads each) and a school (one head); Cự Khối stays under k = 5, which the
# tally does not care about: the threshold is applied by the reports.
UNITS = {"PHUONG-BODE": 9, "PHUONG-CUKHOI": 3, "MN-BODE": 6}

Plain = dict[int, dict[int, dict[int, int]]]


def _plain(counts: tally.Counts) -> Plain:
    return {s: {p: dict(v) for p, v in per.items()} for s, per in counts.items()}


def _by_hand(db: Session, round_id: int, unit_id: int | None = None) -> Plain:
    """Counts straight from the ballots table, in Python: what the tally must equal."""
    query = select(Ballot.ratings).where(Ballot.round_id == round_id)
    if unit_id is not None:
        query = query.where(Ballot.unit_id == unit_id)
    seen: Counter[tuple[int, int, int]] = Counter()
    for ratings in db.scalars(query):
        for subject, values in ratings.items():
            for position, value in enumerate(values):
                seen[int(subject), position, value] += 1
    out: Plain = {}
    for (subject, position, value), n in seen.items():
        out.setdefault(subject, {}).setdefault(position, {})[value] = n
    return out


def _kept_rows(db: Session, round_id: int) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(tally.CriterionCount)
            .where(tally.CriterionCount.round_id == round_id)
        )
        or 0
    )


@pytest.fixture
def open_varied(db: Session, sample_data: Path) -> int:
    """An open round with varied ballots in three units."""
    round_id, slips = open_round_with_slips(db, sample_data, UNITS)
    cast_varied(db, slips)
    return round_id


class TestCountsKeptAtClose:
    """The close counts the ballots once; the tally reads those counts."""

    def test_counts_equal_a_count_of_the_ballots_by_hand(
        self, db: Session, open_varied: int
    ) -> None:
        """Whole round and each unit: the kept counts are the ballots' own, value by value."""
        lifecycle.close_round(db, open_varied, actor="test")
        expected = _by_hand(db, open_varied)
        assert sum(len(v) for per in expected.values() for v in per.values()) > 20  # varied
        assert _plain(tally.criterion_counts(db, open_varied)) == expected
        units = set(db.scalars(select(Ballot.unit_id).where(Ballot.round_id == open_varied)))
        assert len(units) == len(UNITS)
        for unit_id in units:
            one_unit = tally.criterion_counts(db, open_varied, unit_id=unit_id)
            assert _plain(one_unit) == _by_hand(db, open_varied, unit_id)

    def test_invariant_5_nothing_is_counted_while_the_round_is_open(
        self, db: Session, open_varied: int
    ) -> None:
        """Ballots are in, but no count exists anywhere until the close."""
        assert db.scalar(select(func.count()).select_from(Ballot)) == sum(UNITS.values())
        assert _kept_rows(db, open_varied) == 0
        assert tally.criterion_counts(db, open_varied) == {}

    def test_kept_rows_are_counts_of_whole_units(self, db: Session, open_varied: int) -> None:
        """Per unit, subject and criterion the counts add up to the unit's ballots.

        So no row stands for fewer ballots than its unit cast: nothing is kept per ballot.
        """
        lifecycle.close_round(db, open_varied, actor="test")
        per_criterion = db.execute(
            select(
                tally.CriterionCount.unit_id,
                tally.CriterionCount.subject_id,
                tally.CriterionCount.position,
                func.sum(tally.CriterionCount.ballots),
            )
            .where(tally.CriterionCount.round_id == open_varied)
            .group_by(
                tally.CriterionCount.unit_id,
                tally.CriterionCount.subject_id,
                tally.CriterionCount.position,
            )
        ).all()
        ballots = tally.ballots_per_unit(db, open_varied)
        assert per_criterion
        assert {int(n) == ballots[unit] for unit, _, _, n in per_criterion} == {True}

    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    def test_the_close_leaves_the_planner_settings_as_they_were(
        self, db: Session, open_varied: int
    ) -> None:
        """Index scans are off for the counting statement only, not the rest of the close."""
        lifecycle.close_round(db, open_varied, actor="test")
        assert db.scalar(text("SELECT current_setting('enable_indexscan')")) == "on"

    def test_a_deleted_round_takes_its_counts_with_it(self, db: Session, open_varied: int) -> None:
        """The counts go with their round (ON DELETE CASCADE), like its ballots."""
        lifecycle.close_round(db, open_varied, actor="test")
        assert _kept_rows(db, open_varied) > 0
        db.execute(delete(Round).where(Round.id == open_varied))
        assert _kept_rows(db, open_varied) == 0


class TestSealedRound:
    """A sealed round is counted from its opened boxes, and only once they open."""

    def test_counts_of_opened_boxes_equal_a_count_by_hand(
        self, db: Session, sample_data: Path
    ) -> None:
        """Two shares are refused and leave no count; three open the boxes, then counted."""
        round_id, slips, shares = open_sealed_round_with_slips(db, sample_data, {"MN-BODE": 6})
        cast_varied(db, slips, seed=7)
        with pytest.raises(SharesRefused):
            lifecycle.close_round(db, round_id, actor="test", shares=shares[:2])
        assert _kept_rows(db, round_id) == 0
        lifecycle.close_round(db, round_id, actor="test", shares=shares[1:4])
        expected = _by_hand(db, round_id)
        assert expected
        assert _plain(tally.criterion_counts(db, round_id)) == expected
