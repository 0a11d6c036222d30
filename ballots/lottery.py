"""The school lottery (bốc thăm) of a round: draw, store the proof, re-verify.

The draw itself is ``crypto.lottery`` (pure, specified in docs/LOTTERY.md); this module
chooses the pool, records inputs and result, and lets drawn schools join the round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ballots import audit
from ballots.db import Base, as_utc, utcnow
from ballots.errors import InvalidInput, InvalidState, NotFound
from ballots.participants import RoundUnit
from ballots.rounds import get_round, require_draft
from ballots.tokens import round_has_tokens
from ballots.units import Unit
from ballots.vocabulary import UnitKind
from crypto import lottery as draw_kit


class LotteryDraw(Base):
    """A draw's inputs and result; the newest one of a round is the one in force."""

    __tablename__ = "lottery_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    algorithm_version: Mapped[str] = mapped_column(String(40))
    phrase: Mapped[str] = mapped_column(String(500))
    pool: Mapped[list[Any]] = mapped_column(JSON)  # [[code, level], ...] canonical order
    excluded: Mapped[list[Any]] = mapped_column(JSON)
    pool_digest: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[str] = mapped_column(String(64))
    chosen: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(500))
    drawn_by: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class Verification:
    """Re-running a stored draw from its inputs."""

    matches: bool
    stored_seed: str
    recomputed_seed: str
    stored_chosen: dict[str, list[str]]
    recomputed_chosen: dict[str, list[str]]


def _pool(session: Session, excluded: set[str]) -> list[draw_kit.PoolSchool]:
    schools = session.scalars(select(Unit).where(Unit.kind == UnitKind.SCHOOL))
    return [
        draw_kit.PoolSchool(code=u.code, level=u.level.value)
        for u in schools
        if u.level is not None and u.code not in excluded
    ]


def current_draw(session: Session, round_id: int) -> LotteryDraw | None:
    """The draw in force for the round, if any."""
    return session.scalar(
        select(LotteryDraw)
        .where(LotteryDraw.round_id == round_id)
        .order_by(LotteryDraw.id.desc())
        .limit(1)
    )


def get_draw(session: Session, round_id: int) -> LotteryDraw:
    """The draw in force, or ``NotFound``."""
    get_round(session, round_id)
    found = current_draw(session, round_id)
    if found is None:
        raise NotFound("Round {round_id} has no lottery draw yet.", params={"round_id": round_id})
    return found


def draw_schools(
    session: Session,
    round_id: int,
    *,
    phrase: str,
    actor: str,
    counts: Mapping[str, int] | None = None,
    excluded: Sequence[str] = (),
    reason: str | None = None,
) -> LotteryDraw:
    """Draw schools per level and let them join the round with their usual electorate."""
    round_ = get_round(session, round_id)
    require_draft(round_, "draw the schools")
    previous = current_draw(session, round_id)
    if previous is not None:
        if round_has_tokens(session, round_):
            raise InvalidState("Slips were already issued for this round; a redraw is refused.")
        if not (reason or "").strip():
            raise InvalidInput("A redraw needs a reason, which is logged.", field="reason")
    excluded_codes = sorted({c.strip().upper() for c in excluded if c.strip()})
    counts = dict(counts if counts is not None else draw_kit.DEFAULT_COUNTS)
    pool = _pool(session, set(excluded_codes))
    try:
        digest = draw_kit.pool_digest(pool)
        seed = draw_kit.derive_seed(round_id, digest, phrase)
        result = draw_kit.draw(pool, counts, seed)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("Cannot draw: {reason}", params={"reason": str(exc)}) from None
    chosen_codes = [code for level in draw_kit.LEVELS for code in result.chosen.get(level, ())]
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(chosen_codes)))}
    missing = [c for c in chosen_codes if units[c].usual_electorate is None]
    if missing:
        raise InvalidInput(
            "Drawn schools without a known electorate: {codes}. Give it in the units file "
            "and draw again with the same phrase.",
            params={"codes": ", ".join(missing)},
            field="electorate",
        )
    if previous is not None:
        _leave_round(session, round_id, previous)
    for code in chosen_codes:
        unit = units[code]
        if session.get(RoundUnit, (round_id, unit.id)) is None:
            assert unit.usual_electorate is not None
            session.add(
                RoundUnit(round_id=round_id, unit_id=unit.id, electorate=unit.usual_electorate)
            )
    row = LotteryDraw(
        round_id=round_id,
        algorithm_version=result.algorithm_version,
        phrase=phrase,
        pool=[[s.code, s.level] for s in draw_kit.canonical_pool(pool)],
        excluded=excluded_codes,
        pool_digest=result.pool_digest,
        counts=dict(result.counts),
        seed=result.seed,
        chosen={k: list(v) for k, v in result.chosen.items()},
        reason=(reason or "").strip() or None,
        drawn_by=actor,
        drawn_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lottery.redrawn" if previous else "lottery.drawn",
        payload={
            "round_id": round_id,
            "draw_id": row.id,
            "phrase": phrase,
            "pool_digest": row.pool_digest,
            "counts": row.counts,
            "excluded": excluded_codes,
            "seed": row.seed,
            "chosen": row.chosen,
            "reason": row.reason,
        },
    )
    return row


