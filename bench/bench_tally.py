"""Benchmark: the tally of a round with N ballots on PostgreSQL.

Usage: .venv/bin/python bench/bench_tally.py [--ballots 1000000] [--keep]
            [--data DIR] [--server postgresql+psycopg://postgres@127.0.0.1:5432] [--runs 3]

Creates a throwaway database (phieukin_bench_<random>) on the server, migrates it, sets a
round up with the services (the Long Biên units and subjects, all 59 units taking part with
an electorate of 100,000 each), then bulk-loads N ballots in one INSERT ... SELECT spread
over the units in proportion to their electorate. That is load generation, not the cast
path. It then times, each --runs times (min and median) unless said otherwise:

  (b) tally.ballots_per_unit, while the round is open;
  (j) for the record, the tally as it ran before the close kept counts: the GROUP BY that
      unpacks every ballot's JSON, whole round;
  then closes the round once (lifecycle.close_round: the close-time rewrite of invariant 7
  and now the counting of the ballots, whose statements are timed apart), and scrubs once
  (scrub.scrub: VACUUM FULL), then
  (a) tally.criterion_counts for the whole round, from the counts the close kept,
  (a1) the same for one unit (a ward's, as a head's report asks),
  (j') the JSON GROUP BY again, whole round and one unit, for the record,
  (c) reports.round_results for an admin,
  (d) reports.subject_report of a ward subject.

It checks that (a) equals the JSON GROUP BY's counts. EXPLAIN (ANALYZE, BUFFERS) of both
is written to the temporary directory (/tmp). The database is dropped at the end, even on
failure, unless --keep is given. Target (DESIGN.md): 1,000,000 ballots aggregated in under
1 s. The figures go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from app import migrations
from ballots import (
    accounts,
    lifecycle,
    participants,
    reports,
    rounds,
    scrub,
    subjects,
    tally,
    tokens,
    units,
)
from ballots.db import make_engine, make_session_factory, transaction
from ballots.participants import RoundUnit
from ballots.questionnaire import parse_questionnaire
from ballots.subjects import Subject
from ballots.units import MAX_ELECTORATE
from ballots.vocabulary import Role, UserRole

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / "app" / "demo_data"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
TARGET_SECONDS = 1.0
TARGET_BALLOTS = 1_000_000
ACTOR = "bench"

# One ballot per generated row: for each subject of the row's unit, one value 0-4 per
# criterion (0 = no opinion), drawn by the database. The inner subquery refers to s.id so
# that it is run again for every subject of every ballot rather than once for the statement.
LOAD_SQL = """
    INSERT INTO ballots (id, round_id, unit_id, ratings)
    SELECT gen_random_uuid(), :round_id, a.unit_id, r.ratings
    FROM unnest(CAST(:unit_ids AS integer[]), CAST(:counts AS integer[])) AS a(unit_id, n)
    CROSS JOIN LATERAL generate_series(1, a.n) AS g(i)
    CROSS JOIN LATERAL (
        SELECT jsonb_object_agg(
            s.id::text,
            (SELECT jsonb_agg(floor(random() * 5)::int)
             FROM generate_series(1, :criteria) AS c(k) WHERE s.id > 0)
        ) AS ratings
        FROM subjects AS s
        WHERE s.round_id = :round_id AND s.unit_id = a.unit_id AND g.i > 0
    ) AS r
"""


# The tally as it ran until the close kept counts (the same counting now runs once, at the
# close: ballots.tally): kept here only to time it beside the new one.
JSON_TALLY_SQL = """
    SELECT s.key::int AS subject_id, (c.position - 1)::int AS position,
           c.value::int AS value, count(*) AS n
    FROM ballots AS b
    CROSS JOIN LATERAL jsonb_object_keys(b.ratings) AS s(key)
    CROSS JOIN LATERAL jsonb_array_elements_text(b.ratings -> s.key) WITH ORDINALITY
        AS c(value, position)
    WHERE b.round_id = :round_id {unit_filter}
    GROUP BY 1, 2, 3
"""


def json_tally(session: Session, round_id: int, unit_id: int | None = None) -> tally.Counts:
    """The JSON GROUP BY's counts, as the tally returned them (one unit with JIT off)."""
    params = {"round_id": round_id}
    if unit_id is not None:
        params["unit_id"] = unit_id
        session.execute(text("SET LOCAL jit = off"))
    sql = JSON_TALLY_SQL.format(unit_filter="AND b.unit_id = :unit_id" if unit_id else "")
    counts: tally.Counts = {}
    for subject_id, position, value, n in session.execute(text(sql), params):
        counts.setdefault(subject_id, {}).setdefault(position, {})[value] = n
    return counts


