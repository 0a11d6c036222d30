"""The school lottery of a round on the sample district: draw, proof, verify, redraw."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from ballots import audit, lifecycle, lottery, participants, rounds, tokens, units
from ballots.errors import InvalidInput, InvalidState
from ballots.lottery import LotteryDraw
from ballots.vocabulary import UnitKind
from crypto import lottery as draw_kit

PHRASE = "3 5 1 6 2 4 – XSMB 24/11/2026"
OTHER_PHRASE = "9 9 2 0 1 7 – XSMB 25/11/2026"
LEVELS = ("kindergarten", "primary", "lower_secondary")


@pytest.fixture
def district(db: Session, sample_data: Path) -> dict[str, units.Unit]:
    """The sample district's 14 wards and 45 schools, keyed by code."""
    units.import_units(db, (sample_data / "long_bien_units.csv").read_bytes(), actor="test")
    return {u.code: u for u in units.list_units(db)}


def _wards(district: dict[str, units.Unit]) -> set[str]:
    return {code for code, u in district.items() if u.kind is UnitKind.WARD}


def _round_with_wards(db: Session, district: dict[str, units.Unit]) -> int:
    round_ = rounds.create_round(
        db, title="Lấy ý kiến 2023", year=2023, anonymity_threshold=5, actor="test"
    )
    participants.set_round_units(
        db, round_.id, [(c, None) for c in sorted(_wards(district))], actor="t"
    )
    return round_.id


@pytest.fixture
def round_id(db: Session, district: dict[str, units.Unit]) -> int:
    """A draft round with the 14 wards taking part."""
    return _round_with_wards(db, district)


def _participants(db: Session, round_id: int) -> dict[str, int]:
    return {p.unit.code: p.electorate for p in participants.list_round_units(db, round_id)}


def _chosen_codes(draw: LotteryDraw) -> set[str]:
    return {code for level in draw.chosen.values() for code in level}


def _last_action(db: Session) -> audit.AuditEntry:
    head = audit.head(db)
    assert head is not None
    entry = db.get(audit.AuditEntry, head[0])
    assert entry is not None
    return entry


class TestDraw:
    """A first draw brings fifteen schools into the round."""

    def test_fifteen_schools_join_five_per_level_with_their_usual_electorate(
        self, db: Session, district: dict[str, units.Unit], round_id: int
    ) -> None:
        """Five schools per level join, each with its electorate from the units file."""
        draw = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="bto.lan")
        taking_part = _participants(db, round_id)
        schools = {c: e for c, e in taking_part.items() if c not in _wards(district)}
        assert set(schools) == _chosen_codes(draw)
        assert len(schools) == 15
        for level in LEVELS:
            assert len(draw.chosen[level]) == 5
            assert {district[c].level for c in draw.chosen[level]} == {level}
        assert schools == {c: district[c].usual_electorate for c in schools}
        assert _wards(district) <= set(taking_part)

    def test_the_draw_is_logged_with_its_inputs_and_result(
        self, db: Session, round_id: int
    ) -> None:
        """The audit entry carries the phrase, seed and chosen schools, by the drawing admin."""
        draw = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="bto.lan")
        entry = _last_action(db)
        assert (entry.action, entry.actor) == ("lottery.drawn", "bto.lan")
        assert entry.payload["phrase"] == PHRASE
        assert entry.payload["seed"] == draw.seed
        assert entry.payload["chosen"] == draw.chosen
        assert entry.payload["reason"] is None

    def test_a_fresh_draw_verifies(self, db: Session, round_id: int) -> None:
        """Re-running the stored inputs gives the stored seed and schools."""
        draw = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="bto.lan")
        result = lottery.verify_draw(db, round_id)
        assert result.matches
        assert result.recomputed_seed == result.stored_seed == draw.seed
        assert result.recomputed_chosen == result.stored_chosen == draw.chosen

    def test_the_proof_alone_reproduces_the_draw(self, db: Session, round_id: int) -> None:
        """The published proof has every input, and the reference algorithm re-derives it."""
        draw = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="bto.lan")
        published = lottery.proof(draw)
        assert {
            "pool",
            "pool_digest",
            "seed",
            "phrase",
            "counts",
            "chosen",
            "algorithm_version",
        } <= set(published)
        assert published["algorithm_version"] == draw_kit.ALGORITHM_VERSION
        assert published["counts"] == dict(draw_kit.DEFAULT_COUNTS)
        assert len(published["pool"]) == 45
        pool = [draw_kit.PoolSchool(s["code"], s["level"]) for s in published["pool"]]
        assert draw_kit.pool_digest(pool) == published["pool_digest"]
        seed = draw_kit.derive_seed(published["round_id"], published["pool_digest"], PHRASE)
        assert seed == published["seed"]
        again = draw_kit.draw(pool, published["counts"], seed)
        assert {k: list(v) for k, v in again.chosen.items()} == published["chosen"]

    def test_the_proof_read_back_is_the_proof_given_at_the_draw(
        self, db: Session, round_id: int
    ) -> None:
        """The published proof does not change once stored, drawn_at included, in UTC."""
        given = lottery.proof(lottery.draw_schools(db, round_id, phrase=PHRASE, actor="t"))
        assert given["drawn_at"].endswith("+00:00")
        db.expire_all()
        assert lottery.proof(lottery.get_draw(db, round_id)) == given

    def test_the_round_id_is_an_input_of_the_seed(
        self, db: Session, district: dict[str, units.Unit], round_id: int
    ) -> None:
        """The same phrase on another round, same pool, gives another seed."""
        first = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="bto.lan")
        other_round = _round_with_wards(db, district)
        second = lottery.draw_schools(db, other_round, phrase=PHRASE, actor="bto.lan")
        assert second.pool_digest == first.pool_digest
        assert second.seed != first.seed
        assert lottery.verify_draw(db, round_id).matches
        assert lottery.verify_draw(db, other_round).matches
        assert lottery.get_draw(db, round_id).id == first.id

    def test_a_custom_count_per_level_is_honoured(self, db: Session, round_id: int) -> None:
        """Counts given for the round decide how many schools each level sends."""
        counts = {"kindergarten": 2, "primary": 0, "lower_secondary": 3}
        draw = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="t", counts=counts)
        assert {k: len(v) for k, v in draw.chosen.items()} == counts
        assert len(_participants(db, round_id)) == 14 + 5


