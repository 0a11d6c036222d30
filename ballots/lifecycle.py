"""The round's lifecycle, enforced here and nowhere else: draft -> open -> closed -> published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ballots import audit, ballot_box
from ballots.db import utcnow
from ballots.errors import InvalidState, VotingClosed, VotingNotOpen
from ballots.participants import RoundUnit
from ballots.rounds import Round, get_round
from ballots.tokens import Token, TokenBatch
from ballots.vocabulary import RoundStatus

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
) -> Transition:
    round_ = _lock(session, round_id)
    if TRANSITIONS.get(round_.status) is not target:
        raise InvalidState(
            "Cannot make the round {target}: it is {status}.",
            params={"target": target.value, "status": round_.status.value},
            status=round_.status.value,
        )
    round_.status = target
    session.flush()
    if target is RoundStatus.CLOSED:
        # Anchor what was counted in the hash chain: the number of ballots and a digest of
        # the receipts about to be published.
        extra = {**(extra or {}), **ballot_box.open_box(session, round_id)}
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
    return Transition(round=round_, head_seq=entry.seq, head_hash=entry.hash)


def open_round(session: Session, round_id: int, *, actor: str) -> Transition:
    """Open voting; needs a unit with live slips. Questionnaire, units and k are then frozen."""
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
    return _move(session, round_id, RoundStatus.OPEN, actor)


def close_round(session: Session, round_id: int, *, actor: str) -> Transition:
    """Close voting for good and rewrite the ballot box (invariant 7), in one transaction.

    Call ``scrub.scrub`` after the commit to clear deleted content from the files.
    """
    return _move(session, round_id, RoundStatus.CLOSED, actor)


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
