"""One-time tokens (mã phiếu) and print-ready slips (invariant 2).

A plain token exists only inside ``issue_slips`` and the PDF it returns: the database
keeps its SHA-256, the round, the unit, the batch and whether it was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ballots import audit
from ballots.db import Base, utcnow
from ballots.errors import InvalidInput, InvalidState, NotFound
from ballots.participants import RoundUnit
from ballots.rounds import Round, get_round
from ballots.slips import render_slips_pdf
from ballots.units import Unit
from ballots.vocabulary import RoundStatus
from crypto.tokens import new_token, token_hash

# One batch is what one unit's meeting needs; larger requests are a typo more often than not.
MAX_BATCH = 2000


class TokenBatch(Base):
    """Slips printed together for one unit; voiding it stops its unused tokens."""

    __tablename__ = "token_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    size: Mapped[int] = mapped_column(Integer)
    over_electorate: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(String(500))


class Token(Base):
    """A token known only by its hash."""

    __tablename__ = "tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("token_batches.id", ondelete="CASCADE"), index=True
    )
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when used: the receipt sealed under a key derived from the token itself, so a
    # voter whose reply was lost can be shown it again; nobody without the slip can open it.
    receipt_sealed: Mapped[bytes | None] = mapped_column(LargeBinary(64))


@dataclass(frozen=True)
class IssuedSlips:
    """A new batch and its print-ready PDF, returned once."""

    batch: TokenBatch
    unit: Unit
    pdf: bytes


@dataclass(frozen=True)
class UnitTokens:
    """Tokens of one unit beside its electorate."""

    unit: Unit
    electorate: int
    live: int
    used: int


def _live_count(session: Session, round_id: int, unit_id: int) -> int:
    # Live = every token of a batch still valid, plus used tokens of voided batches
    # (a ballot already cast stays counted).
    return int(
        session.scalar(
            select(func.count())
            .select_from(Token)
            .join(TokenBatch, TokenBatch.id == Token.batch_id)
            .where(
                Token.round_id == round_id,
                Token.unit_id == unit_id,
                (TokenBatch.voided_at.is_(None)) | (Token.used.is_(True)),
            )
        )
        or 0
    )


@dataclass(frozen=True)
class IssuedTokens:
    """A new batch and its plain tokens: hand them to the admin once, then drop them."""

    batch: TokenBatch
    unit: Unit
    round: Round
    tokens: list[str]


def issue_tokens(
    session: Session,
    round_id: int,
    unit_code: str,
    count: int,
    *,
    actor: str,
    override_electorate: bool = False,
    override_reason: str | None = None,
) -> IssuedTokens:
    """Make ``count`` tokens for a unit of a draft or open round; only their hashes are kept."""
    round_ = get_round(session, round_id)
    if round_.status not in (RoundStatus.DRAFT, RoundStatus.OPEN):
        raise InvalidState(
            "Cannot issue slips: the round is {status}.",
            params={"status": round_.status.value},
            status=round_.status.value,
        )
    if not 1 <= count <= MAX_BATCH:
        raise InvalidInput("A batch has 1-{n} slips.", params={"n": MAX_BATCH}, field="count")
    row = session.execute(
        select(Unit, RoundUnit.electorate)
        .join(RoundUnit, RoundUnit.unit_id == Unit.id)
        .where(RoundUnit.round_id == round_id, Unit.code == unit_code.strip().upper())
    ).first()
    if row is None:
        raise NotFound(
            "Unit {code} does not take part in round {round_id}.",
            params={"code": unit_code, "round_id": round_id},
        )
    unit, electorate = row
    live = _live_count(session, round_id, unit.id)
    over = live + count > electorate
    if over and not override_electorate:
        raise InvalidState(
            "{unit} has {electorate} voters and {live} live slips; {count} more would "
            "exceed the electorate. Confirm with the override to issue them anyway.",
            params={"unit": unit.name, "electorate": electorate, "live": live, "count": count},
            electorate=electorate,
            live=live,
        )
    batch = TokenBatch(
        round_id=round_id, unit_id=unit.id, size=count, over_electorate=over, created_at=utcnow()
    )
    session.add(batch)
    session.flush()
    plain = [new_token() for _ in range(count)]
    session.execute(
        insert(Token),
        [
            {
                "token_hash": token_hash(t),
                "round_id": round_id,
                "unit_id": unit.id,
                "batch_id": batch.id,
                "used": False,
            }
            for t in plain
        ],
    )
    audit.record(
        session,
        actor=actor,
        action="tokens.issued",
        payload={
            "round_id": round_id,
            "unit": unit.code,
            "batch_id": batch.id,
            "count": count,
            "live_before": live,
            "electorate": electorate,
            "over_electorate_override": over,
            **({"override_reason": override_reason.strip()} if over and override_reason else {}),
        },
    )
    return IssuedTokens(batch=batch, unit=unit, round=round_, tokens=plain)


def issue_slips(
    session: Session,
    round_id: int,
    unit_code: str,
    count: int,
    *,
    base_url: str,
    actor: str,
    override_electorate: bool = False,
    override_reason: str | None = None,
) -> IssuedSlips:
    """Make ``count`` tokens for a unit and render their print-ready slips (given once)."""
    issued = issue_tokens(
        session,
        round_id,
        unit_code,
        count,
        actor=actor,
        override_electorate=override_electorate,
        override_reason=override_reason,
    )
    pdf = render_slips_pdf(
        issued.tokens, round_title=issued.round.title, unit_name=issued.unit.name, base_url=base_url
    )
    # The plain tokens leave this function only inside the PDF.
    return IssuedSlips(batch=issued.batch, unit=issued.unit, pdf=pdf)


@dataclass(frozen=True)
class VoidedBatch:
    """A batch just voided, with its unit's code."""

    batch: TokenBatch
    unit_code: str


