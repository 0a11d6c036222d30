"""Rounds (đợt lấy ý kiến), the units taking part in them, and their subjects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from ballots import audit
from ballots._csv import RowErrors, read_rows
from ballots.db import Base, utcnow
from ballots.errors import InvalidInput, InvalidState, NotFound
from ballots.questionnaire import Questionnaire, default_questionnaire, parse_questionnaire
from ballots.units import MAX_ELECTORATE, Person, Unit, units_by_code
from ballots.vocabulary import Role, RoundStatus, UnitKind

# Below three ballots a "summary" is one person's answers; the round's k never goes lower.
MIN_ANONYMITY_THRESHOLD = 3


def _str_enum(cls: type[RoundStatus] | type[Role], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class Round(Base):
    """One feedback campaign with its lifecycle, threshold k and questionnaire."""

    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint(
            f"anonymity_threshold >= {MIN_ANONYMITY_THRESHOLD}", name="threshold_at_least_3"
        ),
        CheckConstraint(
            "opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at",
            name="opens_before_closes",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    plan_reference: Mapped[str | None] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[RoundStatus] = mapped_column(
        _str_enum(RoundStatus, "round_status"), default=RoundStatus.DRAFT
    )
    opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    anonymity_threshold: Mapped[int] = mapped_column(Integer)
    questionnaire: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoundUnit(Base):
    """A unit taking part in a round, with its electorate (voters given a slip)."""

    __tablename__ = "round_units"
    __table_args__ = (CheckConstraint("electorate >= 1", name="electorate_positive"),)

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    electorate: Mapped[int] = mapped_column(Integer)

    unit: Mapped[Unit] = relationship(lazy="raise")


class Subject(Base):
    """A person holding a head role at a unit in a round: the one being evaluated."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    role: Mapped[Role] = mapped_column(_str_enum(Role, "role"))

    unit: Mapped[Unit] = relationship(lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")


# ---------------------------------------------------------------------------- services


def create_round(
    session: Session,
    *,
    title: str,
    year: int,
    anonymity_threshold: int,
    actor: str,
    plan_reference: str | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    questionnaire: Questionnaire | None = None,
) -> Round:
    """Create a round in draft, with the default questionnaire unless one is given."""
    title = title.strip()
    if not title:
        raise InvalidInput("A round needs a title.", field="title")
    if anonymity_threshold < MIN_ANONYMITY_THRESHOLD:
        raise InvalidInput(
            "The anonymity threshold cannot be below {n}.",
            params={"n": MIN_ANONYMITY_THRESHOLD},
            field="anonymity_threshold",
        )
    if opens_at and closes_at and opens_at >= closes_at:
        raise InvalidInput("The round must open before it closes.", field="closes_at")
    round_ = Round(
        title=title,
        plan_reference=(plan_reference or "").strip() or None,
        year=year,
        status=RoundStatus.DRAFT,
        opens_at=opens_at,
        closes_at=closes_at,
        anonymity_threshold=anonymity_threshold,
        questionnaire=(questionnaire or default_questionnaire()).model_dump(mode="json"),
    )
    session.add(round_)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="round.created",
        payload={
            "round_id": round_.id,
            "title": round_.title,
            "year": year,
            "plan_reference": round_.plan_reference,
            "anonymity_threshold": anonymity_threshold,
        },
    )
    return round_


def list_rounds(session: Session) -> list[Round]:
    """All rounds, newest first."""
    return list(session.scalars(select(Round).order_by(Round.year.desc(), Round.id.desc())))


def get_round(session: Session, round_id: int) -> Round:
    """The round with ``round_id`` or ``NotFound``."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound("Round {round_id} does not exist.", params={"round_id": round_id})
    return round_


def require_draft(round_: Round, action: str) -> None:
    """Refuse ``action`` unless the round is still a draft (setup is frozen on opening)."""
    if round_.status is not RoundStatus.DRAFT:
        raise InvalidState(
            "Cannot {action}: the round is {status}; this can only be changed while it is a draft.",
            params={"action": action, "status": round_.status.value},
            status=round_.status.value,
        )


def get_questionnaire(session: Session, round_id: int) -> Questionnaire:
    """The round's questionnaire, validated."""
    return parse_questionnaire(get_round(session, round_id).questionnaire)