class TestTampering:
    """Editing a stored draw is caught by verify_draw."""

    @pytest.mark.parametrize("column", ["chosen", "phrase", "seed"])
    def test_an_edited_stored_draw_no_longer_matches(
        self, db: Session, district: dict[str, units.Unit], round_id: int, column: str
    ) -> None:
        """A raw UPDATE of the chosen list, phrase or seed makes matches false."""
        draw = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="bto.lan")
        original = {k: list(v) for k, v in draw.chosen.items()}
        original_seed = draw.seed
        spare = sorted(
            c
            for c, u in district.items()
            if u.level is not None
            and u.level.value == "kindergarten"
            and c not in original["kindergarten"]
        )[0]
        forged: dict[str, object] = {
            "chosen": {**original, "kindergarten": [spare, *original["kindergarten"][1:]]},
            "phrase": PHRASE.replace("3 5 1", "3 5 2"),
            "seed": "0" * 64,
        }
        db.execute(
            update(LotteryDraw).where(LotteryDraw.id == draw.id).values(**{column: forged[column]})
        )
        db.expire_all()
        result = lottery.verify_draw(db, round_id)
        assert not result.matches
        if column == "phrase":
            assert result.recomputed_seed != original_seed
        else:
            assert result.recomputed_seed == original_seed
            assert result.recomputed_chosen == original

    @pytest.mark.parametrize(
        "column",
        [
            "counts",
            "pool",
        ],
    )
    def test_a_draw_edited_into_an_impossible_one_is_reported_not_raised(
        self, db: Session, round_id: int, column: str
    ) -> None:
        """Counts beyond the pool, or a school entered twice, are a mismatch, not a crash."""
        draw = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="bto.lan")
        forged: dict[str, object] = {
            "counts": {**draw.counts, "kindergarten": 16},
            "pool": [*draw.pool, draw.pool[0]],
        }
        db.execute(
            update(LotteryDraw).where(LotteryDraw.id == draw.id).values(**{column: forged[column]})
        )
        db.expire_all()
        assert not lottery.verify_draw(db, round_id).matches


