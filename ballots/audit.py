"""The hash-chained audit log of admin actions and report views (invariant 9)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import JSON, Integer, String, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ballots.db import Base, utcnow
from crypto.audit_chain import ChainVerdict, next_record, utc_timestamp, verify_chain


class AuditEntry(Base):
    """One entry; ``at`` is kept as the exact string that was hashed."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


def _lock_chain(session: Session) -> None:
    # Two admins acting at once must not both append after the same head. PostgreSQL: a
    # transaction-scoped advisory lock. SQLite: writers are already serialised by the file
    # lock, and a clash on the primary key fails the second transaction rather than forking.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7061736)"))


def record(
    session: Session, *, actor: str, action: str, payload: Mapping[str, object]
) -> AuditEntry:
    """Append an entry in the caller's transaction; the payload never holds a token or ballot."""
    _lock_chain(session)
    previous = session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    made = next_record(
        previous, at=utc_timestamp(utcnow()), actor=actor, action=action, payload=dict(payload)
    )
    entry = AuditEntry(
        seq=made.seq,
        at=made.at,
        actor=made.actor,
        action=made.action,
        payload=dict(made.payload),
        prev_hash=made.prev_hash,
        hash=made.hash,
    )
    session.add(entry)
    session.flush()
    return entry


def head(session: Session) -> tuple[int, str] | None:
    """The newest entry's (seq, hash): what is written on the minutes."""
    row = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def entries(session: Session, after: int = 0, limit: int = 500) -> list[AuditEntry]:
    """Entries with seq > ``after``, oldest first."""
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit)
        )
    )


def entries_for(session: Session, actions: tuple[str, ...]) -> list[AuditEntry]:
    """Entries with one of ``actions``, oldest first."""
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.seq)
        )
    )


def search(
    session: Session,
    *,
    action: str | None = None,
    round_id: int | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Entries newest first, optionally of one action and about one round, below ``before``."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    if round_id is not None:
        query = query.where(AuditEntry.payload["round_id"].as_integer() == round_id)
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    return list(session.scalars(query))


def actions(session: Session) -> list[str]:
    """The actions present in the log, for a filter's choices."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def _all(session: Session) -> Iterator[AuditEntry]:
    yield from session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000)


def verify(session: Session, expected_head: tuple[int, str] | None = None) -> ChainVerdict:
    """Check the whole chain, optionally against a head written down earlier."""
    return verify_chain(_all(session), expected_head=expected_head)


def parse_head(value: str) -> tuple[int, str]:
    """Read 'SEQ:HASH' as written on the minutes."""
    from ballots.errors import InvalidInput

    seq_text, _, hash_text = value.strip().partition(":")
    # isdigit() alone accepts digits int() refuses ("²"); ten digits cover any real log.
    digits_ok = seq_text.isascii() and seq_text.isdigit() and len(seq_text) <= 10
    hex_ok = len(hash_text) == 64 and all(c in "0123456789abcdefABCDEF" for c in hash_text)
    if not digits_ok or not hex_ok:
        raise InvalidInput("A head is written SEQ:HASH, e.g. 12:3fa9... (64 hex digits).")
    return int(seq_text), hash_text.lower()
