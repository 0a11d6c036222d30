"""The ballot box: the one place ballots are put in and, at close, taken out (invariants 3, 7).

Everything about how a ballot is kept lives here, so that sealing ballots under a
committee key later changes this module only. A ballot row is a random UUID, the round,
the unit and the ratings: no token, no time, no sequence, no client data. Each free-text
answer is a row of its own with no link to its ballot or to the other answers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    Uuid,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from ballots.db import Base

# JSONB on PostgreSQL so the tally can unpack ratings in SQL without re-parsing text.
RatingsType = JSON().with_variant(JSONB(), "postgresql")


class Ballot(Base):
    """One voter's ratings of every subject of one unit."""

    __tablename__ = "ballots"
    # A subject's report counts the ballots of its unit: found by index, never by scanning.
    __table_args__ = (Index("ix_ballots_round_id_unit_id", "round_id", "unit_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
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


# PostgreSQL: the ballot, its texts and its receipt in one statement, one round trip. The
# texts travel as one JSON array (a string is far cheaper for the driver to send than
# parallel arrays). psycopg prepares the statement on each connection after a few uses.
_PUT_POSTGRESQL = text(
    "WITH ballot AS ("
    " INSERT INTO ballots (id, round_id, unit_id, ratings)"
    " VALUES (CAST(:id AS UUID), :round_id, :unit_id, CAST(:ratings AS JSONB))"
    "), answers AS ("
    " INSERT INTO free_text_answers (id, round_id, subject_id, question, text)"
    " SELECT t.id, :round_id, t.subject_id, t.question, t.text"
    " FROM json_to_recordset(CAST(:texts AS JSON))"
    " AS t(id UUID, subject_id INTEGER, question VARCHAR, text TEXT)"
    ") INSERT INTO receipts (code, round_id) VALUES (:receipt, :round_id)"
)


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
    connection = session.connection()
    ballot = {k: list(v) for k, v in ratings.items()}
    if connection.dialect.name == "postgresql":
        connection.execute(
            _PUT_POSTGRESQL,
            {
                "id": str(uuid.uuid4()),
                "round_id": round_id,
                "unit_id": unit_id,
                "ratings": json.dumps(ballot, separators=(",", ":")),
                "texts": json.dumps(
                    [
                        {"id": str(uuid.uuid4()), "subject_id": s, "question": q, "text": t}
                        for s, q, t in texts
                    ],
                    ensure_ascii=False,
                ),
                "receipt": receipt,
            },
        )
        return
    connection.execute(
        insert(Ballot).values(id=uuid.uuid4(), round_id=round_id, unit_id=unit_id, ratings=ballot)
    )
    if texts:
        connection.execute(
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
    connection.execute(insert(Receipt).values(code=receipt, round_id=round_id))


def ballot_count(session: Session, round_id: int) -> int:
    """How many ballots the round has (turnout; never their content)."""
    return int(
        session.scalar(select(func.count()).select_from(Ballot).where(Ballot.round_id == round_id))
        or 0
    )


# Fresh random ids made by the database itself, from its cryptographic source: on SQLite
# randomblob() (ChaCha20), shaped as a version-4 UUID in the 32-hex-digit form that
# SQLAlchemy's Uuid type stores there; on PostgreSQL gen_random_uuid().
_NEW_ID = {
    "sqlite": (
        "lower(hex(randomblob(4)) || hex(randomblob(2)) || '4' || substr(hex(randomblob(2)), 2)"
        " || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2)"
        " || hex(randomblob(6)))"
    ),
    "postgresql": "gen_random_uuid()",
}

# Each table rewritten at close: its columns, all copied except the id, which is new.
_REWRITTEN = {
    "ballots": ("id", "round_id, unit_id, ratings"),
    "free_text_answers": ("id", "round_id, subject_id, question, text"),
}


def open_box(session: Session, round_id: int) -> dict[str, object]:
    """At close: rewrite the round's ballots and texts as fresh rows in random order.

    Physical order (SQLite rowid, PostgreSQL ctid), the ids seen during voting, and on
    PostgreSQL the transaction id (xmin) that a ballot shared with its texts and its token
    all reflected casting. After this, in the caller's transaction, every row is new, was
    written by the close, in an order drawn from the database's random source. Receipts are
    rewritten sorted, as they are published. Returns the ballot count and the SHA-256 of the
    sorted receipt list (one code per line), for the audit log.
    """
    dialect = session.get_bind().dialect.name
    new_id = _NEW_ID[dialect]
    for table, (key, columns) in _REWRITTEN.items():
        session.execute(text("DROP TABLE IF EXISTS shuffled"))
        session.execute(
            text(
                f"CREATE TEMPORARY TABLE shuffled AS SELECT {new_id} AS {key}, {columns} "
                f"FROM {table} WHERE round_id = :round_id"
            ),
            {"round_id": round_id},
        )
        session.execute(
            text(f"DELETE FROM {table} WHERE round_id = :round_id"), {"round_id": round_id}
        )
        session.execute(
            text(
                f"INSERT INTO {table} ({key}, {columns}) "
                f"SELECT {key}, {columns} FROM shuffled ORDER BY {key}"
            )
        )
        session.execute(text("DROP TABLE shuffled"))
    session.execute(text("DROP TABLE IF EXISTS sorted_receipts"))
    session.execute(
        text(
            "CREATE TEMPORARY TABLE sorted_receipts AS "
            "SELECT code, round_id FROM receipts WHERE round_id = :round_id"
        ),
        {"round_id": round_id},
    )
    session.execute(text("DELETE FROM receipts WHERE round_id = :round_id"), {"round_id": round_id})
    session.execute(
        text(
            "INSERT INTO receipts (code, round_id) SELECT code, round_id FROM sorted_receipts "
            "ORDER BY code"
        )
    )
    session.execute(text("DROP TABLE sorted_receipts"))
    session.expire_all()
    published = "\n".join(receipts(session, round_id))
    return {
        "ballots": ballot_count(session, round_id),
        "receipts_sha256": hashlib.sha256(published.encode()).hexdigest(),
    }


def receipts(session: Session, round_id: int) -> list[str]:
    """The round's receipts, sorted (published when the round closes)."""
    return list(
        session.scalars(
            select(Receipt.code).where(Receipt.round_id == round_id).order_by(Receipt.code)
        )
    )


def receipt_published(session: Session, round_id: int, code: str) -> bool:
    """Whether ``code`` (canonical) is in the round's published receipt list."""
    return (
        session.scalar(
            select(Receipt.code).where(Receipt.round_id == round_id, Receipt.code == code)
        )
        is not None
    )
