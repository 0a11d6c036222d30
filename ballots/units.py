"""Units (đơn vị) and the people who head them; units and people outlive rounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Enum, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ballots import audit
from ballots._csv import RowErrors, read_rows
from ballots.db import Base, utcnow
from ballots.vocabulary import SchoolLevel, UnitKind

UNIT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,39}$")
MAX_ELECTORATE = 100_000


def _enum(cls: type[UnitKind] | type[SchoolLevel], name: str) -> Enum:
    # Stored as VARCHAR + CHECK rather than a native PostgreSQL ENUM: same schema on both
    # backends, and adding a value later is a plain migration.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class Unit(Base):
    """A ward or a school; ``usual_electorate`` is the last head count given for it."""

    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'school' AND level IS NOT NULL) OR (kind = 'ward' AND level IS NULL)",
            name="level_only_for_schools",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[UnitKind] = mapped_column(_enum(UnitKind, "unit_kind"))
    level: Mapped[SchoolLevel | None] = mapped_column(_enum(SchoolLevel, "school_level"))
    name: Mapped[str] = mapped_column(String(200))
    ward: Mapped[str] = mapped_column(String(200))
    usual_electorate: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Person(Base):
    """One real person, so that the same head can be followed across rounds."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # An optional stable reference (a staff number) given in the subjects file; when absent,
    # people are matched by name at the same unit only, never by name alone, because two
    # cadres may share a name and must never see each other's feedback.
    reference: Mapped[str | None] = mapped_column(String(64), unique=True)


@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    created: int
    updated: int


def list_units(session: Session) -> list[Unit]:
    """All units, wards first, then schools by level and code."""
    return list(session.scalars(select(Unit).order_by(Unit.kind.desc(), Unit.level, Unit.code)))


def units_by_code(session: Session, codes: set[str] | None = None) -> dict[str, Unit]:
    """Units keyed by code, optionally only those in ``codes``."""
    query = select(Unit)
    if codes is not None:
        query = query.where(Unit.code.in_(codes))
    return {u.code: u for u in session.scalars(query)}


UNIT_COLUMNS = ("code", "kind", "level", "name", "ward")


def import_units(session: Session, data: bytes, *, actor: str) -> ImportSummary:
    """Create or update units from CSV (code,kind,level,name,ward[,electorate]); all or nothing."""
    errors = RowErrors()
    parsed: dict[str, dict[str, object]] = {}
    for line, row in read_rows(
        data, required=UNIT_COLUMNS, optional=("electorate",), what="Units file"
    ):
        code = row["code"].upper()
        if not UNIT_CODE.match(code):
            errors.problem(
                line, "code {code!r}: use letters A-Z, digits and '-'", "code", code=row["code"]
            )
        elif code in parsed:
            errors.problem(line, "code {code} appears twice in the file", "code", code=code)
        kind = row["kind"].lower()
        if kind not in {k.value for k in UnitKind}:
            errors.problem(line, "kind {kind!r}: must be ward or school", "kind", kind=row["kind"])
        level: str | None = row["level"].lower() or None
        if kind == UnitKind.SCHOOL and level not in {lv.value for lv in SchoolLevel}:
            errors.problem(
                line, "a school needs level kindergarten, primary or lower_secondary", "level"
            )
        if kind == UnitKind.WARD and level is not None:
            errors.problem(line, "a ward has no school level; leave it empty", "level")
        for column in ("name", "ward"):
            if not row[column]:
                errors.problem(line, "{name} is empty", column, name=column)
            elif len(row[column]) > 200:
                errors.problem(line, "{name} is longer than 200 characters", column, name=column)
        electorate: int | None = None
        if row.get("electorate"):
            try:
                electorate = int(row["electorate"])
                if not 1 <= electorate <= MAX_ELECTORATE:
                    raise ValueError
            except ValueError:
                errors.problem(
                    line, "electorate must be a whole number 1-{n}", "electorate", n=MAX_ELECTORATE
                )
        parsed[code] = {
            "kind": kind,
            "level": level,
            "name": row["name"],
            "ward": row["ward"],
            "usual_electorate": electorate,
        }
    errors.raise_if_any("Units file")
    existing = units_by_code(session, set(parsed))
    created = updated = 0
    for code, values in parsed.items():
        unit = existing.get(code)
        values["kind"] = UnitKind(str(values["kind"]))
        values["level"] = SchoolLevel(str(values["level"])) if values["level"] else None
        if unit is None:
            session.add(Unit(code=code, **values))
            created += 1
        else:
            for key, value in values.items():
                if key == "usual_electorate" and value is None:
                    continue  # a file without the column keeps what was known
                setattr(unit, key, value)
            updated += 1
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="units.imported",
        payload={"created": created, "updated": updated, "codes": sorted(parsed)},
    )
    return ImportSummary(created=created, updated=updated)