def plain(counts: tally.Counts) -> dict[int, dict[int, dict[int, int]]]:
    """Counts as plain nested dicts, for comparing."""
    return {s: {p: dict(v) for p, v in per.items()} for s, per in counts.items()}


class StatementClock:
    """Seconds spent in the statements of ``engine`` whose SQL holds one of ``marks``."""

    def __init__(self, engine: Engine, marks: tuple[str, ...]) -> None:
        self.seconds = 0.0
        self.statements = 0
        self._marks = marks
        self._start: float | None = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self._start = time.perf_counter() if any(m in statement for m in self._marks) else None

    def _after(self, *_: object) -> None:
        if self._start is not None:
            self.seconds += time.perf_counter() - self._start
            self.statements += 1
            self._start = None


class Timings:
    """The rows of the results table, printed as they come and again at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, list[float]]] = []

    def add(self, operation: str, ballots: int, seconds: list[float]) -> None:
        self.rows.append((operation, ballots, seconds))
        print(f"  {operation}: " + ", ".join(f"{s:.3f} s" for s in seconds), flush=True)

    def table(self) -> str:
        head = f"| {'operation':<52} | {'ballots':>9} | {'runs':>4} | {'min s':>8} | "
        head += f"{'median s':>8} | {'ballots/s':>12} |"
        lines = [head, "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"]
        for operation, ballots, seconds in self.rows:
            low, mid = min(seconds), statistics.median(seconds)
            rate = f"{ballots / mid:,.0f}" if mid > 0 else "-"
            lines.append(
                f"| {operation:<52} | {ballots:>9,} | {len(seconds):>4} | {low:>8.3f} | "
                f"{mid:>8.3f} | {rate:>12} |"
            )
        return "\n".join(lines)


def timed(runs: int, action: Callable[[], object]) -> list[float]:
    """Wall-clock seconds of ``runs`` calls of ``action``."""
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return seconds


def allocate(total: int, weights: dict[int, int]) -> dict[int, int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), keys in order."""
    whole = sum(weights.values())
    shares = {k: total * w // whole for k, w in weights.items()}
    left = total - sum(shares.values())
    by_remainder = sorted(weights, key=lambda k: (-(total * weights[k] % whole), k))
    for k in by_remainder[:left]:
        shares[k] += 1
    return shares


def set_up_round(factory: sessionmaker[Session], data: Path) -> tuple[int, int]:
    """Units, an admin, a round with its subjects and all units taking part; (round, admin)."""
    with transaction(factory) as session:
        units.import_units(session, (data / "long_bien_units.csv").read_bytes(), actor=ACTOR)
        admin = accounts.create_user(
            session,
            username="bench-admin",
            full_name="Bench Admin",
            role=UserRole.ADMIN,
            password=None,
            actor=ACTOR,
        )
        round_ = rounds.create_round(
            session, title="Đợt đo hiệu năng", year=2026, anonymity_threshold=5, actor=ACTOR
        )
        subjects.import_subjects(
            session, round_.id, (data / "long_bien_subjects.csv").read_bytes(), actor=ACTOR
        )
        codes = [u.code for u in units.list_units(session)]
        participants.set_round_units(
            session, round_.id, [(c, MAX_ELECTORATE) for c in codes], actor=ACTOR
        )
        # Opening needs live slips somewhere; one token (no PDF) is enough.
        tokens.issue_tokens(session, round_.id, codes[0], 1, actor=ACTOR)
        lifecycle.open_round(session, round_.id, actor=ACTOR, key_holders=None)
        return round_.id, admin.id


def load_ballots(factory: sessionmaker[Session], round_id: int, count: int) -> int:
    """Insert ``count`` ballots in one statement; returns the number of units used."""
    with transaction(factory) as session:
        electorates = dict(
            session.execute(
                select(RoundUnit.unit_id, RoundUnit.electorate)
                .where(RoundUnit.round_id == round_id)
                .order_by(RoundUnit.unit_id)
            ).all()
        )
        shares = allocate(count, electorates)
        criteria = len(rounds.get_questionnaire(session, round_id).criteria)
        session.execute(
            text(LOAD_SQL),
            {
                "round_id": round_id,
                "unit_ids": list(shares),
                "counts": list(shares.values()),
                "criteria": criteria,
            },
        )
        return len(shares)


def maintenance(engine: Engine, statement: str) -> float:
    """Run ``statement`` outside a transaction (VACUUM, ANALYZE); returns its seconds."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        start = time.perf_counter()
        conn.exec_driver_sql(statement)
        return time.perf_counter() - start


def explain(engine: Engine, sql: str, round_id: int, path: Path, title: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of ``sql`` for the round, written to ``path``."""
    with engine.connect() as conn:
        plan = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql), {"round_id": round_id})
        body = "\n".join(row[0] for row in plan)
        conn.rollback()
    path.write_text(f"-- {title}\n{sql}\n\n{body}\n")
    print(f"EXPLAIN (ANALYZE, BUFFERS) of {title} written to {path}")
    for line in body.splitlines():
        if any(k in line for k in ("Workers Launched", "Memoize", "Aggregate", "Execution Time")):
            print("  " + line.strip())
    return body


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other work on the machine skews timings)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def autovacuum_busy(engine: Engine, database: str) -> bool:
    """Whether an autovacuum worker is at work in the bench database right now."""
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE backend_type = 'autovacuum worker' AND datname = :db"
                ),
                {"db": database},
            )
        )


