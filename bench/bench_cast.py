"""Benchmark: casting ballots over HTTP on PostgreSQL, beside the machine's own limits.

Usage: .venv/bin/python bench/bench_cast.py [--seconds 20] [--workers 2]
            [--connections 100,500] [--tokens 20000] [--keep]
            [--server postgresql+psycopg://postgres@127.0.0.1:5432]

Needs `wrk` (Debian package `wrk`; `make bench-deps` installs it) and `pgbench` (Debian
package `postgresql`, with the server). In one
run, on a throwaway database (phieukin_castbench_<random>) with the 14 Long Biên wards in
an open round:

  1. the database's limit: pgbench running the app's own cast transaction, captured from
     the statements the app sends for one cast (bench/_cast_setup.py writes the script),
     with as many clients as the app holds connections (workers x pool);
  2. the framework's limit: bench/bare_app.py, one FastAPI endpoint with the app's body
     model, server options and workers, no database, under wrk;
  3. the app, `phieukin serve --workers N`, under wrk (bench/cast.lua: every request
     casts with a token never sent before) at each --connections; after each load the
     ballots stored are counted against the 201 replies;
  4. the app at a fixed arrival rate of half the best of (3) (bench/openloop.py, pinned to
     one core with taskset): p50 and p99 from each request's scheduled arrival;
  5. casting.cast in-process under cProfile: where a ballot's Python time goes.

Each load runs on a fresh server after a short warm-up. During each, CPU time is read from
/proc per group (server, PostgreSQL backends of the bench database, load generator, the
rest of the machine), and the load average is printed beside every figure: on a shared
machine the ratios within one run mean more than any figure alone.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _cast_setup as cs
import _pyspy
from _procs import Sampler, Server, free_port, uptime
from sqlalchemy import create_engine, make_url, text

from app import migrations
from app.deps import DB_SESSIONS
from ballots import casting
from ballots.db import make_engine, make_session_factory, transaction

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
TARGET_SHARE = 0.5
TARGET_P99_MS = 100.0


def need(tool: str, package: str) -> str:
    """The path of a command-line tool, or exit naming the Debian package that has it."""
    found = shutil.which(tool)
    if found is None:
        sys.exit(f"bench_cast: `{tool}` not found; install it: apt-get install {package}")
    return found


def wrk(
    url: str, bodies: Path, connections: int, seconds: float, *, cycle: bool = False
) -> dict[str, Any]:
    """One wrk run with bench/cast.lua; its JSON summary and the receipts of its 201s.

    ``cycle`` sends the bodies again from the start when they run out (for the bare
    endpoint, which stores nothing); otherwise a thread that runs out stops, reported as
    ``exhausted``.
    """
    threads = 2
    receipts = bodies.with_suffix(".receipts")
    done = subprocess.run(
        [
            need("wrk", "wrk"),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{round(seconds)}s",
            "--timeout",
            "30s",
            "-s",
            str(HERE / "cast.lua"),
            url,
            "--",
            str(bodies),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "CAST_RECEIPTS": str(receipts), "CAST_CYCLE": "1" if cycle else "0"},
    )
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    result["receipts"] = receipts.read_text().split()
    result["statuses"] = {int(k): v for k, v in result["statuses"].items()}
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


GENERATORS = {"wrk": "load generator (wrk)", "pgbench": "load generator (pgbench)"}


@contextlib.contextmanager
def measured(database: str, roots: dict[str, int]) -> Iterator[dict[str, Any]]:
    """CPU by group and the load average around a block."""
    out: dict[str, Any] = {"load_before": uptime()}
    with Sampler(database, roots, GENERATORS) as sampler:
        yield out
    out["seconds"] = sampler.seconds
    out["cpu"] = sampler.split()
    out["load_after"] = uptime()


def show_cpu(figure: dict[str, Any], count: int, unit: str) -> None:
    """CPU per group: cores busy, and ms per request."""
    seconds = figure["seconds"]
    for label, cpu in figure["cpu"].items():
        per = f"{1000 * cpu / count:6.2f} ms CPU per {unit}" if count else ""
        print(f"      {label:<48} {cpu / seconds:5.2f} cores  {per}")


def server_env(url: str) -> dict[str, str]:
    """The app's environment: the bench database, a fixed key, no Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIEUKIN_")}
    env.update(
        PHIEUKIN_DATABASE_URL=url,
        PHIEUKIN_SECRET_KEY=secrets.token_urlsafe(32),
        PHIEUKIN_PUBLIC_BASE_URL="http://127.0.0.1",
        # Every request comes from 127.0.0.1; the per-address limit counts only unknown
        # codes, of which the bench sends none, but keep it out of the way regardless.
        PHIEUKIN_WRONG_CODES_PER_MINUTE="1000000",
    )
    return env


