"""Subjects (người được lấy ý kiến): who holds each head role at a unit in a round."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from ballots import audit
from ballots._csv import RowErrors, read_rows
from ballots.db import Base, str_enum
from ballots.rounds import get_round, require_draft
from ballots.units import Person, Unit, units_by_code
from ballots.vocabulary import Role


class Subject(Base):
    """A person holding a head role at a unit in a round: the one being evaluated."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))

    unit: Mapped[Unit] = relationship(lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")


# ---------------------------------------------------------------------------- services


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
