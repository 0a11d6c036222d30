"""After a close: leave no deleted ballot content in the database files, and prove it.

The close rewrites the ballot box in its own transaction (ballot_box.open_box); the old
rows are then deleted but not yet gone from the files:
- SQLite overwrites deleted cells itself (secure_delete), but the write-ahead log still
  holds copies of every page written while voting, in casting order. A checkpoint in
  TRUNCATE mode folds the log into the database and empties it, but only when no reader
  still needs the log: it then answers "busy" and leaves everything in place. So the
  answer is read, the checkpoint retried while readers hold the log, and the log file's
  size checked to be zero.
- PostgreSQL keeps dead tuples in the table files until they are rewritten. VACUUM FULL
  writes each table anew under an exclusive lock, which open transactions can hold off;
  it is retried with a lock timeout, and each table's file node checked to have changed.
Neither can run inside a transaction, so this runs after the close has committed. If it
cannot finish in time it says so; it never reports success it did not verify.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ballots import audit
from ballots.db import Base
from ballots.errors import InvalidState
from ballots.rounds import get_round
from ballots.vocabulary import RoundStatus

# How long a scrub keeps retrying before it reports that it could not finish.
DEFAULT_PATIENCE_S = 30.0
# A pause between attempts, so a reader finishing its page has the time to.
RETRY_PAUSE_S = 0.2


@dataclass(frozen=True)
class ScrubResult:
    """What the scrub did: ``done`` only when verified."""

    done: bool
    backend: str
    attempts: int
    detail: str

    def as_payload(self) -> dict[str, object]:
        """The audit log's view of the result."""
        return {
            "done": self.done,
            "backend": self.backend,
            "attempts": self.attempts,
            "detail": self.detail,
        }


def scrub(
    engine: Engine,
    *,
    patience_s: float = DEFAULT_PATIENCE_S,
    pause_s: float = RETRY_PAUSE_S,
) -> ScrubResult:
    """Clear deleted content from the files of ``engine``'s database and verify it."""
    deadline = time.monotonic() + patience_s
    if engine.dialect.name == "sqlite":
        return _scrub_sqlite(engine, deadline, pause_s)
    return _scrub_postgresql(engine, deadline, pause_s)


def _wal_file(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}-wal")


def _scrub_sqlite(engine: Engine, deadline: float, pause_s: float) -> ScrubResult:
    wal = _wal_file(engine)
    attempts = 0
    while True:
        attempts += 1
        remaining_ms = max(100, int((deadline - time.monotonic()) * 1000))
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            # The checkpoint waits for readers through the busy handler: never past the
            # deadline. Outside any transaction: the pool's connections are in autocommit
            # until SQLAlchemy begins one (ballots/db.py).
            cursor.execute(f"PRAGMA busy_timeout={min(remaining_ms, 1000)}")
            row = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.execute("PRAGMA busy_timeout=5000")
        finally:
            raw.close()
        busy, frames, moved = (int(v) for v in row)
        size = wal.stat().st_size if wal is not None and wal.exists() else 0
        if busy == 0 and size == 0:
            return ScrubResult(
                True, "sqlite", attempts, "WAL checkpointed (TRUNCATE) and empty: 0 bytes"
            )
        state = (
            f"checkpoint busy={busy}, frames in log={frames}, checkpointed={moved}, "
            f"log file {size} bytes"
        )
        if time.monotonic() >= deadline:
            return ScrubResult(
                False,
                "sqlite",
                attempts,
                "a reader kept the write-ahead log open; it still holds voting-time pages "
                f"({state})",
            )
        time.sleep(pause_s)


def _tables() -> list[str]:
    import ballots.models  # noqa: F401 - every model registered on the metadata

    return [table.name for table in Base.metadata.sorted_tables]


def _scrub_postgresql(engine: Engine, deadline: float, pause_s: float) -> ScrubResult:
    # Every table of the schema: cheap beside the ballots and tokens, and a table the
    # ballot box gains later is covered without a change here.
    attempts = 0
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = [
            name
            for name in _tables()
            if conn.scalar(text("SELECT to_regclass(:name)"), {"name": name}) is not None
        ]
        node_sql = text("SELECT pg_relation_filenode(CAST(:name AS regclass))")
        before = {name: conn.scalar(node_sql, {"name": name}) for name in tables}
        pending = list(tables)
        while pending:
            attempts += 1
            remaining_ms = max(100, int((deadline - time.monotonic()) * 1000))
            conn.exec_driver_sql(f"SET lock_timeout = {min(remaining_ms, 10_000)}")
            try:
                conn.exec_driver_sql(f'VACUUM FULL "{pending[0]}"')
            except OperationalError as exc:
                # 55P03 lock_not_available: a transaction held the table; wait and retry.
                lock_wait = getattr(exc.orig, "sqlstate", None) == "55P03"
                if not lock_wait or time.monotonic() >= deadline:
                    conn.exec_driver_sql("RESET lock_timeout")
                    return ScrubResult(
                        False,
                        "postgresql",
                        attempts,
                        f"VACUUM FULL did not finish for {', '.join(pending)}: "
                        f"{type(exc.orig).__name__} (an open transaction held the table)",
                    )
                time.sleep(pause_s)
                continue
            pending.pop(0)
        conn.exec_driver_sql("RESET lock_timeout")
        unchanged = [
            name for name in tables if conn.scalar(node_sql, {"name": name}) == before[name]
        ]
    if unchanged:
        return ScrubResult(
            False,
            "postgresql",
            attempts,
            f"VACUUM FULL ran but did not rewrite {', '.join(unchanged)}",
        )
    return ScrubResult(True, "postgresql", attempts, f"VACUUM FULL rewrote {len(tables)} tables")


def require_closed(session: Session, round_id: int) -> None:
    """Refuse to scrub for a round whose ballot box has not been rewritten yet."""
    round_ = get_round(session, round_id)
    if round_.status not in (RoundStatus.CLOSED, RoundStatus.PUBLISHED):
        raise InvalidState(
            "Only a closed round's files are scrubbed: round {round_id} is {status}.",
            params={"round_id": round_id, "status": round_.status.value},
            status=round_.status.value,
        )


def record(session: Session, round_id: int, result: ScrubResult, *, actor: str) -> audit.AuditEntry:
    """Write the result in the audit log: ``round.scrubbed`` or ``round.scrub_failed``."""
    return audit.record(
        session,
        actor=actor,
        action="round.scrubbed" if result.done else "round.scrub_failed",
        payload={"round_id": round_id, **result.as_payload()},
    )


def last_result(session: Session, round_id: int) -> audit.AuditEntry | None:
    """The newest scrub entry of the round in the audit log, if any."""
    entries = session.scalars(
        select(audit.AuditEntry)
        .where(audit.AuditEntry.action.in_(("round.scrubbed", "round.scrub_failed")))
        .order_by(audit.AuditEntry.seq.desc())
    )
    for entry in entries:
        if entry.payload.get("round_id") == round_id:
            return entry
    return None