def void_batch(session: Session, batch_id: int, *, actor: str, reason: str) -> VoidedBatch:
    """Stop a batch's unused tokens (lost slips); used ones stay counted."""
    batch = session.get(TokenBatch, batch_id)
    if batch is None:
        raise NotFound("Batch {batch_id} does not exist.", params={"batch_id": batch_id})
    if batch.voided_at is not None:
        raise InvalidState("Batch {batch_id} is already void.", params={"batch_id": batch_id})
    if not reason.strip():
        raise InvalidInput("Say why the batch is voided.", field="reason")
    batch.voided_at = utcnow()
    batch.void_reason = reason.strip()[:500]
    unused = session.scalar(
        select(func.count()).select_from(Token).where(Token.batch_id == batch_id, ~Token.used)
    )
    unit = session.get(Unit, batch.unit_id)
    assert unit is not None
    audit.record(
        session,
        actor=actor,
        action="tokens.voided",
        payload={
            "batch_id": batch_id,
            "round_id": batch.round_id,
            "unused": int(unused or 0),
            "reason": batch.void_reason,
        },
    )
    session.flush()
    return VoidedBatch(batch=batch, unit_code=unit.code)


def list_batches(session: Session, round_id: int) -> list[tuple[TokenBatch, str]]:
    """Batches of a round with their unit code, oldest first."""
    get_round(session, round_id)
    rows = session.execute(
        select(TokenBatch, Unit.code)
        .join(Unit, Unit.id == TokenBatch.unit_id)
        .where(TokenBatch.round_id == round_id)
        .order_by(TokenBatch.id)
    )
    return [(b, code) for b, code in rows]


def token_summary(session: Session, round_id: int) -> list[UnitTokens]:
    """Per unit of the round: electorate, live tokens and tokens used (turnout)."""
    get_round(session, round_id)
    valid = (TokenBatch.voided_at.is_(None)) | (Token.used.is_(True))
    live = (
        select(
            Token.unit_id,
            func.count().label("live"),
            func.sum(func.cast(Token.used, Integer)).label("used"),
        )
        .join(TokenBatch, TokenBatch.id == Token.batch_id)
        .where(Token.round_id == round_id, valid)
        .group_by(Token.unit_id)
        .subquery()
    )
    rows = session.execute(
        select(Unit, RoundUnit.electorate, live.c.live, live.c.used)
        .join(RoundUnit, RoundUnit.unit_id == Unit.id)
        .outerjoin(live, live.c.unit_id == Unit.id)
        .where(RoundUnit.round_id == round_id)
        .order_by(Unit.kind.desc(), Unit.level, Unit.code)
    )
    return [
        UnitTokens(unit=u, electorate=e, live=int(lv or 0), used=int(us or 0))
        for u, e, lv, us in rows
    ]


def round_has_tokens(session: Session, round_: Round) -> bool:
    """Whether any slips were issued for the round (a redraw is then refused)."""
    return bool(
        session.scalar(select(TokenBatch.id).where(TokenBatch.round_id == round_.id).limit(1))
    )