def replace_questionnaire(
    session: Session, round_id: int, data: Any, *, actor: str
) -> Questionnaire:
    """Replace the questionnaire of a draft round with ``data`` after validating it."""
    round_ = get_round(session, round_id)
    require_draft(round_, "replace the questionnaire")
    questionnaire = parse_questionnaire(data)
    round_.questionnaire = questionnaire.model_dump(mode="json")
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="questionnaire.replaced",
        payload={"round_id": round_id, "questionnaire": round_.questionnaire},
    )
    return questionnaire


@dataclass(frozen=True)
class Participant:
    """A unit of a round as shown to admins and observers."""

    unit: Unit
    electorate: int


def list_round_units(session: Session, round_id: int) -> list[Participant]:
    """The units taking part in the round with their electorate."""
    get_round(session, round_id)
    rows = session.execute(
        select(Unit, RoundUnit.electorate)
        .join(RoundUnit, RoundUnit.unit_id == Unit.id)
        .where(RoundUnit.round_id == round_id)
        .order_by(Unit.kind.desc(), Unit.level, Unit.code)
    )
    return [Participant(unit=u, electorate=e) for u, e in rows]


def set_round_units(
    session: Session, round_id: int, choices: list[tuple[str, int | None]], *, actor: str
) -> list[Participant]:
    """Make exactly these units take part (code, electorate or None for the unit's usual one)."""
    round_ = get_round(session, round_id)
    require_draft(round_, "change the units of the round")
    codes = [code.strip().upper() for code, _ in choices]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise InvalidInput(
            "Units listed twice: {codes}.", params={"codes": ", ".join(duplicates)}, field="units"
        )
    units = units_by_code(session, set(codes))
    unknown = [c for c in codes if c not in units]
    if unknown:
        raise InvalidInput(
            "Unknown unit codes: {codes}.", params={"codes": ", ".join(unknown)}, field="units"
        )
    wanted: dict[int, int] = {}
    for code, (_, electorate) in zip(codes, choices, strict=True):
        unit = units[code]
        value = electorate if electorate is not None else unit.usual_electorate
        if value is None:
            raise InvalidInput(
                "Unit {code} has no known electorate; give one.",
                params={"code": code},
                field="electorate",
            )
        if not 1 <= value <= MAX_ELECTORATE:
            raise InvalidInput(
                "Electorate of {code} must be 1-{n}.",
                params={"code": code, "n": MAX_ELECTORATE},
                field="electorate",
            )
        wanted[unit.id] = value
    current = {
        ru.unit_id: ru
        for ru in session.scalars(select(RoundUnit).where(RoundUnit.round_id == round_id))
    }
    for unit_id, row in current.items():
        if unit_id not in wanted:
            session.delete(row)
    for unit_id, electorate in wanted.items():
        if unit_id in current:
            current[unit_id].electorate = electorate
        else:
            session.add(RoundUnit(round_id=round_id, unit_id=unit_id, electorate=electorate))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="round.units_set",
        payload={"round_id": round_id, "units": dict(zip(codes, wanted.values(), strict=True))},
    )
    return list_round_units(session, round_id)


def list_subjects(session: Session, round_id: int) -> list[Subject]:
    """The round's subjects with unit and person loaded."""
    get_round(session, round_id)
    return list(
        session.scalars(
            select(Subject)
            .where(Subject.round_id == round_id)
            .join(Subject.unit)
            .options(joinedload(Subject.unit), joinedload(Subject.person))
            .order_by(Unit.kind.desc(), Unit.level, Unit.code, Subject.role)
        )
    )


SUBJECT_COLUMNS = ("unit_code", "role", "full_name")


