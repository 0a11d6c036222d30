"""The round's lifecycle, enforced here and nowhere else: draft -> open -> closed -> published."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ballots import audit, ballot_box, key_ceremony, tally
from ballots.db import utcnow
from ballots.errors import InvalidState, VotingClosed, VotingNotOpen
from ballots.participants import RoundUnit
from ballots.questionnaire import parse_questionnaire
from ballots.rounds import Round, get_round
from ballots.subjects import Subject
from ballots.tokens import Token, TokenBatch
from ballots.vocabulary import RoundStatus
from crypto import sealing

TRANSITIONS: dict[RoundStatus, RoundStatus] = {
    RoundStatus.DRAFT: RoundStatus.OPEN,
    RoundStatus.OPEN: RoundStatus.CLOSED,
    RoundStatus.CLOSED: RoundStatus.PUBLISHED,
}
ACTIONS = {
    RoundStatus.OPEN: "round.opened",
    RoundStatus.CLOSED: "round.closed",
    RoundStatus.PUBLISHED: "round.published",
}


@dataclass(frozen=True)
class Transition:
    """A state change and the audit head to write on the round's minutes."""

    round: Round
    head_seq: int
    head_hash: str
    # Opening a sealed round: each holder's share, to hand over once and never keep.
    shares: list[key_ceremony.IssuedShare] = field(default_factory=list)


def _lock(session: Session, round_id: int) -> Round:
    # FOR UPDATE waits for casts in flight (they hold the row FOR SHARE) and makes later
    # casts wait for this transition, then see the new state.
    round_ = session.scalar(
        select(Round)
        .where(Round.id == round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if round_ is None:
        return get_round(session, round_id)  # raises NotFound
    return round_


def _move(
    session: Session,
    round_id: int,
    target: RoundStatus,
    actor: str,
    extra: dict[str, object] | None = None,
    *,
    ceremony: tuple[list[str], int] | None = None,
    shares: Sequence[str] = (),
) -> Transition:
    round_ = _lock(session, round_id)
    if TRANSITIONS.get(round_.status) is not target:
        raise InvalidState(
            "Cannot make the round {target}: it is {status}.",
            params={"target": target.value, "status": round_.status.value},
            status=round_.status.value,
        )
    if target is RoundStatus.CLOSED:
        # Shares are checked and boxes opened before anything else changes, so a refusal
        # leaves even the caller's session as it was. Anchor what was counted in the hash
        # chain: the number of ballots and a digest of the receipts about to be published.
        extra = {**(extra or {}), **ballot_box.open_box(session, round_id, shares)}
        # Counted once, here, from the rows the close just wrote: reports read the counts
        # instead of unpacking every ballot again (ballots.tally).
        tally.count_ballots(session, round_id)
    round_.status = target
    session.flush()
    issued: list[key_ceremony.IssuedShare] = []
    if target is RoundStatus.OPEN and ceremony is not None:
        names, needed = ceremony
        issued = key_ceremony.hold_ceremony(
            session, round_id, names, needed, _box_size(session, round_)
        )
        key = key_ceremony.box_key(session, round_id)
        assert key is not None
        # Who holds which share number, never a share (invariant 9 and the ceremony's rule).
        extra = {
            **(extra or {}),
            "sealed": True,
            "suite": key.suite,
            "public_key_sha256": sealing.public_key_fingerprint(key.public_key),
            "shares_needed": needed,
            "key_holders": [{"number": s.number, "name": s.holder} for s in issued],
        }
    elif target is RoundStatus.OPEN:
        extra = {**(extra or {}), "sealed": False}
    entry = audit.record(
        session,
        actor=actor,
        action=ACTIONS[target],
        payload={
            "round_id": round_id,
            "anonymity_threshold": round_.anonymity_threshold,
            **(extra or {}),
        },
    )
    return Transition(round=round_, head_seq=entry.seq, head_hash=entry.hash, shares=issued)


def _box_size(session: Session, round_: Round) -> int:
    # Subjects are frozen with the rest of the setup, so the largest unit's ballot is known.
    per_unit = session.scalars(
        select(func.count()).where(Subject.round_id == round_.id).group_by(Subject.unit_id)
    ).all()
    return ballot_box.box_size(parse_questionnaire(round_.questionnaire), max(per_unit, default=1))


def open_round(
    session: Session,
    round_id: int,
    *,
    actor: str,
    key_holders: Sequence[str] | None,
    shares_needed: int | None = None,
) -> Transition:
    """Open voting; needs a unit with live slips. Questionnaire, units and k are then frozen.

    With ``key_holders`` (names, n >= 2) the round is sealed: the key ceremony runs in this
    transaction and the returned ``shares`` (k of n needed, default 3) must go to their
    holders. ``None`` opens the round unsealed, as every round was before sealed boxes:
    only code calls it so (the API, CLI and console always hold the ceremony).
    """
    has_live_tokens = session.scalar(
        select(Token.batch_id)
        .join(TokenBatch, TokenBatch.id == Token.batch_id)
        .join(
            RoundUnit,
            (RoundUnit.round_id == Token.round_id) & (RoundUnit.unit_id == Token.unit_id),
        )
        .where(Token.round_id == round_id, TokenBatch.voided_at.is_(None))
        .limit(1)
    )
    round_ = get_round(session, round_id)
    if round_.status is RoundStatus.DRAFT and has_live_tokens is None:
        raise InvalidState(
            "Cannot open the round: it is a draft and no unit taking part has slips yet.",
            status="draft",
        )
    ceremony = None
    if key_holders is not None:
        ceremony = key_ceremony.clean_holders(key_holders, shares_needed)
    return _move(session, round_id, RoundStatus.OPEN, actor, ceremony=ceremony)


def close_round(
    session: Session, round_id: int, *, actor: str, shares: Sequence[str] = ()
) -> Transition:
    """Close voting for good, open the sealed boxes and rewrite the box, in one transaction.

    A sealed round needs k of its key shares (their text); fewer, or an altered one, and
    nothing changes. Call ``scrub.scrub`` after the commit to clear deleted content from the
    files.
    """
    return _move(session, round_id, RoundStatus.CLOSED, actor, shares=shares)


def publish_round(session: Session, round_id: int, *, actor: str) -> Transition:
    """Release the reports to the heads."""
    return _move(session, round_id, RoundStatus.PUBLISHED, actor)


def ensure_accepting_votes(round_: Round, now: datetime | None = None) -> None:
    """Refuse unless the round is open and inside its dates, when it has dates."""
    check_accepting_votes(round_.status, round_.opens_at, round_.closes_at, now or utcnow())


def check_accepting_votes(
    status: RoundStatus, opens_at: datetime | None, closes_at: datetime | None, now: datetime
) -> None:
    """``ensure_accepting_votes`` on a round's state read without loading the round."""
    if status is RoundStatus.DRAFT:
        raise VotingNotOpen("Voting has not opened yet.")
    if status is not RoundStatus.OPEN:
        raise VotingClosed("Voting is closed.")

    def aware(moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)

    if opens_at is not None and now < aware(opens_at):
        raise VotingNotOpen("Voting has not opened yet.")
    if closes_at is not None and now >= aware(closes_at):
        raise VotingClosed("Voting is closed.")


def published_receipts(session: Session, round_id: int) -> list[str]:
    """The round's receipts, sorted, once it has closed (invariant 8); refused before."""
    round_ = get_round(session, round_id)
    if round_.status not in (RoundStatus.CLOSED, RoundStatus.PUBLISHED):
        raise InvalidState(
            "Receipts are published when the round closes.", status=round_.status.value
        )
    return ballot_box.receipts(session, round_id)
