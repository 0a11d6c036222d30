"""The cast bench's round, request bodies, and the app's own cast transaction for pgbench."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from ballots import casting, lifecycle, rounds, tokens, units
from ballots.db import transaction
from ballots.participants import set_round_units
from ballots.subjects import import_subjects
from ballots.units import MAX_ELECTORATE
from ballots.vocabulary import UnitKind

DATA = Path(__file__).resolve().parents[1] / "app" / "demo_data"
ACTOR = "bench"
TEXT = "Gương mẫu, gần dân, giải quyết công việc nhanh và đúng hẹn."


@dataclass
class Ward:
    """A ward taking part: what a request body needs."""

    code: str
    unit_id: int
    subject_ids: list[int]
    criteria: list[str]


@dataclass
class Setup:
    """The open round, its wards, and unused tokens for each use."""

    round_id: int
    wards: list[Ward]
    tokens: dict[str, list[str]]
    pgbench_batches: list[tuple[int, int]]  # (batch id, unit id), one a ward


def answers(ward: Ward, i: int) -> dict[str, Any]:
    """Every criterion of every head rated 1-4 (varying), one free text for the first head."""
    value = 1 + i % 4
    return {
        "ratings": {str(s): dict.fromkeys(ward.criteria, value) for s in ward.subject_ids},
        "texts": {str(ward.subject_ids[0]): {"strengths": f"{TEXT} ({i})"}},
    }


def _issue(session: Session, round_id: int, code: str, count: int) -> list[str]:
    plain: list[str] = []
    while len(plain) < count:
        size = min(tokens.MAX_BATCH, count - len(plain))
        plain += tokens.issue_tokens(session, round_id, code, size, actor=ACTOR).tokens
    return plain


# The sealed round's key holders (five shares, three needed: the default ceremony).
HOLDERS = ["An", "Bình", "Cường", "Dung", "Em"]


def set_up(
    factory: sessionmaker[Session], counts: dict[str, int], *, sealed: bool = False
) -> Setup:
    """The Long Biên wards in an open round, with ``counts[use]`` tokens for each use.

    ``sealed`` opens the round with a key ceremony, so its ballots are kept as sealed boxes.
    """
    with transaction(factory) as session:
        if not units.list_units(session):
            units.import_units(session, (DATA / "long_bien_units.csv").read_bytes(), actor=ACTOR)
        round_ = rounds.create_round(
            session,
            title="Đợt đo bỏ phiếu kín" if sealed else "Đợt đo bỏ phiếu",
            year=2026,
            anonymity_threshold=5,
            actor=ACTOR,
        )
        import_subjects(
            session, round_.id, (DATA / "long_bien_subjects.csv").read_bytes(), actor=ACTOR
        )
        codes = [u.code for u in units.list_units(session) if u.kind is UnitKind.WARD]
        set_round_units(session, round_.id, [(c, MAX_ELECTORATE) for c in codes], actor=ACTOR)
        by_use: dict[str, list[str]] = {}
        for use, count in counts.items():
            per_ward = [_issue(session, round_.id, c, -(-count // len(codes))) for c in codes]
            # Ward by ward in turn, so that concurrent casts hit every ward.
            by_use[use] = [t for row in zip(*per_ward, strict=True) for t in row][:count]
        pgbench = [tokens.issue_tokens(session, round_.id, c, 1, actor=ACTOR).batch for c in codes]
        lifecycle.open_round(
            session, round_.id, actor=ACTOR, key_holders=HOLDERS if sealed else None
        )
        round_id = round_.id
        pgbench_batches = [(b.id, b.unit_id) for b in pgbench]
    wards = []
    with factory() as session:
        first = by_use[next(iter(counts))]
        for k, code in enumerate(codes):
            form = casting.preview(session, first[k])
            unit_id = session.scalar(select(units.Unit.id).where(units.Unit.code == code))
            assert unit_id is not None
            wards.append(
                Ward(
                    code=code,
                    unit_id=unit_id,
                    subject_ids=[s.id for s in form.subjects],
                    criteria=[c.key for c in form.questionnaire.criteria],
                )
            )
    return Setup(round_id, wards, by_use, pgbench_batches)


def write_bodies(setup: Setup, plain: Sequence[str], path: Path, offset: int = 0) -> Path:
    """One JSON body a line (UTF-8); ``plain`` starts at ``offset`` of its use's tokens."""
    wards = setup.wards
    with path.open("w", encoding="utf-8") as handle:
        for k, token in enumerate(plain, start=offset):
            body = {"token": token, "answers": answers(wards[k % len(wards)], k)}
            handle.write(json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path


def ballots_stored(engine: Engine, round_id: int) -> int:
    """Ballots of the round in the database now, plain or sealed."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM ballots WHERE round_id = :r)"
                    " + (SELECT count(*) FROM sealed_boxes WHERE round_id = :r)"
                ),
                {"r": round_id},
            ).scalar_one()
        )


def receipts_found(engine: Engine, round_id: int, codes: Sequence[str]) -> int:
    """How many of ``codes`` the round's receipts hold."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM receipts WHERE round_id = :r AND code = ANY(:codes)"),
                {"r": round_id, "codes": list(codes)},
            ).scalar_one()
        )