def import_subjects(session: Session, round_id: int, data: bytes, *, actor: str) -> tuple[int, int]:
    """Record who holds each head role in the round from CSV; all or nothing.

    Returns (created, updated). Schools not drawn by the lottery keep their principal on
    record but take no part until their unit joins the round.
    """
    round_ = get_round(session, round_id)
    require_draft(round_, "import subjects")
    errors = RowErrors()
    rows: list[tuple[int, dict[str, str]]] = list(
        read_rows(data, required=SUBJECT_COLUMNS, optional=("person_ref",), what="Subjects file")
    )
    units = units_by_code(session, {r["unit_code"].upper() for _, r in rows})
    seen: set[tuple[str, str]] = set()
    for line, row in rows:
        code = row["unit_code"].upper()
        unit = units.get(code)
        if unit is None:
            errors.problem(
                line, "unit {code!r} is not known; import units first", "unit_code", code=code
            )
        try:
            role = Role(row["role"].lower())
        except ValueError:
            errors.problem(
                line,
                "role {role!r} is not one of {roles}",
                "role",
                role=row["role"],
                roles=", ".join(Role),
            )
            role = None
        if unit is not None and role is not None and role.unit_kind != unit.kind:
            errors.problem(
                line, "a {kind} cannot have a {role}", "role", kind=unit.kind.value, role=role.value
            )
        if role is not None:
            if (code, role.value) in seen:
                errors.problem(
                    line,
                    "{code} {role} appears twice in the file",
                    "role",
                    code=code,
                    role=role.value,
                )
            seen.add((code, role.value))
        if not row["full_name"]:
            errors.problem(line, "full_name is empty", "full_name")
        elif len(row["full_name"]) > 200:
            errors.problem(line, "full_name is longer than 200 characters", "full_name")
    errors.raise_if_any("Subjects file")

    created = updated = 0
    existing = {
        (s.unit_id, s.role): s
        for s in session.scalars(select(Subject).where(Subject.round_id == round_id))
    }
    for _, row in rows:
        unit = units[row["unit_code"].upper()]
        role = Role(row["role"].lower())
        person = _find_or_create_person(
            session, unit, row["full_name"], row.get("person_ref") or None
        )
        subject = existing.get((unit.id, role))
        if subject is None:
            session.add(Subject(round_id=round_id, unit_id=unit.id, person_id=person.id, role=role))
            created += 1
        else:
            subject.person_id = person.id
            updated += 1
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subjects.imported",
        payload={"round_id": round_id, "created": created, "updated": updated},
    )
    return created, updated


def _find_or_create_person(
    session: Session, unit: Unit, full_name: str, reference: str | None
) -> Person:
    if reference:
        person = session.scalar(select(Person).where(Person.reference == reference))
        if person is None:
            person = Person(full_name=full_name, reference=reference)
            session.add(person)
            session.flush()
        else:
            person.full_name = full_name
        return person
    # Same name heading the same unit in an earlier round: the same person.
    person = session.scalar(
        select(Person)
        .join(Subject, Subject.person_id == Person.id)
        .where(Subject.unit_id == unit.id, Person.full_name == full_name)
        .limit(1)
    )
    if person is None:
        person = Person(full_name=full_name)
        session.add(person)
        session.flush()
    return person


def add_all_wards(session: Session, round_id: int, *, actor: str) -> list[Participant]:
    """Make every known ward take part with its usual electorate; keeps units already in."""
    current = [(p.unit.code, p.electorate) for p in list_round_units(session, round_id)]
    present = {code for code, _ in current}
    wards = [
        (u.code, None)
        for u in units_by_code(session).values()
        if u.kind is UnitKind.WARD and u.code not in present
    ]
    return set_round_units(session, round_id, [*current, *sorted(wards)], actor=actor)


def set_electorates(
    session: Session, round_id: int, electorates: dict[str, int], *, actor: str
) -> list[Participant]:
    """Change the electorate of units already taking part (draft only), same checks as
    ``set_round_units``; a code not taking part is refused."""
    current = [(p.unit.code, p.electorate) for p in list_round_units(session, round_id)]
    present = {code for code, _ in current}
    strangers = sorted(set(electorates) - present)
    if strangers:
        raise InvalidInput(
            "Unknown unit codes: {codes}.", params={"codes": ", ".join(strangers)}, field="units"
        )
    return set_round_units(
        session,
        round_id,
        [(code, electorates.get(code, value)) for code, value in current],
        actor=actor,
    )
