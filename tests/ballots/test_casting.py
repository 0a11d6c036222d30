"""Casting: preview without spending, validate, spend once, keep the receipt for retries."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ballots import ballot_box, casting, lifecycle, tokens
from ballots.errors import (
    BatchVoided,
    CodeAlreadyUsed,
    InvalidBallot,
    MistypedCode,
    UnknownCode,
    VotingClosed,
)
from crypto.tokens import format_token, new_token
from tests.ballot_helpers import answers_for, open_round_with_slips


@pytest.fixture
def ward(db: Session, sample_data: Path) -> tuple[int, list[str]]:
    """An open round where Phường Bồ Đề has 6 slips."""
    round_id, slips = open_round_with_slips(db, sample_data, {"PHUONG-BODE": 6})
    return round_id, slips["PHUONG-BODE"]


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


class TestPreview:
    """Showing the form."""

    def test_preview_shows_both_ward_heads_and_spends_nothing(
        self, db: Session, ward: tuple[int, list[str]]
    ) -> None:
        """A ward's form names the secretary then the chairperson; the slip stays unused."""
        _, slips = ward
        form = casting.preview(db, slips[0])
        assert form.unit_name == "Phường Bồ Đề"
        assert [s.full_name for s in form.subjects] == ["Bùi Xuân Sơn", "Vũ Minh Dũng"]
        assert (form.anonymity_threshold, form.comment_threshold) == (5, 5)
        row = tokens.redeemable(db, slips[0])
        assert row is not None
        assert row.used is False

    def test_typed_code_with_typos_of_form_is_accepted(
        self, db: Session, ward: tuple[int, list[str]]
    ) -> None:
        """Lower case, dashes and spaces as printed on the slip open the same form."""
        _, slips = ward
        typed = format_token(slips[0]).lower().replace("-", " ")
        assert casting.preview(db, typed).unit_name == "Phường Bồ Đề"

    def test_distinct_errors(self, db: Session, ward: tuple[int, list[str]]) -> None:
        """Mistyped, unknown and closed each have their own error."""
        round_id, slips = ward
        with pytest.raises(MistypedCode):
            casting.preview(db, slips[0][:-1] + ("0" if slips[0][-1] != "0" else "1"))
        with pytest.raises(UnknownCode):
            casting.preview(db, new_token())
        lifecycle.close_round(db, round_id, actor="test")
        with pytest.raises(VotingClosed):
            casting.preview(db, slips[0])


class TestCast:
    """Casting once."""

    def test_cast_stores_one_ballot_texts_apart_and_a_receipt(
        self, db: Session, ward: tuple[int, list[str]]
    ) -> None:
        """One ballot row, one row per non-empty text, one receipt; the slip is spent."""
        _, slips = ward
        form = casting.preview(db, slips[0])
        answers = answers_for(form, strengths="Sâu sát cơ sở", suggestions="Họp ngắn hơn")
        answers["texts"][str(form.subjects[0].id)]["shortcomings"] = "   "
        result = casting.cast(db, slips[0], answers)
        assert len(result.receipt) == 10
        assert not result.repeated
        assert (_count(db, ballot_box.Ballot), _count(db, ballot_box.FreeTextAnswer)) == (1, 2)
        assert db.scalar(select(ballot_box.Receipt.code)) == result.receipt
        ballot = db.scalar(select(ballot_box.Ballot))
        assert ballot is not None
        assert ballot.ratings == {str(s.id): [4] * 7 for s in form.subjects}

    def test_second_use_of_token_returns_the_same_receipt_not_a_second_ballot(
        self, db: Session, ward: tuple[int, list[str]]
    ) -> None:
        """A retry after a lost reply shows the receipt again and stores nothing more."""
        _, slips = ward
        answers = answers_for(casting.preview(db, slips[0]))
        first = casting.cast(db, slips[0], answers)
        different = answers_for(casting.preview(db, slips[1]), value=1)
        again = casting.cast(db, slips[0], different)
        assert (again.receipt, again.repeated) == (first.receipt, True)
        assert _count(db, ballot_box.Ballot) == 1
        with pytest.raises(CodeAlreadyUsed):
            casting.preview(db, slips[0])

    def test_no_opinion_is_stored_as_zero(self, db: Session, ward: tuple[int, list[str]]) -> None:
        """'Not enough information' is kept apart from the scale."""
        _, slips = ward
        answers = answers_for(casting.preview(db, slips[0]), value=0)
        casting.cast(db, slips[0], answers)
        ballot = db.scalar(select(ballot_box.Ballot))
        assert ballot is not None
        assert all(v == [0] * 7 for v in ballot.ratings.values())

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            (lambda a, s: a["ratings"][s].pop("ethics_lifestyle"), "ethics_lifestyle"),
            (lambda a, s: a["ratings"][s].update(ethics_lifestyle=5), "ethics_lifestyle"),
            (lambda a, s: a["ratings"][s].update(ethics_lifestyle=True), "ethics_lifestyle"),
            (lambda a, s: a["ratings"][s].update(bribery=1), "bribery"),
            (lambda a, _s: a["ratings"].update({"999999": {}}), "999999"),
            (lambda a, s: a["texts"].update({s: {"strengths": "x" * 2001}}), "strengths"),
            (lambda a, s: a["texts"].update({s: {"gossip": "x"}}), "gossip"),
            (lambda a, _s: a.update(name="Nguyễn Văn A"), "answers"),
        ],
    )
    def test_invalid_answers_name_the_field_and_spend_nothing(
        self, db: Session, ward: tuple[int, list[str]], change: object, field: str
    ) -> None:
        """Missing, out-of-scale, unknown and too-long answers are refused by field."""
        _, slips = ward
        form = casting.preview(db, slips[0])
        answers = answers_for(form)
        change(answers, str(form.subjects[0].id))  # type: ignore[operator]
        with pytest.raises(InvalidBallot) as caught:
            casting.cast(db, slips[0], answers)
        assert field in caught.value.details["field"]
        row = tokens.redeemable(db, slips[0])
        assert row is not None
        assert row.used is False
        assert _count(db, ballot_box.Ballot) == 0

    def test_text_is_normalised_and_control_characters_removed(
        self, db: Session, ward: tuple[int, list[str]]
    ) -> None:
        """Decomposed Vietnamese is stored composed; control characters are dropped."""
        import unicodedata

        _, slips = ward
        raw = unicodedata.normalize("NFD", "Gương mẫu") + "\x00\x1b[31m\u202e"
        casting.cast(db, slips[0], answers_for(casting.preview(db, slips[0]), strengths=raw))
        assert db.scalar(select(ballot_box.FreeTextAnswer.text)) == "Gương mẫu[31m"

    def test_voided_batch_refuses_its_unused_slips(
        self, db: Session, ward: tuple[int, list[str]]
    ) -> None:
        """After voiding, an unused slip says it was withdrawn."""
        round_id, slips = ward
        (batch, _), *_ = tokens.list_batches(db, round_id)
        tokens.void_batch(db, batch.id, actor="test", reason="mất phiếu")
        with pytest.raises(BatchVoided):
            casting.cast(db, slips[0], {"ratings": {}, "texts": {}})
