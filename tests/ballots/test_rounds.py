"""Rounds: creation, units taking part, subjects and questionnaire."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ballots import participants, rounds, subjects, units
from ballots.errors import InvalidInput, InvalidState, NotFound
from ballots.questionnaire import default_questionnaire
from ballots.vocabulary import Role, RoundStatus


@pytest.fixture
def district(db: Session, sample_data: Path) -> Path:
    """The sample units are loaded."""
    units.import_units(db, (sample_data / "long_bien_units.csv").read_bytes(), actor="test")
    return sample_data


def _round(db: Session, **kw: object) -> rounds.Round:
    values: dict[str, object] = {
        "title": "Đợt 2023",
        "year": 2023,
        "anonymity_threshold": 5,
        "actor": "test",
    }
    values.update(kw)
    return rounds.create_round(db, **values)  # type: ignore[arg-type]


class TestCreateRound:
    """Creating a round."""

    def test_new_round_is_a_draft_with_the_default_questionnaire(self, db: Session) -> None:
        """A new round starts in draft with the district's questionnaire."""
        round_ = _round(db, plan_reference="Kế hoạch số 104-KH/QU")
        assert round_.status is RoundStatus.DRAFT
        assert rounds.get_questionnaire(db, round_.id) == default_questionnaire()
        assert rounds.get_round(db, round_.id).plan_reference == "Kế hoạch số 104-KH/QU"

    def test_threshold_below_three_is_refused(self, db: Session) -> None:
        """K below 3 would let a 'summary' be one person's answers."""
        with pytest.raises(InvalidInput, match="below 3"):
            _round(db, anonymity_threshold=2)

    def test_unknown_round_is_not_found(self, db: Session) -> None:
        """Asking for a round that does not exist says so."""
        with pytest.raises(NotFound):
            rounds.get_round(db, 987654)


class TestRoundUnits:
    """Choosing the units taking part."""

    def test_electorate_defaults_to_the_units_usual_one(self, db: Session, district: Path) -> None:
        """Units listed without a number take the electorate from the units file."""
        round_ = _round(db)
        chosen = participants.set_round_units(
            db, round_.id, [("PHUONG-BODE", None), ("MN-BODE", 30)], actor="test"
        )
        assert {(p.unit.code, p.electorate) for p in chosen} == {
            ("PHUONG-BODE", 94),
            ("MN-BODE", 30),
        }

    def test_setting_again_replaces_the_set(self, db: Session, district: Path) -> None:
        """The list given is the whole set: units left out are removed."""
        round_ = _round(db)
        participants.set_round_units(
            db, round_.id, [("PHUONG-BODE", None), ("PHUONG-CUKHOI", None)], actor="test"
        )
        chosen = participants.set_round_units(db, round_.id, [("PHUONG-CUKHOI", 100)], actor="test")
        assert [(p.unit.code, p.electorate) for p in chosen] == [("PHUONG-CUKHOI", 100)]

    def test_unknown_unit_is_refused(self, db: Session, district: Path) -> None:
        """A code that is not a known unit is named in the error."""
        with pytest.raises(InvalidInput, match="NOPE"):
            participants.set_round_units(db, _round(db).id, [("NOPE", 10)], actor="test")

    def test_units_are_frozen_once_the_round_is_not_a_draft(
        self, db: Session, district: Path
    ) -> None:
        """After opening, the set of units cannot change."""
        round_ = _round(db)
        round_.status = RoundStatus.OPEN
        with pytest.raises(InvalidState, match="open"):
            participants.set_round_units(db, round_.id, [("PHUONG-BODE", None)], actor="test")


