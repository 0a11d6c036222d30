"""The ballot box: the one place ballots are put in and, at close, taken out (invariants 3, 7).

Everything about how a ballot is kept lives here. In a sealed round (one opened with a key
ceremony, :mod:`ballots.key_ceremony`) a ballot is kept only as a sealed box: ratings and
texts together, padded to the round's fixed size and sealed with HPKE to the round's
public key, bound to its round and unit (:mod:`crypto.sealing`). Nothing of its content is
readable until k key holders bring their shares to the close, which opens every box and
writes ballots and texts out as plain rows in random order.

A round opened without a ceremony (every round before sealed boxes existed) keeps its
ballots as plain rows from the start, and closes as it always did.

A plain ballot row is a random UUID, the round, the unit and the ratings: no token, no
time, no sequence, no client data. Each free-text answer is a row of its own with no link
to its ballot or to the other answers.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    Uuid,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from ballots import box_opening, key_ceremony
from ballots.db import Base
from ballots.errors import BoxesUnopened, InvalidBallot
from ballots.questionnaire import HEAD_TEXT_CHARS, Questionnaire
from crypto import sealing

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


class SealedBox(Base):
    """One ballot of a sealed round, ratings and texts together, until the close opens it."""

    __tablename__ = "sealed_boxes"
    # Turnout counts boxes per unit during voting: by index, and the unit is no secret.
    __table_args__ = (Index("ix_sealed_boxes_round_id_unit_id", "round_id", "unit_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    box: Mapped[bytes] = mapped_column(LargeBinary)


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
    sealed_to: tuple[bytes, int] | None,
) -> None:
    """Put one ballot, its free-text answers (subject, question, text) and its receipt in.

    ``sealed_to`` is the round's public key and box size (``BallotForm.sealed_to``): in a
    sealed round the ballot and its texts go in as one sealed box and nothing of them is
    stored in the clear. None for a round opened without a key ceremony.
    """
    if sealed_to is not None:
        public, size = sealed_to
        sealing_key = (_public_key(public), size)
        _put_sealed(session, round_id, unit_id, ratings, texts, receipt, sealing_key)
        return
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


# PostgreSQL: the box and its receipt in one statement, one round trip.
_PUT_SEALED_POSTGRESQL = text(
    "WITH box AS ("
    " INSERT INTO sealed_boxes (id, round_id, unit_id, box)"
    " VALUES (:id, :round_id, :unit_id, :box)"
    ") INSERT INTO receipts (code, round_id) VALUES (:receipt, :round_id)"
)


def _put_sealed(
    session: Session,
    round_id: int,
    unit_id: int,
    ratings: Mapping[str, Sequence[int]],
    texts: Sequence[tuple[int, str, str]],
    receipt: str,
    sealing_key: tuple[sealing.PublicKey, int],
) -> None:
    public, size = sealing_key
    plain = box_opening.encode_ballot(ratings, texts)
    if len(plain) > size - 4:
        # Casting's limits keep every ballot within the size worked out at the opening.
        raise InvalidBallot("The answers are longer than a ballot can be.", field="texts")
    box = sealing.seal(public, plain, size=size, round_id=round_id, unit_id=unit_id)
    values = {"id": uuid.uuid4(), "round_id": round_id, "unit_id": unit_id, "box": box}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_PUT_SEALED_POSTGRESQL, {**values, "receipt": receipt})
        return
    connection.execute(insert(SealedBox).values(**values))
    connection.execute(insert(Receipt).values(code=receipt, round_id=round_id))


def ballot_count(session: Session, round_id: int) -> int:
    """How many ballots the round has, sealed or not (turnout; never their content)."""
    return sum(ballots_per_unit(session, round_id).values())


def ballots_per_unit(session: Session, round_id: int) -> dict[int, int]:
    """Ballots per unit, sealed or opened: a count that voting may show (turnout)."""
    counts: dict[int, int] = {}
    for model in (Ballot, SealedBox):
        rows = session.execute(
            select(model.unit_id, func.count())
            .where(model.round_id == round_id)
            .group_by(model.unit_id)
        )
        for unit_id, n in rows:
            counts[int(unit_id)] = counts.get(int(unit_id), 0) + int(n)
    return counts


# ------------------------------------------------------------------------- sealing


def box_size(questionnaire: Questionnaire, subjects_per_unit: int) -> int:
    """The padded size of every box of a round: the longest ballot its form allows.

    Worked out from ``box_opening.encode_ballot``: each rating at most 3 digits and a comma;
    fixed room for ids, keys and punctuation; and a head's texts, bounded twice. Each text is
    at most 4 UTF-8 bytes a character within its question's limit (JSON escapes only quote,
    backslash and line breaks, 2 bytes each, and casting removes other control characters);
    all of a head's texts together are at most ``HEAD_TEXT_CHARS`` UTF-16 code units, each
    at most 3 bytes (a 4-byte character counts as 2 units). The smaller bound is the size.
    """
    per_subject = 32 + 4 * len(questionnaire.criteria)
    per_subject += sum(32 + 4 * len(q.key) for q in questionnaire.free_text)
    if questionnaire.free_text:
        each_full = sum(4 * q.max_chars for q in questionnaire.free_text)
        per_subject += min(each_full, 3 * HEAD_TEXT_CHARS)
    return 64 + max(1, subjects_per_unit) * per_subject


# Parsing a public key costs more than reading it; parsed keys are kept by their bytes, so
# a key read from any database or round can never be mistaken for another.
_KEYS: OrderedDict[bytes, sealing.PublicKey] = OrderedDict()
_KEYS_LOCK = threading.Lock()
_KEYS_MAX = 64


def _public_key(public: bytes) -> sealing.PublicKey:
    with _KEYS_LOCK:
        key = _KEYS.get(public)
        if key is not None:
            _KEYS.move_to_end(public)
            return key
    key = sealing.load_public_key(public)
    with _KEYS_LOCK:
        _KEYS[public] = key
        while len(_KEYS) > _KEYS_MAX:
            _KEYS.popitem(last=False)
    return key


def _boxes(session: Session, round_id: int, batch: int) -> Iterator[Sequence[Any]]:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # A server-side cursor in binary format: in text format the server writes each box
        # as hex and the driver parses it back, which cost more than opening the boxes.
        raw = connection.connection.driver_connection
        with raw.cursor(name="sealed_boxes_at_close", binary=True) as cursor:  # type: ignore[union-attr]
            cursor.execute("SELECT unit_id, box FROM sealed_boxes WHERE round_id = %s", (round_id,))
            while part := cursor.fetchmany(batch):
                yield part
        return
    query = (
        select(SealedBox.unit_id, SealedBox.box)
        .where(SealedBox.round_id == round_id)
        .execution_options(yield_per=batch)
    )
    yield from session.execute(query).partitions(batch)


def _unseal(session: Session, round_id: int, seed: int) -> dict[str, int]:
    """Open every box of the round and write ballots and texts out; BoxesUnopened if any fails.

    Nothing is written until every box has opened, so a failure leaves the round as it was.
    The opened rows are then written once, each table in its own order drawn from the
    system's cryptographic source, with fresh random ids: the order in which boxes were read
    (casting order, on disk) survives nowhere. So the close's rewrite has nothing left to do
    for these two tables.
    """
    boxes = session.scalar(
        select(func.count()).select_from(SealedBox).where(SealedBox.round_id == round_id)
    )
    opened = box_opening.open_all(seed, round_id, _boxes(session, round_id, 2000), boxes or 0)
    if opened.failed:
        total = opened.failed + len(opened.ballots)
        raise BoxesUnopened(
            "{failed} of {boxes} sealed ballot boxes did not open with the round's key "
            "(altered, or moved to another round or unit). The round stays open; nothing was "
            "changed.",
            params={"failed": opened.failed, "boxes": boxes},
            failed=opened.failed,
            boxes=boxes if boxes is not None else total,
        )
    shuffle = secrets.SystemRandom().shuffle
    shuffle(opened.ballots)
    shuffle(opened.texts)
    session.execute(delete(SealedBox).where(SealedBox.round_id == round_id))
    _write_opened(session, round_id, opened)
    return {"boxes_opened": len(opened.ballots)}


def _write_opened(session: Session, round_id: int, opened: box_opening.Opened) -> None:
    """Write opened ballots and texts in the order given, with fresh random ids."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # COPY: several times faster than INSERT for a million rows, in the same transaction.
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy("COPY ballots (id, round_id, unit_id, ratings) FROM STDIN") as copy:
                for unit_id, ratings in opened.ballots:
                    copy.write_row(
                        (
                            uuid.uuid4(),
                            round_id,
                            unit_id,
                            json.dumps(ratings, separators=(",", ":")),
                        )
                    )
            with cursor.copy(
                "COPY free_text_answers (id, round_id, subject_id, question, text) FROM STDIN"
            ) as copy:
                for subject_id, question, answer in opened.texts:
                    copy.write_row((uuid.uuid4(), round_id, subject_id, question, answer))
        return
    batch = 5000
    for start in range(0, len(opened.ballots), batch):
        connection.execute(
            insert(Ballot),
            [
                {"id": uuid.uuid4(), "round_id": round_id, "unit_id": u, "ratings": r}
                for u, r in opened.ballots[start : start + batch]
            ],
        )
    for start in range(0, len(opened.texts), batch):
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
                for s, q, t in opened.texts[start : start + batch]
            ],
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