class TestRedraw:
    """A redraw needs a reason and is impossible once slips exist."""

    def test_a_redraw_without_a_reason_is_refused(self, db: Session, round_id: int) -> None:
        """No reason, no redraw: the first draw and its schools stay."""
        first = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="bto.lan")
        before = _participants(db, round_id)
        with pytest.raises(InvalidInput, match="reason") as caught:
            lottery.draw_schools(db, round_id, phrase=OTHER_PHRASE, actor="bto.lan", reason="  ")
        assert caught.value.details["field"] == "reason"
        assert lottery.get_draw(db, round_id).id == first.id
        assert _participants(db, round_id) == before

    def test_a_redraw_with_a_reason_replaces_the_drawn_schools(
        self, db: Session, district: dict[str, units.Unit], round_id: int
    ) -> None:
        """The old schools leave, the new ones join, the wards stay, and it is logged."""
        first = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="bto.lan")
        second = lottery.draw_schools(
            db, round_id, phrase=OTHER_PHRASE, actor="bto.lan", reason="Sai danh sách trường"
        )
        assert _chosen_codes(first) != _chosen_codes(second)
        taking_part = _participants(db, round_id)
        assert set(taking_part) == _wards(district) | _chosen_codes(second)
        assert not (_chosen_codes(first) - _chosen_codes(second)) & set(taking_part)
        assert all(taking_part[c] == district[c].usual_electorate for c in _chosen_codes(second))
        assert lottery.get_draw(db, round_id).id == second.id
        assert lottery.verify_draw(db, round_id).matches
        entry = _last_action(db)
        assert entry.action == "lottery.redrawn"
        assert entry.payload["reason"] == "Sai danh sách trường"
        assert entry.payload["draw_id"] == second.id

    def test_a_redraw_after_slips_were_issued_is_refused(self, db: Session, round_id: int) -> None:
        """Once a batch of slips exists the drawn schools are fixed, reason or not."""
        first = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="bto.lan")
        tokens.issue_slips(db, round_id, "PHUONG-BODE", 2, base_url="http://testserver", actor="t")
        before = _participants(db, round_id)
        with pytest.raises(InvalidState, match="Slips were already issued"):
            lottery.draw_schools(
                db, round_id, phrase=OTHER_PHRASE, actor="bto.lan", reason="Sai danh sách"
            )
        assert lottery.get_draw(db, round_id).id == first.id
        assert _participants(db, round_id) == before


class TestExclusions:
    """Schools left out of the pool."""

    def test_excluded_schools_never_appear(
        self, db: Session, district: dict[str, units.Unit], round_id: int
    ) -> None:
        """With ten kindergartens excluded (any case), the other five are the ones drawn."""
        kindergartens = sorted(
            c for c, u in district.items() if u.level is not None and u.level.value == LEVELS[0]
        )
        excluded = kindergartens[:10]
        given = [f" {c.lower()} " for c in excluded]
        draw = lottery.draw_schools(db, round_id, phrase=PHRASE, actor="t", excluded=given)
        assert set(draw.chosen["kindergarten"]) == set(kindergartens[10:])
        assert not set(excluded) & _chosen_codes(draw)
        assert not set(excluded) & {code for code, _ in draw.pool}
        assert not set(excluded) & set(_participants(db, round_id))
        assert draw.excluded == excluded

    def test_excluding_too_many_of_a_level_is_refused(
        self, db: Session, district: dict[str, units.Unit], round_id: int
    ) -> None:
        """Fewer schools left than wanted in a level is an input error, and nothing joins."""
        kindergartens = [
            c for c, u in district.items() if u.level is not None and u.level.value == LEVELS[0]
        ]
        with pytest.raises(InvalidInput, match="kindergarten"):
            lottery.draw_schools(
                db, round_id, phrase=PHRASE, actor="t", excluded=kindergartens[:11]
            )
        assert lottery.current_draw(db, round_id) is None
        assert set(_participants(db, round_id)) == _wards(district)


class TestFrozenRound:
    """The lottery belongs to the draft."""

    def test_the_draw_is_refused_once_the_round_is_open(self, db: Session, round_id: int) -> None:
        """An open round's schools cannot be drawn; the error names the state."""
        tokens.issue_slips(db, round_id, "PHUONG-BODE", 2, base_url="http://testserver", actor="t")
        lifecycle.open_round(db, round_id, actor="t", key_holders=None)
        with pytest.raises(InvalidState, match="open") as caught:
            lottery.draw_schools(db, round_id, phrase=PHRASE, actor="t")
        assert caught.value.details["status"] == "open"
        assert lottery.current_draw(db, round_id) is None