class TestSubjects:
    """Importing who heads each unit."""

    def test_sample_subjects_import(self, db: Session, district: Path) -> None:
        """Every head in the sample file is recorded with role and name."""
        round_ = _round(db)
        data = (district / "long_bien_subjects.csv").read_bytes()
        created, _ = subjects.import_subjects(db, round_.id, data, actor="test")
        heads = subjects.list_subjects(db, round_.id)
        assert created == len(heads) == len(data.decode().strip().splitlines()) - 1
        bode = {s.role: s.person.full_name for s in heads if s.unit.code == "PHUONG-BODE"}
        assert bode == {
            Role.WARD_PARTY_SECRETARY: "Bùi Xuân Sơn",
            Role.WARD_CHAIRPERSON: "Vũ Minh Dũng",
        }

    def test_role_that_does_not_fit_the_unit_is_refused_with_line(
        self, db: Session, district: Path
    ) -> None:
        """A principal of a ward is an error on its line; nothing is stored."""
        round_ = _round(db)
        data = (
            "unit_code,role,full_name\n"
            "PHUONG-BODE,ward_chairperson,Vũ Minh Dũng\n"
            "PHUONG-BODE,school_principal,Nguyễn Văn A\n"
        ).encode()
        with pytest.raises(InvalidInput) as caught:
            subjects.import_subjects(db, round_.id, data, actor="test")
        assert [p["line"] for p in caught.value.details["errors"]] == [3]
        assert subjects.list_subjects(db, round_.id) == []

    def test_same_head_at_same_unit_is_one_person_across_rounds(
        self, db: Session, district: Path
    ) -> None:
        """A head keeps one person record from round to round, so trends can follow them."""
        data = "unit_code,role,full_name\nPHUONG-BODE,ward_chairperson,Vũ Minh Dũng\n".encode()
        first, second = _round(db, year=2023), _round(db, year=2024)
        subjects.import_subjects(db, first.id, data, actor="test")
        subjects.import_subjects(db, second.id, data, actor="test")
        (a,) = subjects.list_subjects(db, first.id)
        (b,) = subjects.list_subjects(db, second.id)
        assert a.person_id == b.person_id

    def test_same_name_at_another_unit_is_another_person(self, db: Session, district: Path) -> None:
        """Two cadres sharing a name are never merged, so neither sees the other's feedback."""
        round_ = _round(db)
        data = (
            "unit_code,role,full_name\n"
            "PHUONG-BODE,ward_chairperson,Nguyễn Văn An\n"
            "PHUONG-CUKHOI,ward_chairperson,Nguyễn Văn An\n"
        ).encode()
        subjects.import_subjects(db, round_.id, data, actor="test")
        people = {s.person_id for s in subjects.list_subjects(db, round_.id)}
        assert len(people) == 2


class TestQuestionnaire:
    """Reading and replacing the questionnaire."""

    def test_replace_while_draft(self, db: Session) -> None:
        """A draft round's questionnaire can be replaced by a valid one."""
        round_ = _round(db)
        data = default_questionnaire().model_dump(mode="json")
        data["criteria"] = data["criteria"][:2]
        assert len(rounds.replace_questionnaire(db, round_.id, data, actor="test").criteria) == 2
        assert len(rounds.get_questionnaire(db, round_.id).criteria) == 2

    def test_invalid_questionnaire_names_the_field(self, db: Session) -> None:
        """Duplicate criterion keys are refused with a message."""
        round_ = _round(db)
        data = default_questionnaire().model_dump(mode="json")
        data["criteria"].append(dict(data["criteria"][0]))
        with pytest.raises(InvalidInput) as caught:
            rounds.replace_questionnaire(db, round_.id, data, actor="test")
        assert "duplicate keys" in str(caught.value.details["errors"])

    def test_questionnaire_is_frozen_after_opening(self, db: Session) -> None:
        """Once a round opens, its questionnaire cannot change."""
        round_ = _round(db)
        round_.status = RoundStatus.OPEN
        with pytest.raises(InvalidState):
            rounds.replace_questionnaire(
                db, round_.id, default_questionnaire().model_dump(mode="json"), actor="test"
            )