def run(url: str, data: Path, count: int, runs: int, database: str) -> bool:
    """The benchmark proper; True when the whole-round tally met the target."""
    migrations.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    results = Timings()
    try:
        with engine.connect() as conn:
            version = conn.scalar(text("SHOW server_version"))
            workers = conn.scalar(text("SHOW max_parallel_workers_per_gather"))
            work_mem = conn.scalar(text("SHOW work_mem"))
            jit = conn.scalar(text("SHOW jit"))
        print(f"PostgreSQL {version}, {os.cpu_count()} cores on this machine")
        print(f"server: max_parallel_workers_per_gather={workers}, work_mem={work_mem}, jit={jit}")
        print(f"database {database}, {count:,} ballots, {runs} runs each")
        print(f"load average at start: {load_average()}\n", flush=True)

        start = time.perf_counter()
        round_id, admin_id = set_up_round(factory, data)
        print(f"setup with the services: {time.perf_counter() - start:.3f} s")

        print("loading ballots...", flush=True)
        start = time.perf_counter()
        unit_count = load_ballots(factory, round_id, count)
        results.add("load: INSERT ... SELECT (one statement)", count, [time.perf_counter() - start])
        results.add("load: ANALYZE ballots", count, [maintenance(engine, "ANALYZE ballots")])
        with engine.connect() as conn:
            size = conn.scalar(text("SELECT pg_size_pretty(pg_table_size('ballots'))"))
            rows = conn.scalar(
                text(
                    "SELECT count(*) FROM ballots AS b, jsonb_each(b.ratings) AS s "
                    "WHERE b.round_id = :r"
                ),
                {"r": round_id},
            )
        print(f"ballots table {size}, {unit_count} units, {rows:,} subject ratings\n")

        with factory() as session:
            expected = count
            got = sum(tally.ballots_per_unit(session, round_id).values())
            assert got == expected, f"loaded {got} ballots, expected {expected}"
            admin = session.get(accounts.User, admin_id)
            assert admin is not None
            ward_subject, ward_unit = session.execute(
                select(Subject.id, Subject.unit_id)
                .where(Subject.round_id == round_id, Subject.role == Role.WARD_CHAIRPERSON)
                .order_by(Subject.id)
                .limit(1)
            ).one()
            positions = len(
                parse_questionnaire(rounds.get_round(session, round_id).questionnaire).criteria
            )
            unit_ballots = tally.ballots_per_unit(session, round_id)[ward_unit]

        def per_unit() -> None:
            with transaction(factory) as session:
                tally.ballots_per_unit(session, round_id)

        def by_json(unit_id: int | None = None) -> Callable[[], object]:
            def action() -> None:
                with transaction(factory) as session:
                    json_tally(session, round_id, unit_id)

            return action

        print("measuring (open round)...", flush=True)
        results.add("(b) tally.ballots_per_unit", count, timed(runs, per_unit))
        results.add(
            "(j) JSON GROUP BY (the tally before), whole round", count, timed(runs, by_json())
        )

        print("closing...", flush=True)
        # The counting's statements: the JSON GROUP BY (a SELECT) and the insert of its rows.
        counting = StatementClock(engine, ("jsonb_object_keys", "INSERT INTO criterion_counts"))
        start = time.perf_counter()
        with transaction(factory) as session:
            lifecycle.close_round(session, round_id, actor=ACTOR)
        closed = time.perf_counter() - start
        results.add("lifecycle.close_round (rewrite, count, commit)", count, [closed])
        results.add(
            f"  of which counting ({counting.statements} statements)", count, [counting.seconds]
        )
        start = time.perf_counter()
        scrub.scrub(engine)
        results.add("scrub.scrub (VACUUM FULL)", count, [time.perf_counter() - start])
        with engine.connect() as conn:
            kept = conn.scalar(
                text("SELECT count(*) FROM criterion_counts WHERE round_id = :r"), {"r": round_id}
            )
        print(f"criterion_counts: {kept:,} rows for the round")

        with factory() as session:
            new = plain(tally.criterion_counts(session, round_id))
            assert new == plain(json_tally(session, round_id)), "kept counts differ from JSON"
            one = plain(tally.criterion_counts(session, round_id, unit_id=ward_unit))
            assert one == plain(json_tally(session, round_id, ward_unit)), "one unit differs"
            session.rollback()
        print("check: the kept counts equal the JSON GROUP BY's, whole round and one unit")

        def counts(unit_id: int | None = None) -> Callable[[], object]:
            def action() -> None:
                with transaction(factory) as session:
                    tally.criterion_counts(session, round_id, unit_id)

            return action

        def results_page() -> None:
            with transaction(factory) as session:
                viewer = session.get(accounts.User, admin_id)
                assert viewer is not None
                rows = reports.round_results(session, round_id, viewer=viewer)
                assert all(r.enough for r in rows)
                assert rows[0].criterion_means is not None
                assert len(rows[0].criterion_means) == positions

        def subject_page() -> None:
            with transaction(factory) as session:
                viewer = session.get(accounts.User, admin_id)
                assert viewer is not None
                report = reports.subject_report(session, ward_subject, viewer=viewer)
                assert report.enough
                assert report.criteria is not None

        print("measuring (closed round)...", flush=True)
        results.add("(a) tally.criterion_counts, whole round", count, timed(runs, counts()))
        results.add(
            "(a1) tally.criterion_counts, one unit", unit_ballots, timed(runs, counts(ward_unit))
        )
        results.add("(j') JSON GROUP BY, whole round", count, timed(runs, by_json()))
        results.add("(j1') JSON GROUP BY, one unit", unit_ballots, timed(runs, by_json(ward_unit)))
        results.add("(c) reports.round_results (admin)", count, timed(runs, results_page))
        results.add("(d) reports.subject_report (ward subject)", count, timed(runs, subject_page))

        tmp = Path(tempfile.gettempdir())
        kept_sql = str(
            tally.counts_query(round_id).compile(
                dialect=engine.dialect, compile_kwargs={"literal_binds": True}
            )
        )
        explain(
            engine,
            kept_sql,
            round_id,
            tmp / f"{database}_explain_counts.txt",
            "tally.counts_query, whole round",
        )
        explain(
            engine,
            JSON_TALLY_SQL.format(unit_filter=""),
            round_id,
            tmp / f"{database}_explain_json.txt",
            "JSON GROUP BY (the tally before), whole round",
        )
        if autovacuum_busy(engine, database):
            print("note: an autovacuum worker was busy in the bench database at the end")
        print(f"load average at end: {load_average()}")
    finally:
        engine.dispose()

    print()
    print(results.table())
    seconds = next(s for op, _, s in results.rows if op.startswith("(a)"))
    typical = statistics.median(seconds)
    target = TARGET_SECONDS * count / TARGET_BALLOTS
    verdict = "PASS" if typical < target else "MISS"
    print(
        f"\ntarget: whole-round tally under {target:.2f} s for {count:,} ballots "
        f"({TARGET_SECONDS:.0f} s per {TARGET_BALLOTS:,}); median {typical:.3f} s, "
        f"min {min(seconds):.3f} s: {verdict}"
    )
    return typical < target


def main() -> int:
    """Create the throwaway database, run, drop it; exit 1 if the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=TARGET_BALLOTS, help="ballots to load")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each measurement")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="units/subjects CSVs")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="SQLAlchemy URL, no database")
    args = parser.parse_args()
    if args.ballots < 1 or args.runs < 1:
        parser.error("--ballots and --runs must be positive")

    database = f"phieukin_bench_{secrets.token_hex(4)}"
    server = make_url(args.server)
    admin_engine = create_engine(
        server.set(database="postgres"), isolation_level="AUTOCOMMIT", hide_parameters=True
    )
    with admin_engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    url = server.set(database=database).render_as_string(hide_password=False)
    ok = False
    try:
        ok = run(url, args.data, args.ballots, args.runs, database)
    finally:
        if args.keep:
            print(f"kept database {database}", file=sys.stderr)
        else:
            with admin_engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            print(f"dropped database {database}", file=sys.stderr)
        admin_engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
