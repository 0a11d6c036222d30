"""The ballot box: the one place ballots are put in and, at close, taken out (invariants 3, 7).

Everything about how a ballot is kept lives here, so that sealing ballots under a
committee key later changes this module only. A ballot row is a random UUID, the round,
the unit and the ratings: no token, no time, no sequence, no client data. Each free-text
answer is a row of its own with no link to its ballot or to the other answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import JSON, ForeignKey, String, Text, Uuid, func, insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from ballots.db import Base

# JSONB on PostgreSQL so the tally can unpack ratings in SQL without re-parsing text.
RatingsType = JSON().with_variant(JSONB(), "postgresql")


class Ballot(Base):
    """One voter's ratings of every subject of one unit."""

    __tablename__ = "ballots"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    # {"<subject id>": [value per criterion in questionnaire order]}, 0 = no opinion.
    ratings: Mapped[dict[str, list[int]]] = mapped_column(RatingsType)


class FreeTextAnswer(Base):
    """One free-text answer about one subject, unlinked from its ballot."""

    __tablename__ = "free_text_answers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)


class Receipt(Base):
    """A receipt code of an accepted ballot; no link to ballot or token (invariant 8)."""

    __tablename__ = "receipts"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)


def put(
    session: Session,
    *,
    round_id: int,
    unit_id: int,
    ratings: Mapping[str, Sequence[int]],
    texts: Sequence[tuple[int, str, str]],
    receipt: str,
) -> None:
    """Put one ballot, its free-text answers (subject, question, text) and its receipt in."""
    session.execute(
        insert(Ballot).values(
            id=uuid.uuid4(),
            round_id=round_id,
            unit_id=unit_id,
            ratings={k: list(v) for k, v in ratings.items()},
        )
    )
    if texts:
        session.execute(
            insert(FreeTextAnswer),
            [
                {
                    "id": uuid.uuid4(),
                    "round_id": round_id,
                    "subject_id": s,
                    "question": q,
                    "text": t,
                }
                for s, q, t in texts
            ],
        )
    session.execute(insert(Receipt).values(code=receipt, round_id=round_id))


def ballot_count(session: Session, round_id: int) -> int:
    """How many ballots the round has (turnout; never their content)."""
    return int(
        session.scalar(select(func.count()).select_from(Ballot).where(Ballot.round_id == round_id))
        or 0
    )
