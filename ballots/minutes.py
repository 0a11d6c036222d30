"""The round's minutes (biên bản): what the committee and the observers sign.

Counts of slips per unit (issued, used, voided, unused), ballots counted, the lottery proof
and the audit heads written at open, close and publish. Counts only: nothing here can say
who voted or how.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from ballots import audit, ballot_box, lottery, tally
from ballots.db import as_utc, utcnow
from ballots.participants import list_round_units
from ballots.rounds import Round, get_round
from ballots.tokens import Token, TokenBatch
from ballots.units import Unit
from ballots.vocabulary import RoundStatus

LIFECYCLE_ACTIONS = ("round.opened", "round.closed", "round.published")


@dataclass(frozen=True)
class UnitSlips:
    """One unit's slips and ballots."""

    code: str
    name: str
    electorate: int
    issued: int
    used: int
    voided: int  # unused slips of voided batches: they can never be used
    ballots: int

    @property
    def unused(self) -> int:
        """Slips still valid and not used."""
        return self.issued - self.used - self.voided


@dataclass(frozen=True)
class VoidedBatch:
    """A batch voided, with why."""

    batch_id: int
    unit_code: str
    size: int
    unused: int
    voided_at: datetime
    reason: str


@dataclass(frozen=True)
class AuditHead:
    """An audit entry written at a step of the lifecycle: SEQ:HASH goes on the minutes."""

    action: str
    seq: int
    hash: str
    at: str
    payload: dict[str, Any]

    @property
    def written(self) -> str:
        """``SEQ:HASH`` as typed back into the audit check."""
        return f"{self.seq}:{self.hash}"


@dataclass
class Minutes:
    """Everything the minutes of one round say."""

    round: Round
    generated_at: datetime
    units: list[UnitSlips]
    voided_batches: list[VoidedBatch]
    heads: dict[str, AuditHead]
    lottery_proof: dict[str, Any] | None
    ballots_counted: int | None  # from the close's audit entry; None before the close
    receipts_sha256: str | None
    current_head: tuple[int, str] | None
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        """Whether the count is final."""
        return self.round.status in (RoundStatus.CLOSED, RoundStatus.PUBLISHED)


def _slip_counts(session: Session, round_id: int) -> dict[int, tuple[int, int, int]]:
    """Per unit id: (issued, used, voided-unused)."""
    voided_unused = (TokenBatch.voided_at.is_not(None) & Token.used.is_(False)).cast(Integer)
    rows = session.execute(
        select(
            Token.unit_id,
            func.count(),
            func.sum(Token.used.cast(Integer)),
            func.sum(voided_unused),
        )
        .join(TokenBatch, TokenBatch.id == Token.batch_id)
        .where(Token.round_id == round_id)
        .group_by(Token.unit_id)
    )
    return {int(u): (int(n), int(used or 0), int(void or 0)) for u, n, used, void in rows}


def _voided_batches(session: Session, round_id: int) -> list[VoidedBatch]:
    unused = (
        select(func.count())
        .select_from(Token)
        .where(Token.batch_id == TokenBatch.id, Token.used.is_(False))
        .scalar_subquery()
    )
    rows = session.execute(
        select(TokenBatch, Unit.code, unused)
        .join(Unit, Unit.id == TokenBatch.unit_id)
        .where(TokenBatch.round_id == round_id, TokenBatch.voided_at.is_not(None))
        .order_by(TokenBatch.id)
    )
    return [
        VoidedBatch(
            batch_id=b.id,
            unit_code=code,
            size=b.size,
            unused=int(n or 0),
            voided_at=as_utc(b.voided_at),
            reason=b.void_reason or "",
        )
        for b, code, n in rows
    ]


def _heads(session: Session, round_id: int) -> dict[str, AuditHead]:
    found: dict[str, AuditHead] = {}
    for entry in audit.entries_for(session, LIFECYCLE_ACTIONS):
        if entry.payload.get("round_id") == round_id:
            found[entry.action] = AuditHead(
                action=entry.action,
                seq=entry.seq,
                hash=entry.hash,
                at=entry.at,
                payload=dict(entry.payload),
            )
    return found


def gather(session: Session, round_id: int) -> Minutes:
    """Collect the minutes of a round in any state (a draft's say what is still missing)."""
    round_ = get_round(session, round_id)
    slips = _slip_counts(session, round_id)
    ballots = tally.ballots_per_unit(session, round_id)
    units = [
        UnitSlips(
            code=p.unit.code,
            name=p.unit.name,
            electorate=p.electorate,
            issued=slips.get(p.unit.id, (0, 0, 0))[0],
            used=slips.get(p.unit.id, (0, 0, 0))[1],
            voided=slips.get(p.unit.id, (0, 0, 0))[2],
            ballots=ballots.get(p.unit.id, 0),
        )
        for p in list_round_units(session, round_id)
    ]
    heads = _heads(session, round_id)
    closed = heads.get("round.closed")
    draw = lottery.current_draw(session, round_id)
    minutes = Minutes(
        round=round_,
        generated_at=utcnow(),
        units=units,
        voided_batches=_voided_batches(session, round_id),
        heads=heads,
        lottery_proof=lottery.proof(draw) if draw is not None else None,
        ballots_counted=int(closed.payload.get("ballots", 0)) if closed else None,
        receipts_sha256=str(closed.payload.get("receipts_sha256", "")) if closed else None,
        current_head=audit.head(session),
    )
    minutes.totals = {
        "electorate": sum(u.electorate for u in units),
        "issued": sum(u.issued for u in units),
        "used": sum(u.used for u in units),
        "voided": sum(u.voided for u in units),
        "unused": sum(u.unused for u in units),
        "ballots": sum(u.ballots for u in units),
        "receipts": len(ballot_box.receipts(session, round_id)) if closed else 0,
    }
    return minutes