def _leave_round(session: Session, round_id: int, previous: LotteryDraw) -> None:
    codes = [c for level in previous.chosen.values() for c in level]
    for unit in session.scalars(select(Unit).where(Unit.code.in_(codes))):
        row = session.get(RoundUnit, (round_id, unit.id))
        if row is not None:
            session.delete(row)
    session.flush()


def verify_draw(session: Session, round_id: int) -> Verification:
    """Re-run the stored draw from its stored inputs and compare."""
    stored = get_draw(session, round_id)
    try:
        pool = [draw_kit.PoolSchool(code=c, level=lv) for c, lv in stored.pool]
        digest = draw_kit.pool_digest(pool)
        seed = draw_kit.derive_seed(stored.round_id, digest, stored.phrase)
        again = draw_kit.draw(pool, stored.counts, seed)
    except (ValueError, TypeError):
        # Stored inputs that no honest draw could have produced: a tampered row. Report it
        # as a mismatch; a crash would hide the finding from the observer.
        return Verification(
            matches=False,
            stored_seed=stored.seed,
            recomputed_seed="",
            stored_chosen=stored.chosen,
            recomputed_chosen={},
        )
    recomputed = {k: list(v) for k, v in again.chosen.items()}
    return Verification(
        matches=(
            seed == stored.seed
            and digest == stored.pool_digest
            and recomputed == stored.chosen
            and _logged_as_drawn(session, stored)
        ),
        stored_seed=stored.seed,
        recomputed_seed=seed,
        stored_chosen=stored.chosen,
        recomputed_chosen=recomputed,
    )


def _logged_as_drawn(session: Session, draw: LotteryDraw) -> bool:
    # A draw row rewritten consistently (new phrase, seed and result) would re-run cleanly;
    # the hash-chained audit entry written at the draw is what it must still agree with.
    for entry in audit.entries_for(session, ("lottery.drawn", "lottery.redrawn")):
        p = entry.payload
        if p.get("draw_id") == draw.id and p.get("round_id") == draw.round_id:
            return bool(
                p.get("seed") == draw.seed
                and p.get("phrase") == draw.phrase
                and p.get("chosen") == draw.chosen
                and p.get("pool_digest") == draw.pool_digest
            )
    return False


def proof(draw: LotteryDraw) -> dict[str, Any]:
    """The lottery proof published to observers: everything needed to re-run the draw."""
    return {
        "algorithm_version": draw.algorithm_version,
        "specification": "docs/LOTTERY.md",
        "round_id": draw.round_id,
        "phrase": draw.phrase,
        "normalized_phrase": draw_kit.normalize_phrase(draw.phrase),
        "pool": [{"code": c, "level": lv} for c, lv in draw.pool],
        "excluded": draw.excluded,
        "pool_digest": draw.pool_digest,
        "counts": draw.counts,
        "seed": draw.seed,
        "chosen": draw.chosen,
        "reason": draw.reason,
        "drawn_by": draw.drawn_by,
        "drawn_at": as_utc(draw.drawn_at).isoformat(),
    }


@dataclass(frozen=True)
class PoolPreview:
    """The pool a draw would use now, and its digest to read out before the phrase is known."""

    schools: list[tuple[str, str, str]]  # (code, level, name) in the draw's canonical order
    digest: str
    excluded: list[str]


def pool_preview(session: Session, excluded: Sequence[str] = ()) -> PoolPreview:
    """The pool and digest ``draw_schools`` would use with these exclusions."""
    excluded_codes = sorted({c.strip().upper() for c in excluded if c.strip()})
    pool = draw_kit.canonical_pool(_pool(session, set(excluded_codes)))
    names = {
        u.code: u.name for u in session.scalars(select(Unit).where(Unit.kind == UnitKind.SCHOOL))
    }
    return PoolPreview(
        schools=[(s.code, s.level, names.get(s.code, "")) for s in pool],
        digest=draw_kit.pool_digest(pool) if pool else "",
        excluded=excluded_codes,
    )


def drawn_units(session: Session, draw: LotteryDraw) -> list[Unit]:
    """The drawn schools, level by level in the draw's order."""
    codes = [c for level in draw_kit.LEVELS for c in draw.chosen.get(level, ())]
    found = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    return [found[c] for c in codes if c in found]