def app_server(url: str, workers: int, log: Path) -> Server:
    """`phieukin serve` on a free port."""
    port = free_port()
    argv = [str(VENV_BIN / "phieukin"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", str(workers)]
    return Server("app", argv, port, server_env(url), log)


def bare_server(workers: int, log: Path) -> Server:
    """bench/bare_app.py on a free port."""
    port = free_port()
    argv = [sys.executable, str(HERE / "bare_app.py"), str(port), str(workers)]
    return Server("bare FastAPI", argv, port, server_env("sqlite://"), log)


def run(args: argparse.Namespace, url: str, database: str, tmp: Path) -> bool:
    """Every phase; True when both targets are met."""
    print(f"== bench_cast, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, load average {uptime()}")
    print(f"   database {database}; logs and scripts in {tmp}")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    loads = [f"app{c}" for c in args.connections]
    counts = dict.fromkeys(loads, args.tokens)
    counts.update(warm=4 * 2000, openloop=args.tokens, inprocess=1002)
    setup = cs.set_up(factory, counts)
    pool = args.workers * DB_SESSIONS
    print(f"   round {setup.round_id}: 14 wards, {sum(counts.values()):,} slips; {time.ctime()}")

    # --- 1. pgbench on the app's captured transaction
    inproc = setup.tokens["inprocess"]
    with transaction(factory) as session:  # warm the form cache and the statement cache
        casting.cast(session, inproc[0], cs.answers(setup.wards[0], 0))
    with cs.capturing(engine) as statements, transaction(factory) as session:
        casting.cast(session, inproc[1], cs.answers(setup.wards[1], 1))
    script, variables = cs.pgbench_script(statements, pre_ping=False)
    (tmp / "pgbench_cast.sql").write_text(script)
    shutil.copy(tmp / "pgbench_cast.sql", HERE / "pgbench_cast.sql")
    # Enough for 15,000 transactions a second: running out aborts pgbench.
    cs.add_pgbench_tokens(factory, setup, int(args.seconds * 15_000) + 10_000)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    pg = make_url(url)
    pgbench_argv = [need("pgbench", "postgresql"), "-n", "-M", "prepared"]
    pgbench_argv += ["-c", str(pool), "-j", "2", "-T", str(int(args.seconds)), "-f"]
    pgbench_argv += [str(tmp / "pgbench_cast.sql"), "-h", pg.host or "127.0.0.1"]
    pgbench_argv += ["-p", str(pg.port or 5432), "-U", pg.username or "postgres"]
    for name, value in variables.items():
        pgbench_argv += ["-D", f"{name}={value}"]
    pgbench_argv.append(database)
    (tmp / "pgbench_command.txt").write_text(shlex.join(pgbench_argv) + "\n")
    print(f"\n[1] pgbench, the app's cast transaction, {pool} clients, {args.seconds:.0f} s")
    before = cs.ballots_stored(engine, setup.round_id)
    with measured(database, {}) as fig_pg:
        done = subprocess.run(pgbench_argv, capture_output=True, text=True, check=False)
    (tmp / "pgbench.out").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        sys.exit(f"pgbench failed ({done.returncode}):\n{done.stderr[-3000:]}")
    tps = float(next(ln for ln in done.stdout.splitlines() if ln.startswith("tps")).split()[2])
    lat = next(ln for ln in done.stdout.splitlines() if ln.startswith("latency average"))
    stored = stored_pg = cs.ballots_stored(engine, setup.round_id) - before
    print(f"    {tps:,.0f} transactions/s, {lat}; ballots stored {stored:,}")
    print(f"    load average {fig_pg['load_before']} -> {fig_pg['load_after']}")
    show_cpu(fig_pg, stored, "transaction")

    # --- 2. the bare endpoint
    warm = cs.write_bodies(setup, setup.tokens["warm"], tmp / "warm.jsonl")
    print(f"\n[2] bare FastAPI endpoint, --workers {args.workers}, 100 connections")
    with bare_server(args.workers, tmp / "bare.log") as bare:
        wrk(bare.url, warm, 100, 2, cycle=True)
        with measured(database, {"server": bare.pid}) as fig_bare:
            # Bodies again and again: a file of slips must not cap the framework's rate
            # (the figure of runs before 2026-12-03 11:00 UTC was capped this way).
            bare_result = wrk(bare.url, warm, 100, args.seconds, cycle=True)
    bare_rate = bare_result["rate"]
    lat_bare = bare_result["latency_us"]
    print(
        f"    {bare_rate:,.0f} requests/s, p50 {lat_bare['p50'] / 1000:.1f} ms, "
        f"p99 {lat_bare['p99'] / 1000:.1f} ms, statuses {bare_result['statuses']}"
    )
    print(f"    load average {fig_bare['load_before']} -> {fig_bare['load_after']}")
    show_cpu(fig_bare, bare_result["requests"], "request")

    # --- 3. the app, closed loop
    warm_tokens = setup.tokens["warm"]
    peak = 0.0
    app_results: dict[int, dict[str, Any]] = {}
    for n, connections in enumerate(args.connections):
        use = f"app{connections}"
        bodies = cs.write_bodies(setup, setup.tokens[use], tmp / f"{use}.jsonl")
        part = slice((n + 1) * 2000, (n + 2) * 2000)
        warm_part = cs.write_bodies(setup, warm_tokens[part], tmp / f"warm{n}.jsonl", part.start)
        print(f"\n[3] the app, --workers {args.workers}, {connections} connections")
        with app_server(url, args.workers, tmp / f"{use}.log") as app:
            warm_result = wrk(app.url, warm_part, 30, 2)
            time.sleep(2.0)  # the warm-up's last casts land before the count
            before = cs.ballots_stored(engine, setup.round_id)
            spy = None
            if n == 0 and (worker := _pyspy.worker_pid(app.pid)) is not None:
                spy = _pyspy.start(worker, args.seconds - 4, tmp / "pyspy.txt")
            with measured(database, {"server": app.pid}) as fig:
                result = wrk(app.url, bodies, connections, args.seconds)
            if spy is not None:
                spy.wait(timeout=60)
            time.sleep(2.0)  # let the casts that wrk stopped waiting for finish
            stored = cs.ballots_stored(engine, setup.round_id) - before
        created = result["statuses"].get(201, 0)
        lat_app = result["latency_us"]
        rate = created / (result["duration_us"] / 1e6)
        peak = max(peak, rate)
        result.update(fig=fig, stored=stored, rate_created=rate)
        app_results[connections] = result
        print(
            f"    {rate:,.0f} ballots/s, p50 {lat_app['p50'] / 1000:.1f} ms, "
            f"p99 {lat_app['p99'] / 1000:.1f} ms, max {lat_app['max'] / 1000:.1f} ms, "
            f"statuses {result['statuses']}, socket errors {result['errors']}, "
            f"out of bodies {result['exhausted']}"
        )
        # Every 201 must have its ballot stored; the other ballots stored are casts that
        # wrk sent but stopped waiting for at the end of its run (at most one a connection).
        in_flight = result["sent"] - sum(result["statuses"].values())
        found = cs.receipts_found(engine, setup.round_id, result["receipts"])
        cut_off = stored - created
        result["accounted"] = found == created and 0 <= cut_off <= in_flight
        print(
            f"    201 replies {created:,}, each receipt found in the database: {found:,}; "
            f"ballots stored {stored:,} = {created:,} + {cut_off:,} of the {in_flight:,} "
            f"casts in flight when wrk stopped: "
            + ("accounted for" if result["accounted"] else "NOT ACCOUNTED FOR")
            + f" (warm-up before it: {warm_result['statuses']})"
        )
        print(f"    load average {fig['load_before']} -> {fig['load_after']}")
        show_cpu(fig, created, "ballot")
        if n == 0 and (tmp / "pyspy.txt").exists():
            print("    one worker under this load, py-spy --gil:")
            for line in _pyspy.summary(tmp / "pyspy.txt"):
                print("      " + line)

    # --- 3s. the same load on a sealed round
    sealed = sealed_load(args, url, database, factory, tmp)
    unsealed_rate = app_results[args.connections[0]]["rate_created"]

    # --- 4. open loop at half the peak
    rate = round(peak / 2)
    bodies = cs.write_bodies(setup, setup.tokens["openloop"], tmp / "openloop.jsonl")
    print(f"\n[4] the app at a fixed {rate}/s (half the peak), 100 connections, open loop")
    taskset = shutil.which("taskset")
    last_core = (os.cpu_count() or 1) - 1
    pin = [taskset, "-c", str(last_core)] if taskset else []
    with app_server(url, args.workers, tmp / "openloop.log") as app:
        wrk(app.url, cs.write_bodies(setup, warm_tokens[:2000], tmp / "warm_ol.jsonl"), 30, 2)
        time.sleep(2.0)
        before = cs.ballots_stored(engine, setup.round_id)
        argv = [*pin, sys.executable, str(HERE / "openloop.py"), app.url, str(bodies)]
        argv += ["--rate", str(rate), "--seconds", str(args.seconds), "--connections", "100"]
        with measured(database, {"server": app.pid}) as fig_ol:
            done = subprocess.run(argv, capture_output=True, text=True, check=True)
        stored = cs.ballots_stored(engine, setup.round_id) - before
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON "))
    open_loop = json.loads(line.removeprefix("BENCH_JSON "))
    lat_ol = open_loop["latency_ms"]
    print(
        f"    asked {rate}/s, done {open_loop['rate_done']}/s, p50 {lat_ol['p50']} ms, "
        f"p90 {lat_ol['p90']} ms, p99 {lat_ol['p99']} ms, max {lat_ol['max']} ms, "
        f"statuses {open_loop['statuses']}, errors {open_loop['errors']}, generator "
        f"late by at most {open_loop['generator_max_lateness_ms']} ms"
    )
    open_loop_ok = stored == open_loop["statuses"].get("201", 0)
    print(
        f"    201 replies {open_loop['statuses'].get('201', 0):,}, ballots stored {stored:,}: "
        + ("equal" if open_loop_ok else "DIFFERENT")
    )
    print(f"    load average {fig_ol['load_before']} -> {fig_ol['load_after']}")
    show_cpu(fig_ol, open_loop["statuses"].get("201", 0), "ballot")

    # --- 5. in-process profile
    print("\n[5] casting.cast in-process, one thread, under cProfile")
    profile_tokens = inproc[2:]
    # CPU time, not wall: on a shared machine, waiting would hide where the CPU goes.
    profiler = cProfile.Profile(time.process_time)
    start, cpu = time.perf_counter(), time.process_time()
    profiler.enable()
    for k, token in enumerate(profile_tokens, start=2):
        with transaction(factory) as session:
            casting.cast(session, token, cs.answers(setup.wards[k % 14], k))
    profiler.disable()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    per = len(profile_tokens)
    print(f"    {1000 * wall / per:.2f} ms wall, {1000 * cpu / per:.2f} ms CPU per ballot")
    with (tmp / "cast_profile.txt").open("w") as handle:
        stats = pstats.Stats(profiler, stream=handle)
        stats.sort_stats("tottime").print_stats(40)
    by_owner: dict[str, float] = {}
    for (filename, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        owner = _owner(f"{filename} {name}")
        by_owner[owner] = by_owner.get(owner, 0.0) + row[2]
    total = sum(by_owner.values())
    for owner, seconds in sorted(by_owner.items(), key=lambda kv: -kv[1]):
        print(f"      {owner:<44} {100 * seconds / total:5.1f}%")
    engine.dispose()

    # --- verdict
    limit = min(tps, bare_rate)
    first = app_results[args.connections[0]]
    share = first["rate_created"] / limit
    print("\n== summary (one run; load average at the end " + uptime() + ")")
    print(f"   pgbench (database's limit)     {tps:8,.0f}/s")
    print(f"   bare FastAPI (framework's)     {bare_rate:8,.0f}/s")
    for connections, result in app_results.items():
        print(
            f"   app, {connections:>3} connections          {result['rate_created']:8,.0f}/s"
            f"  = {result['rate_created'] / limit:.2f} x the smaller limit"
            f"  (p99 {result['latency_us']['p99'] / 1000:.0f} ms)"
        )
    print(
        f"   app, sealed round, {args.connections[0]} connections {sealed['rate_created']:6,.0f}/s"
        f"  = {sealed['rate_created'] / unsealed_rate:.2f} x unsealed"
        f"  (p99 {sealed['latency_us']['p99'] / 1000:.0f} ms)"
    )
    print(f"   open loop at {rate}/s: p50 {lat_ol['p50']} ms, p99 {lat_ol['p99']} ms")
    # What each would reach with the machine to itself: its cores divided by the CPU that
    # one unit of it cost (server, PostgreSQL, load generator), from the same run. Other
    # work on a shared machine slows everything; it does not change the CPU per unit much.
    cores = os.cpu_count() or 1
    own = [k for k in fig_pg["cpu"] if not k.startswith(("everything", "machine"))]

    def projected(fig: dict[str, Any], count: int) -> float:
        spent = sum(v for k, v in fig["cpu"].items() if k in own or k == "server")
        return cores * count / spent if spent else 0.0

    alone_pg = projected(fig_pg, stored_pg)
    alone_bare = projected(fig_bare, bare_result["requests"])
    alone_app = projected(first["fig"], first["statuses"].get(201, 0))
    print(
        f"   with the machine to itself (cores / CPU per unit): pgbench {alone_pg:,.0f}/s, "
        f"bare {alone_bare:,.0f}/s, app {alone_app:,.0f}/s = "
        f"{alone_app / min(alone_pg, alone_bare):.2f} x the smaller"
    )
    met = share >= TARGET_SHARE and lat_ol["p99"] < TARGET_P99_MS
    counts_ok = open_loop_ok and sealed["accounted"]
    counts_ok = counts_ok and all(r["accounted"] for r in app_results.values())
    # A load that ran out of slips stopped early: its rate is the file's size, not the app's.
    ran_out = [c for c, r in app_results.items() if r["exhausted"]] + (
        ["sealed"] if sealed["exhausted"] else []
    )
    if ran_out:
        print(f"   RAN OUT OF SLIPS at {ran_out}: raise --tokens; these rates are too low")
    print(
        f"   targets: >= {TARGET_SHARE} x min(limits) at {args.connections[0]} connections: "
        f"{share:.2f}; open-loop p99 < {TARGET_P99_MS:.0f} ms: {lat_ol['p99']} ms; "
        f"every 201 stored, nothing else but casts in flight at the stop: {counts_ok}"
    )
    return met and counts_ok and not ran_out


def sealed_load(
    args: argparse.Namespace, url: str, database: str, factory: Any, tmp: Path
) -> dict[str, Any]:
    """Phase 3 again at the first connection count, on a round opened with a key ceremony."""
    connections = args.connections[0]
    setup = cs.set_up(factory, {"sealed": args.tokens, "warm": 2000}, sealed=True)
    engine = factory.kw["bind"]
    bodies = cs.write_bodies(setup, setup.tokens["sealed"], tmp / "sealed.jsonl")
    warm = cs.write_bodies(setup, setup.tokens["warm"], tmp / "sealed_warm.jsonl")
    print(f"\n[3s] the app, sealed round {setup.round_id}, {connections} connections")
    with app_server(url, args.workers, tmp / "sealed.log") as app:
        wrk(app.url, warm, 30, 2)
        time.sleep(2.0)
        before = cs.ballots_stored(engine, setup.round_id)
        with measured(database, {"server": app.pid}) as fig:
            result = wrk(app.url, bodies, connections, args.seconds)
        time.sleep(2.0)
        stored = cs.ballots_stored(engine, setup.round_id) - before
    created = result["statuses"].get(201, 0)
    rate = created / (result["duration_us"] / 1e6)
    lat = result["latency_us"]
    in_flight = result["sent"] - sum(result["statuses"].values())
    found = cs.receipts_found(engine, setup.round_id, result["receipts"])
    result.update(
        fig=fig,
        rate_created=rate,
        accounted=found == created and 0 <= stored - created <= in_flight,
    )
    print(
        f"    {rate:,.0f} ballots/s, p50 {lat['p50'] / 1000:.1f} ms, "
        f"p99 {lat['p99'] / 1000:.1f} ms, statuses {result['statuses']}; "
        f"boxes stored {stored:,} for {created:,} 201 replies: "
        + ("accounted for" if result["accounted"] else "NOT ACCOUNTED FOR")
    )
    print(f"    load average {fig['load_before']} -> {fig['load_after']}")
    show_cpu(fig, created, "ballot")
    return result


_OWNERS = (
    ("psycopg", "psycopg"),
    ("sqlalchemy", "SQLAlchemy"),
    ("cryptography", "cryptography (receipt seal)"),
    ("/ballots/", "ballots/ (the service)"),
    ("/crypto/", "crypto/ (token check, hash)"),
    ("json", "json"),
)


def _owner(where: str) -> str:
    return next((label for key, label in _OWNERS if key in where), "other (stdlib, builtins)")


@contextlib.contextmanager
def throwaway_database(server_url: str, keep: bool) -> Iterator[tuple[str, str]]:
    """A new, migrated database on the server; dropped afterwards unless ``keep``."""
    name = f"phieukin_castbench_{secrets.token_hex(4)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        yield url, name
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    """Parse arguments and run every phase."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--connections", type=lambda s: [int(x) for x in s.split(",")], default=[100, 500]
    )
    parser.add_argument("--tokens", type=int, default=20_000, help="slips per closed-loop load")
    parser.add_argument("--keep", action="store_true", help="keep the database and the files")
    args = parser.parse_args()
    need("wrk", "wrk")
    need("pgbench", "postgresql")
    tmp = Path(tempfile.mkdtemp(prefix="castbench_"))
    with throwaway_database(args.server, args.keep) as (url, name):
        met = run(args, url, name, tmp)
    if not args.keep:
        for jsonl in tmp.glob("*.jsonl"):
            jsonl.unlink()  # hold plain tokens of a dropped database: nothing, but large
    print(f"   {'targets met' if met else 'targets NOT met'}; files in {tmp}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