# --- the app's cast transaction, captured, as a pgbench script ----------------------------

PARAM = re.compile(r"%\((\w+)\)s")
# The slip: pgbench has no plain token, so its tokens are sha256('castbench-<n>').
SLIP_HASH_SQL = "sha256(convert_to('castbench-' || CAST(:n AS text), 'UTF8'))"


@contextmanager
def capturing(engine: Engine) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every statement (and its parameters) the engine sends inside the block."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, dict(parameters or {})))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _literal(value: Any) -> str:
    """A parameter's value as PostgreSQL's text input for it."""
    value = getattr(value, "obj", value)  # psycopg's Binary wrapper
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, list):
        quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in value)
        return "{" + ",".join(f'"{v}"' for v in quoted) + "}"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(getattr(value, "value", value))


def pgbench_script(
    statements: Sequence[tuple[str, dict[str, Any]]], pre_ping: bool
) -> tuple[str, dict[str, str]]:
    r"""The captured statements as a pgbench transaction, and its -D variables.

    A value that must differ per transaction is made by PostgreSQL: the token hash (from
    the sequence number n), the receipt code (16 hex digits of md5(n), so that no two
    collide), new UUIDs and the time. The statements that read the form are left out: the
    app has them cached after a round's first casts. The redeem's RETURNING row is \gset,
    so the ballot lands in the unit that the slip belongs to, as in the app.
    """
    variables: dict[str, str] = {}
    lines = [
        "-- Written by bench/bench_cast.py from the statements the app sent for one cast",
        "-- (captured with a before_cursor_execute listener); run with -M prepared and the -D",
        "-- variables of pgbench_command.txt, which it writes. Per-transaction values (hash of n,",
        "-- receipt, ids, time) are made by PostgreSQL. The nextval is one more round trip.",
        "SELECT nextval('castbench_seq') AS n \\gset",
        "BEGIN;",
    ]
    if pre_ping:
        lines.append("SELECT 1;  -- the pool's ping at checkout (the app pings idle ones only)")

    def substitute(match: re.Match[str], params: dict[str, Any]) -> str:
        name = match.group(1)
        value = params[name]
        if name == "hash":
            return SLIP_HASH_SQL
        if name == "receipt":
            return "upper(substr(md5('receipt-' || CAST(:n AS text)), 1, 16))"
        if name == "now":
            return "now()"
        if name == "id":
            return "gen_random_uuid()"
        if name == "texts":
            # The texts' JSON, rebuilt by PostgreSQL so that each row gets a fresh id.
            items = []
            for k, item in enumerate(json.loads(value)):
                for field in ("subject_id", "question", "text"):
                    variables[f"text{k}_{field}"] = str(item[field])
                items.append(
                    "json_build_object('id', gen_random_uuid(), "
                    f"'subject_id', CAST(:text{k}_subject_id AS integer), "
                    f"'question', CAST(:text{k}_question AS text), "
                    f"'text', CAST(:text{k}_text AS text))"
                )
            return "json_build_array(" + ", ".join(items) + ")"
        if isinstance(value, UUID):
            return "gen_random_uuid()"
        if isinstance(value, list) and value and all(isinstance(v, UUID) for v in value):
            return "ARRAY[" + ", ".join("gen_random_uuid()" for _ in value) + "]"
        if name in ("round_id", "unit_id"):
            return f":{name}"  # \gset from the redeem's RETURNING
        variables[name] = _literal(value)
        return f":{name}"

    for statement, params in statements:
        if statement.lstrip().upper().startswith("SELECT"):
            continue
        sql = PARAM.sub(lambda m, p=params: substitute(m, p), statement)  # type: ignore[misc]
        sql = " ".join(sql.split())
        if "RETURNING" in sql and "UPDATE tokens" in sql:
            lines.append(sql + " \\gset")
        else:
            lines.append(sql + ";")
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n", variables


PGBENCH_TOKENS_SQL = """
    INSERT INTO tokens (token_hash, round_id, unit_id, batch_id, used)
    SELECT sha256(convert_to('castbench-' || g, 'UTF8')), :round_id, b.unit_id, b.batch_id,
           false
    FROM generate_series(1, :n) AS g
    JOIN unnest(CAST(:batch_ids AS integer[]), CAST(:unit_ids AS integer[]))
         WITH ORDINALITY AS b(batch_id, unit_id, k) ON b.k = 1 + g % :wards
"""


def add_pgbench_tokens(factory: sessionmaker[Session], setup: Setup, count: int) -> None:
    """Tokens sha256('castbench-<n>'), n = 1..count, spread over one batch a ward."""
    with transaction(factory) as session:
        session.execute(
            text(PGBENCH_TOKENS_SQL),
            {
                "round_id": setup.round_id,
                "n": count,
                "batch_ids": [b for b, _ in setup.pgbench_batches],
                "unit_ids": [u for _, u in setup.pgbench_batches],
                "wards": len(setup.pgbench_batches),
            },
        )
        session.execute(text("DROP SEQUENCE IF EXISTS castbench_seq"))
        session.execute(text("CREATE SEQUENCE castbench_seq"))