def redeemable(session: Session, canonical_token: str) -> Token | None:
    """The token row for a canonical token, if it exists."""
    return session.get(Token, token_hash(canonical_token))


@dataclass(frozen=True)
class Redeemed:
    """A slip just spent: where its ballot goes, and which version of the round took it."""

    round_id: int
    unit_id: int
    round_created_at: datetime


@dataclass(frozen=True)
class SlipState:
    """Everything that decides whether a slip may vote, read in one query."""

    round_id: int
    unit_id: int
    used: bool
    receipt_sealed: bytes | None
    batch_voided: bool
    round_status: RoundStatus
    opens_at: datetime | None
    closes_at: datetime | None
    round_created_at: datetime


_NOW = bindparam("now", type_=DateTime(timezone=True))
# The round accepts votes: open, and inside its dates when it has them. FOR SHARE holds the
# round row until the cast commits, so a close (which takes it FOR UPDATE) waits for every
# cast in flight and no ballot lands after the box is rewritten; a cast that finds the row
# locked by a close waits, then sees "closed" and spends nothing. SQLite has no row locks:
# there BEGIN IMMEDIATE makes every writer wait for the one before it.
_ACCEPTING_ROUND = (
    select(Round.id)
    .where(
        Round.id == Token.round_id,
        Round.status == RoundStatus.OPEN,
        or_(Round.opens_at.is_(None), Round.opens_at <= _NOW),
        or_(Round.closes_at.is_(None), Round.closes_at > _NOW),
    )
    .with_for_update(read=True)
)
_REDEEM = (
    update(Token)
    .where(
        Token.token_hash == bindparam("hash"),
        Token.used.is_(False),
        # A voided batch's unused slips are dead.
        exists().where(TokenBatch.id == Token.batch_id, TokenBatch.voided_at.is_(None)),
        exists(_ACCEPTING_ROUND),
    )
    .values(used=True, receipt_sealed=bindparam("sealed"))
    .returning(
        Token.round_id,
        Token.unit_id,
        select(Round.created_at).where(Round.id == Token.round_id).scalar_subquery(),
    )
)
_GIVE_BACK = (
    update(Token)
    .where(Token.token_hash == bindparam("hash"), Token.used.is_(True))
    .values(used=False, receipt_sealed=None)
)
_STATE = (
    select(
        Token.round_id,
        Token.unit_id,
        Token.used,
        Token.receipt_sealed,
        TokenBatch.voided_at.is_not(None),
        Round.status,
        Round.opens_at,
        Round.closes_at,
        Round.created_at,
    )
    .join(TokenBatch, TokenBatch.id == Token.batch_id)
    .join(Round, Round.id == Token.round_id)
    .where(Token.token_hash == bindparam("hash"))
)


def redeem(
    session: Session, canonical_token: str, receipt_sealed: bytes, now: datetime
) -> Redeemed | None:
    """Spend a slip in one statement, or None: unknown, used, voided or the round not open.

    One conditional UPDATE checks the slip, its batch and its round's state at once; its
    row count decides races, so two phones with one slip yield exactly one ballot.
    """
    row = (
        session.connection()
        .execute(
            _REDEEM,
            {"hash": token_hash(canonical_token), "sealed": receipt_sealed, "now": now},
        )
        .first()
    )
    if row is None:
        return None
    return Redeemed(round_id=row[0], unit_id=row[1], round_created_at=row[2])


def give_back(session: Session, canonical_token: str) -> None:
    """Undo ``redeem`` in the same transaction (the answers turned out invalid)."""
    session.connection().execute(_GIVE_BACK, {"hash": token_hash(canonical_token)})


def slip_state(session: Session, canonical_token: str) -> SlipState | None:
    """The slip's state in one query (preview, and why a redeem found nothing)."""
    row = session.connection().execute(_STATE, {"hash": token_hash(canonical_token)}).first()
    if row is None:
        return None
    return SlipState(*row)


def spend(session: Session, canonical_token: str, receipt_sealed: bytes) -> bool:
    """Mark a token used with one conditional UPDATE; True only for the one caller who won."""
    result = session.execute(
        update(Token)
        .where(
            Token.token_hash == token_hash(canonical_token),
            Token.used.is_(False),
            # A voided batch's unused slips are dead; checked in the same statement.
            Token.batch_id.in_(select(TokenBatch.id).where(TokenBatch.voided_at.is_(None))),
        )
        .values(used=True, receipt_sealed=receipt_sealed)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
