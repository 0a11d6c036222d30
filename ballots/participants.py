"""The units taking part in a round (participating units) and their electorate."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import CheckConstraint, ForeignKey, Integer, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ballots import audit
from ballots.db import Base
from ballots.errors import InvalidInput
from ballots.rounds import get_round, require_draft
from ballots.units import MAX_ELECTORATE, Unit, units_by_code
from ballots.vocabulary import UnitKind


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


# ---------------------------------------------------------------------------- services


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
    ``set_round_units``; a code not taking part is refused.
    """
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