def open_box(session: Session, round_id: int, shares: Sequence[str] = ()) -> dict[str, object]:
    """At close: open the sealed boxes, then rewrite ballots and texts in random order.

    A sealed round needs k valid ``shares`` (their text); each is checked against its
    commitment and the key is rebuilt in memory for this call only. A round opened without
    a ceremony needs none.

    Physical order (SQLite rowid, PostgreSQL ctid), the ids seen during voting, and on
    PostgreSQL the transaction id (xmin) that a ballot shared with its texts and its token
    all reflected casting. After this, in the caller's transaction, every row is new, was
    written by the close, in an order drawn from the database's random source. Receipts are
    rewritten sorted, as they are published. Returns the ballot count and the SHA-256 of the
    sorted receipt list (one code per line), for the audit log; for a sealed round also the
    share numbers used and the number of boxes opened.
    """
    sealed: dict[str, object] = {}
    rewritten = _REWRITTEN
    if key_ceremony.box_key(session, round_id) is not None:
        rebuilt = key_ceremony.rebuild(session, round_id, shares)
        sealed = {"shares_used": rebuilt.shares_used, **_unseal(session, round_id, rebuilt.seed)}
        del rebuilt  # the key goes with this frame; nothing else refers to it
        rewritten = {}  # written just now, already in a random order with fresh ids
    dialect = session.get_bind().dialect.name
    new_id = _NEW_ID[dialect]
    for table, (key, columns) in rewritten.items():
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
        **sealed,
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
