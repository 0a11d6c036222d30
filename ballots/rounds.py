"""Rounds (đợt lấy ý kiến): the campaign, its lifecycle state, threshold k and questionnaire.

The units taking part live in ``ballots.participants``, the heads evaluated in
``ballots.subjects``; moving a round through its lifecycle is ``ballots.lifecycle``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ballots import audit
from ballots.db import Base, str_enum, utcnow
from ballots.errors import InvalidInput, InvalidState, NotFound
from ballots.questionnaire import Questionnaire, default_questionnaire, parse_questionnaire
from ballots.thresholds import MIN_ANONYMITY_THRESHOLD
from ballots.vocabulary import RoundStatus


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
        str_enum(RoundStatus, "round_status"), default=RoundStatus.DRAFT
    )
    opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    anonymity_threshold: Mapped[int] = mapped_column(Integer)
    questionnaire: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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


def find_round_by_title(session: Session, title: str) -> Round | None:
    """The first round with exactly this title, or None (the demo finds its sample by it)."""
    return session.scalar(select(Round).where(Round.title == title).order_by(Round.id).limit(1))


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
