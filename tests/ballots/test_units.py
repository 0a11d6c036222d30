"""Units: CSV import, all or nothing, with line numbers."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ballots import units
from ballots.errors import InvalidInput
from ballots.vocabulary import SchoolLevel, UnitKind

HEADER = "code,kind,level,name,ward,electorate\n"


class TestImportUnits:
    """Importing the units file."""

    def test_sample_district_imports_with_diacritics(self, db: Session, sample_data: Path) -> None:
        """The Long Biên file gives 14 wards and 45 schools with names intact."""
        summary = units.import_units(
            db, (sample_data / "long_bien_units.csv").read_bytes(), actor="test"
        )
        assert summary.created == 59
        all_units = units.list_units(db)
        wards = [u for u in all_units if u.kind is UnitKind.WARD]
        assert len(wards) == 14
        assert {u.level for u in all_units if u.kind is UnitKind.SCHOOL} == set(SchoolLevel)
        by_code = units.units_by_code(db)
        assert by_code["PHUONG-BODE"].name == "Phường Bồ Đề"
        assert by_code["PHUONG-BODE"].usual_electorate == 94

    def test_bad_row_is_reported_with_its_line_and_nothing_is_imported(self, db: Session) -> None:
        """One bad kind on line 3 refuses the whole file."""
        data = (
            HEADER
            + "P-A,ward,,Phường A,Phường A,50\n"
            + "P-B,village,,Làng B,Phường A,50\n"
            + "S-C,school,primary,Trường C,Phường A,20\n"
        ).encode()
        with pytest.raises(InvalidInput) as caught:
            units.import_units(db, data, actor="test")
        problems = caught.value.details["errors"]
        assert [p["line"] for p in problems] == [3]
        assert problems[0]["column"] == "kind"
        assert units.list_units(db) == []

    def test_every_problem_is_listed(self, db: Session) -> None:
        """Several bad rows are all reported, each with its own line."""
        data = (
            HEADER
            + "P-A,ward,primary,Phường A,Phường A,50\n"
            + "S-B,school,,Trường B,Phường A,20\n"
            + "S-C,school,primary,,Phường A,abc\n"
            + "P-A,ward,,Phường A,Phường A,50\n"
        ).encode()
        with pytest.raises(InvalidInput) as caught:
            units.import_units(db, data, actor="test")
        lines = sorted({p["line"] for p in caught.value.details["errors"]})
        assert lines == [2, 3, 4, 5]

    def test_wrong_header_is_refused(self, db: Session) -> None:
        """A file with other columns is refused before any row is read."""
        with pytest.raises(InvalidInput, match="header"):
            units.import_units(db, b"ma,loai\nX,ward\n", actor="test")

    def test_non_utf8_file_is_refused_with_advice(self, db: Session) -> None:
        """A file saved in a legacy code page gets a clear message."""
        data = (HEADER + "P-A,ward,,Phường A,Phường A,50\n").encode("utf-16")
        with pytest.raises(InvalidInput, match="UTF-8"):
            units.import_units(db, data, actor="test")

    def test_decomposed_vietnamese_is_stored_composed(self, db: Session) -> None:
        """Names typed with combining marks compare equal to the usual form."""
        name = unicodedata.normalize("NFD", "Phường Đức Giang")
        units.import_units(db, (HEADER + f"P-DG,ward,,{name},{name},70\n").encode(), actor="test")
        assert units.units_by_code(db)["P-DG"].name == "Phường Đức Giang"

    def test_reimport_updates_existing_units(self, db: Session) -> None:
        """Importing a unit again updates it instead of duplicating it."""
        units.import_units(db, (HEADER + "P-A,ward,,Phường A,Phường A,50\n").encode(), actor="test")
        summary = units.import_units(
            db, (HEADER + "p-a,ward,,Phường Á,Phường Á,60\n").encode(), actor="test"
        )
        assert (summary.created, summary.updated) == (0, 1)
        unit = units.units_by_code(db)["P-A"]
        assert (unit.name, unit.usual_electorate) == ("Phường Á", 60)

    def test_byte_order_mark_from_spreadsheets_is_accepted(self, db: Session) -> None:
        """Excel's 'CSV UTF-8' adds a BOM; the header still matches."""
        data = ("\ufeff" + HEADER + "P-A,ward,,Phường A,Phường A,50\n").encode()
        assert units.import_units(db, data, actor="test").created == 1
