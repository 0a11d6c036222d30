"""Benchmark: casting ballots over HTTP with N concurrent phones on PostgreSQL.

Usage: .venv/bin/python bench/bench_cast.py [--phones 120] [--ballots 6000] [--workers 2]
            [--fewer-phones 40] [--pgbench-seconds 20] [--bare-requests 20000] [--keep]
            [--server postgresql+psycopg://postgres@127.0.0.1:5432]

Creates a throwaway database (phieukin_castbench_<random>) on the server, migrates it and
sets a round up with the services: the Long Biên units and subjects, the 14 wards taking
part with an electorate of 100,000 each, tokens issued with tokens.issue_tokens spread over
the wards, the round opened. casting.preview, once per ward, gives the subject ids and
criterion keys of the request bodies (every criterion rated, one free text). Then, on this
machine, in one run:

  1. the service in-process: casting.cast called back to back in one thread, one
     transaction each (no HTTP), timed, then once more under cProfile: the floor of one
     ballot's latency and where a ballot's Python time goes;
  2. the framework's limit: a bare FastAPI app (BARE_APP below: one sync POST endpoint that
     parses the same body with the real CastIn model and returns 201 with ReceiptOut),
     under uvicorn with the same options and workers as `phieukin serve`;
  3. the real app: `phieukin serve --workers N --port P` (PHIEUKIN_DATABASE_URL, a 40-char
     PHIEUKIN_SECRET_KEY and PHIEUKIN_PUBLIC_BASE_URL set): --phones phones casting
     distinct tokens back to back (closed loop) until --ballots run out; the same with
     --fewer-phones phones; then --phones phones casting at a fixed rate (open loop,
     Poisson arrivals) of half the best sustained rate, latency counted from each
     ballot's scheduled arrival;
  4. the database's limit: pgbench running bench/pgbench_cast.sql (the statements of one
     cast, see that file) for --pgbench-seconds with -M prepared. Its clients default to
     the connections the app itself can hold (workers x (pool size + overflow)); 120
     would not fit in the server's max_connections of 100 anyway.

The load generator runs in this process: one asyncio task and one httpx.AsyncClient per
phone (one keep-alive connection each; see phones_for), on uvloop. Every load is bounded
in requests and in seconds (--max-seconds; a request times out after 30 s). "Sustained" is
completions per second from the end of a warm-up (--warmup seconds) until the first phone
finds no work left; latencies are those of the requests started in that window. During
each load the CPU time of this process, of the server's processes, of pgbench and of
PostgreSQL's processes is read from /proc ("other processes" is anyone else's work).
Afterwards tokens spent are checked against 201 replies: a receipt without a spent token
would be a lost ballot.

The verdict is DESIGN.md's, for --phones phones back to back: at least half of the smaller
limit (pgbench, bare FastAPI), p99 under 100 ms. Exit status 0 only when it is met without
errors. The servers are stopped and the database dropped at the end, even on failure,
unless --keep is given; the server logs and the profile are copied to
/tmp/<database>_logs. The figures go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import math
import os
import pstats
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, status
from sqlalchemy import Engine, create_engine, event, func, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from app import migrations
from app.api.vote import CastIn, ReceiptOut
from app.server import uvicorn_options
from ballots import casting, lifecycle, rounds, tokens, units
from ballots.db import make_engine, make_session_factory, transaction
from ballots.units import MAX_ELECTORATE
from ballots.vocabulary import UnitKind

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PGBENCH_SCRIPT = Path(__file__).resolve().parent / "pgbench_cast.sql"
CAST_PATH = "/api/v1/vote/cast"
ACTOR = "bench"
TARGET_P99_MS = 100.0
TARGET_SHARE = 0.5
JSON_HEADERS = {"content-type": "application/json"}
TEXT = "Gương mẫu, gần dân, giải quyết công việc nhanh và đúng hẹn."

# ---------------------------------------------------------------------------- bare app

BARE_APP = FastAPI(openapi_url="/openapi.json")


@BARE_APP.post(CAST_PATH, response_model=ReceiptOut, status_code=status.HTTP_201_CREATED)
def bare_cast(body: CastIn) -> ReceiptOut:
    """The framework's share of a cast: parse and validate the body, answer 201."""
    return ReceiptOut(receipt="0123456789", repeated=False)


# ---------------------------------------------------------------------------- setup


@dataclass
class Ward:
    """A ward taking part: what a request body and the pgbench variables need."""

    code: str
    unit_id: int
    subject_ids: list[int]
    criteria: list[str]


@dataclass
class Setup:
    round_id: int
    wards: list[Ward]
    app_tokens: list[str]
    fewer_tokens: list[str]
    paced_tokens: list[str]
    service_tokens: list[str]
    pgbench_tokens: int
    batches: dict[str, list[int]] = field(default_factory=dict)


def answers(ward: Ward, i: int) -> dict[str, Any]:
    """Every criterion of every head rated 1-4 (varying), one free text for the first head."""
    value = 1 + i % 4
    return {
        "ratings": {str(s): dict.fromkeys(ward.criteria, value) for s in ward.subject_ids},
        "texts": {str(ward.subject_ids[0]): {"strengths": f"{TEXT} ({i})"}},
    }


def spread(count: int, parts: int) -> list[int]:
    """``count`` split over ``parts`` as evenly as possible."""
    return [count // parts + (1 if k < count % parts else 0) for k in range(parts)]


def issue(session: Session, round_id: int, code: str, count: int, batches: list[int]) -> list[str]:
    """Issue ``count`` tokens to a ward, in batches of at most tokens.MAX_BATCH."""
    plain: list[str] = []
    while len(plain) < count:
        issued = tokens.issue_tokens(
            session, round_id, code, min(tokens.MAX_BATCH, count - len(plain)), actor=ACTOR
        )
        batches.append(issued.batch.id)
        plain += issued.tokens
    return plain


def set_up(factory: sessionmaker[Session], data: Path, counts: dict[str, int]) -> Setup:
    """The round, its wards, tokens for each use (interleaved over the wards), opened."""
    with transaction(factory) as session:
        units.import_units(session, (data / "long_bien_units.csv").read_bytes(), actor=ACTOR)
        round_ = rounds.create_round(
            session, title="Đợt đo bỏ phiếu", year=2026, anonymity_threshold=5, actor=ACTOR
        )
        rounds.import_subjects(
            session, round_.id, (data / "long_bien_subjects.csv").read_bytes(), actor=ACTOR
        )
        codes = [u.code for u in units.list_units(session) if u.kind is UnitKind.WARD]
        rounds.set_round_units(
            session, round_.id, [(c, MAX_ELECTORATE) for c in codes], actor=ACTOR
        )
        batches: dict[str, list[int]] = {use: [] for use in counts}
        by_use: dict[str, list[list[str]]] = {use: [] for use in counts}
        for use, count in counts.items():
            for code, n in zip(codes, spread(count, len(codes)), strict=True):
                by_use[use].append(issue(session, round_.id, code, max(n, 1), batches[use]))
        lifecycle.open_round(session, round_.id, actor=ACTOR)
        round_id = round_.id
    wards = []
    with factory() as session:
        for code, ward_tokens in zip(codes, by_use["app"], strict=True):
            form = casting.preview(session, ward_tokens[0])
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

    def interleave(use: str) -> list[str]:
        # Ward by ward in turn, so that concurrent casts hit every ward.
        lists = by_use[use]
        out = [lst[k] for k in range(max(map(len, lists))) for lst in lists if k < len(lst)]
        return out[: counts[use]]

    return Setup(
        round_id=round_id,
        wards=wards,
        app_tokens=interleave("app"),
        fewer_tokens=interleave("fewer"),
        paced_tokens=interleave("paced"),
        service_tokens=interleave("service"),
        pgbench_tokens=counts["pgbench"],
        batches=batches,
    )


def bodies(setup: Setup, plain: Sequence[str]) -> list[bytes]:
    """Request bodies (JSON, UTF-8) for these tokens; ward k % 14 for the k-th token."""
    wards = setup.wards
    return [
        json.dumps(
            {"token": t, "answers": answers(wards[k % len(wards)], k)}, ensure_ascii=False
        ).encode()
        for k, t in enumerate(plain)
    ]


PGBENCH_TOKENS_SQL = """
    INSERT INTO tokens (token_hash, round_id, unit_id, batch_id, used)
    SELECT sha256(convert_to('castbench-' || g, 'UTF8')), :round_id, b.unit_id, b.batch_id,
           false
    FROM generate_series(1, :n) AS g
    JOIN unnest(CAST(:unit_ids AS integer[]), CAST(:batch_ids AS integer[]))
         WITH ORDINALITY AS b(unit_id, batch_id, k) ON b.k = 1 + g % :wards
"""


def add_pgbench_tokens(factory: sessionmaker[Session], setup: Setup) -> None:
    """Tokens sha256('castbench-<n>') for pgbench, n = 1..count, in its batches (one a ward)."""
    with transaction(factory) as session:
        batch_units = dict(
            session.execute(
                select(tokens.TokenBatch.id, tokens.TokenBatch.unit_id).where(
                    tokens.TokenBatch.id.in_(setup.batches["pgbench"])
                )
            ).all()
        )
        session.execute(
            text(PGBENCH_TOKENS_SQL),
            {
                "round_id": setup.round_id,
                "n": setup.pgbench_tokens,
                "unit_ids": list(batch_units.values()),
                "batch_ids": list(batch_units),
                "wards": len(batch_units),
            },
        )
        session.execute(text("CREATE SEQUENCE castbench_seq"))


def maintenance(engine: Engine, *statements: str) -> None:
    """Run statements outside a transaction (VACUUM, CHECKPOINT)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


# ---------------------------------------------------------------------------- CPU from /proc

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Snapshot:
    at: float
    busy: int  # machine-wide busy ticks (all cores)
    procs: dict[int, tuple[int, str, int]]  # pid: (ppid, postgres cmdline or comm, ticks)


def snapshot() -> Snapshot:
    """Every process's CPU ticks, and the machine's busy ticks, now."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait
    procs: dict[int, tuple[int, str, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                raw = handle.read()
            comm = raw[raw.index("(") + 1 : raw.rindex(")")]
            rest = raw[raw.rindex(")") + 2 :].split()
            name = comm
            if comm == "postgres":
                with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                    name = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
            procs[int(entry.name)] = (int(rest[1]), name, int(rest[11]) + int(rest[12]))
        except (OSError, ValueError, IndexError):
            continue
    return Snapshot(at=time.perf_counter(), busy=busy, procs=procs)


def descendants(snap: Snapshot, root: int) -> set[int]:
    """``root`` and every process under it."""
    found = {root}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _, _) in snap.procs.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def cpu_split(
    before: Snapshot, after: Snapshot, database: str, roots: dict[str, int]
) -> dict[str, float]:
    """CPU seconds by group between two snapshots; groups of ``roots`` are process trees."""
    trees = {label: descendants(after, pid) for label, pid in roots.items()}
    split: dict[str, float] = {}

    def add(label: str, ticks: int) -> None:
        split[label] = split.get(label, 0.0) + ticks / CLOCK_TICKS

    for pid, (_, name, ticks) in after.procs.items():
        used = ticks - before.procs[pid][2] if pid in before.procs else ticks
        label = next((lb for lb, tree in trees.items() if pid in tree), None)
        if pid not in before.procs and label is None and not name.startswith("postgres:"):
            continue  # a short-lived process of someone else: counted under "other"
        if label is None and name.startswith("postgres:"):
            if f" {database} " in f"{name} ":
                label = "PostgreSQL backends of the bench database"
            elif "(" in name or "parallel worker" in name or "[local]" in name:
                label = "PostgreSQL backends of other databases"
            else:
                label = "PostgreSQL background (WAL writer, checkpointer, ...)"
        if label is not None:
            add(label, used)
    total = (after.busy - before.busy) / CLOCK_TICKS
    split["other processes"] = max(0.0, total - sum(split.values()))
    split["machine, all busy CPU"] = total
    return split


def format_cpu(split: dict[str, float], seconds: float, units_done: int, unit: str) -> str:
    lines = []
    for label, cpu in split.items():
        per = f"{1000 * cpu / units_done:6.2f} ms CPU per {unit}" if units_done else ""
        lines.append(f"    {label:<52} {cpu / seconds:5.2f} cores  {per}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A server subprocess in its own process group; stopped (and its group) on exit."""

    def __init__(self, name: str, argv: list[str], port: int, env: dict[str, str], log: Path):
        self.name, self.argv, self.port, self.env, self.log = name, argv, port, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> Server:
        handle = self.log.open("wb")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=self.log.parent,
        )
        handle.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/openapi.json", timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within 60 s:\n{self.log_tail()}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        # Workers left behind by a supervisor that died: the group is ours alone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        self.proc = None

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


# ---------------------------------------------------------------------------- load


@dataclass
class Load:
    """One load's samples (start, end, status) and its measuring window."""

    label: str
    clients: int
    samples: list[tuple[float, float, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    begin: float = 0.0
    window: tuple[float, float] = (0.0, 0.0)
    cpu: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def seconds(self) -> float:
        return self.window[1] - self.window[0]

    def done_in_window(self) -> int:
        lo, hi = self.window
        return sum(1 for _, end, _ in self.samples if lo <= end <= hi)

    def rate(self) -> float:
        return self.done_in_window() / self.seconds if self.seconds > 0 else 0.0

    def latencies_ms(self) -> list[float]:
        lo, hi = self.window
        return sorted(1000 * (e - s) for s, e, _ in self.samples if lo <= s <= hi)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@contextlib.asynccontextmanager
async def phones_for(url: str, count: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One httpx.AsyncClient per phone, each with one keep-alive connection.

    Not one client with a pool of ``count`` connections: httpcore scans its whole pool on
    every request event, and with 120 connections that took about 6 ms of this process's
    CPU per request (measured), making the load generator the bottleneck. A client per
    phone is also what phones are: a connection each.
    """
    tls = ssl.create_default_context()  # built once; the URLs are plain http on loopback
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=url, limits=limits, timeout=httpx.Timeout(30.0), verify=tls)
        for _ in range(count)
    ]
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()


async def post(client: httpx.AsyncClient, body: bytes, expect: int, load: Load) -> int:
    try:
        response = await client.post(CAST_PATH, content=body, headers=JSON_HEADERS)
    except httpx.HTTPError as exc:
        load.errors.append(f"{type(exc).__name__}: {exc}")
        return 0
    if response.status_code != expect:
        load.errors.append(f"{response.status_code}: {response.text[:200]}")
    return response.status_code


async def closed_loop(
    clients: list[httpx.AsyncClient],
    load: Load,
    work: Sequence[bytes],
    *,
    expect: int,
    warmup: float,
    max_seconds: float,
    roots: dict[str, int],
    database: str,
) -> Load:
    """``load.clients`` phones, each posting the next body as soon as its last one returns."""
    queue = iter(work)
    drained = asyncio.Event()
    marks: dict[str, Snapshot] = {"begin": snapshot()}
    load.begin = marks["begin"].at
    deadline = load.begin + max_seconds

    async def phone(client: httpx.AsyncClient) -> None:
        while not drained.is_set():
            body = next(queue, None)
            if body is None or time.perf_counter() >= deadline:
                marks.setdefault("end", snapshot())
                drained.set()
                return
            start = time.perf_counter()
            code = await post(client, body, expect, load)
            load.samples.append((start, time.perf_counter(), code))

    async def meter() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(drained.wait(), warmup)
        marks["start"] = snapshot()

    await asyncio.gather(meter(), *(phone(c) for c in clients[: load.clients]))
    start, end = marks["start"], marks["end"]
    if end.at - start.at < 1.0:
        load.note = "too short for a warm-up: window from the first request"
        start = marks["begin"]
    load.window = (start.at, end.at)
    load.cpu = cpu_split(start, end, database, roots)
    return load


async def paced(
    clients: list[httpx.AsyncClient],
    load: Load,
    work: Sequence[bytes],
    *,
    rate: float,
    seconds: float,
    roots: dict[str, int],
    database: str,
) -> Load:
    """Casts arriving at ``rate``/s (Poisson), each on a free phone of ``load.clients``.

    A cast's latency runs from its scheduled arrival, so time spent waiting for a free
    phone (all of them busy) counts too.
    """
    rng = random.Random(20261124)
    free: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
    for client in clients[: load.clients]:
        free.put_nowait(client)
    load.begin = time.perf_counter()
    before = snapshot()
    scheduled = load.begin
    tasks = []

    async def one(client: httpx.AsyncClient, at: float, body: bytes) -> None:
        try:
            code = await post(client, body, 201, load)
            load.samples.append((at, time.perf_counter(), code))
        finally:
            free.put_nowait(client)

    for body in work:
        scheduled += rng.expovariate(rate)
        if scheduled - load.begin > seconds:
            break
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        client = await free.get()
        tasks.append(asyncio.create_task(one(client, scheduled, body)))
    last_arrival = time.perf_counter()
    after = snapshot()
    await asyncio.gather(*tasks)
    load.window = (load.begin, last_arrival)
    load.cpu = cpu_split(before, after, database, roots)
    return load


def run_async(coro: Any) -> Any:
    """Run on uvloop when it is installed (a cheaper client), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


# ---------------------------------------------------------------------------- pgbench


@dataclass
class PgbenchResult:
    clients: int
    tps_reported: float
    processed: int
    failed: int
    latencies_ms: list[float]
    rate: float
    seconds: float
    cpu: dict[str, float]
    output: str


def pgbench_variables(setup: Setup) -> dict[str, str]:
    ward = setup.wards[0]
    ratings = {str(s): [4] * len(ward.criteria) for s in ward.subject_ids}
    return {
        "round_id": str(setup.round_id),
        "ratings": json.dumps(ratings),
        "question": "strengths",
        "text": f"{TEXT} (pgbench)",
        "sealed": "\\x" + secrets.token_hex(38),
    }


def run_pgbench(
    url: str, database: str, setup: Setup, clients: int, seconds: int, warmup: float, tmp: Path
) -> PgbenchResult:
    """pgbench with bench/pgbench_cast.sql; sustained rate and latencies from its log."""
    server = make_url(url)
    argv = [
        shutil.which("pgbench") or "pgbench",
        "-h", server.host or "127.0.0.1",
        "-p", str(server.port or 5432),
        "-U", server.username or "postgres",
        "-n", "-M", "prepared",
        "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)),
        "-T", str(seconds),
        "-l", f"--log-prefix={tmp / 'pgbench_log'}",
        "-f", str(PGBENCH_SCRIPT),
    ]  # fmt: skip
    for name, value in pgbench_variables(setup).items():
        argv += ["-D", f"{name}={value}"]
    argv.append(database)
    env = {**os.environ, "PGPASSWORD": server.password or ""} if server.password else None
    begin = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        time.sleep(min(warmup, seconds / 4))
        before = snapshot()
        time.sleep(max(0.5, seconds - min(warmup, seconds / 4) - 1.0))
        after = snapshot()
        output, _ = proc.communicate(timeout=seconds + 120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    text_out = output.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed ({proc.returncode}):\n{text_out}")

    def number(pattern: str) -> float:
        found = re.search(pattern, text_out)
        return float(found.group(1)) if found else math.nan

    # Log lines: client_id transaction_no time_us script_no epoch_s epoch_us [...].
    ends: list[float] = []
    latencies: list[float] = []
    lo, hi = begin + warmup, begin + seconds - 0.5
    for log in tmp.glob("pgbench_log.*"):
        for line in log.read_text().splitlines():
            parts = line.split()
            if len(parts) < 6 or not parts[2].isdigit():
                continue  # a failed or skipped transaction
            end = int(parts[4]) + int(parts[5]) / 1e6
            latency = int(parts[2]) / 1000
            ends.append(end)
            if lo <= end - latency / 1000 <= hi:
                latencies.append(latency)
    in_window = sum(1 for e in ends if lo <= e <= hi)
    return PgbenchResult(
        clients=clients,
        tps_reported=number(r"tps = ([\d.]+) \(without initial connection time\)"),
        processed=int(number(r"number of transactions actually processed: (\d+)")),
        failed=int(0 if math.isnan(f := number(r"number of failed transactions: (\d+)")) else f),
        latencies_ms=sorted(latencies),
        rate=in_window / (hi - lo),
        seconds=hi - lo,
        cpu=cpu_split(before, after, database, {"pgbench": proc.pid}),
        output=text_out,
    )


# ---------------------------------------------------------------------------- in-process


def in_process(
    engine: Engine, factory: sessionmaker[Session], setup: Setup, plain: list[str], tmp: Path
) -> dict[str, Any]:
    """casting.cast back to back in this thread: wall and CPU per ballot, then a profile."""
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    half = len(plain) // 2
    work = [(t, answers(setup.wards[k % len(setup.wards)], k)) for k, t in enumerate(plain)]

    latencies: list[float] = []

    def cast_all(items: list[tuple[str, dict[str, Any]]]) -> None:
        for token, body in items:
            start = time.perf_counter()
            with transaction(factory) as session:
                casting.cast(session, token, body)
            latencies.append(1000 * (time.perf_counter() - start))

    cast_all(work[:5])  # connect, warm the statement caches
    event.listen(engine, "before_cursor_execute", count)
    wall, cpu = time.perf_counter(), time.process_time()
    cast_all(work[5:half])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    timed_latencies = sorted(latencies[5:])
    event.remove(engine, "before_cursor_execute", count)
    timed = half - 5
    profiler = cProfile.Profile()
    profiler.enable()
    cast_all(work[half:])
    profiler.disable()
    path = tmp / "cast_profile.txt"
    with path.open("w") as handle:
        stats = pstats.Stats(profiler, stream=handle)
        stats.sort_stats("tottime").print_stats(40)
    by_package: dict[str, float] = {}
    for (filename, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        by_package[package_of(filename, name)] = by_package.get(package_of(filename, name), 0)
        by_package[package_of(filename, name)] += row[2]
    total = sum(by_package.values())
    return {
        "ballots": timed,
        "wall_ms": 1000 * wall / timed,
        "cpu_ms": 1000 * cpu / timed,
        "statements": statements / timed,
        "latencies_ms": timed_latencies,
        "profile": {k: v / total for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])},
        "profile_path": path,
    }


def package_of(filename: str, name: str) -> str:
    """A coarse owner of a profiled function, for the split of a ballot's Python time."""
    where = f"{filename} {name}"
    for key, label in (
        ("psycopg", "psycopg (incl. waiting for PostgreSQL)"),
        ("sqlalchemy", "SQLAlchemy"),
        ("pydantic", "pydantic"),
        ("cryptography", "cryptography (seal receipt)"),
        ("/ballots/", "ballots/ (the service)"),
        ("/crypto/", "crypto/ (token check, hash)"),
        ("json", "json"),
    ):
        if key in where:
            return label
    return "other (stdlib, builtins)"


# ---------------------------------------------------------------------------- report


def row(what: str, clients: int, rate: float, lat: Sequence[float], errors: int) -> str:
    return (
        f"| {what:<44} | {clients:>7} | {rate:>10,.0f} | {percentile(lat, 50):>7.1f} | "
        f"{percentile(lat, 95):>7.1f} | {percentile(lat, 99):>7.1f} | "
        f"{(lat[-1] if lat else math.nan):>8.1f} | {errors:>6} |"
    )


HEAD = (
    f"| {'what':<44} | {'clients':>7} | {'per second':>10} | {'p50 ms':>7} | "
    f"{'p95 ms':>7} | {'p99 ms':>7} | {'max ms':>8} | {'errors':>6} |"
)


def describe(load: Load, unit: str) -> None:
    lat = load.latencies_ms()
    print(
        f"  {load.label}: {load.rate():,.1f} {unit}/s over {load.seconds:.1f} s "
        f"({load.done_in_window()} in the window, {len(load.samples)} in all), "
        f"p50 {percentile(lat, 50):.1f} ms, p95 {percentile(lat, 95):.1f} ms, "
        f"p99 {percentile(lat, 99):.1f} ms, max {lat[-1] if lat else math.nan:.1f} ms, "
        f"errors {len(load.errors)}" + (f" ({load.note})" if load.note else "")
    )
    for error in sorted(set(load.errors))[:5]:
        print(f"    error: {error}")
    print(format_cpu(load.cpu, load.seconds, load.done_in_window(), unit), flush=True)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def others_busy(engine: Engine, database: str) -> list[str]:
    """Active sessions on the server outside the bench database (they skew the figures)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT datname, count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND datname IS NOT NULL AND datname <> :db AND pid <> pg_backend_pid() "
                "GROUP BY datname"
            ),
            {"db": database},
        ).all()
    return [f"{name} ({n} active)" for name, n in rows]


# ---------------------------------------------------------------------------- main run


def run(args: argparse.Namespace, url: str, database: str, tmp: Path) -> bool:
    """The benchmark proper; True when the target is met and there were no errors."""
    migrations.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        return measure(args, url, database, tmp, engine, factory)
    finally:
        engine.dispose()


def measure(
    args: argparse.Namespace,
    url: str,
    database: str,
    tmp: Path,
    engine: Engine,
    factory: sessionmaker[Session],
) -> bool:
    with engine.connect() as conn:
        version = conn.scalar(text("SHOW server_version"))
        max_conn = int(conn.scalar(text("SHOW max_connections")) or 100)
        reserved = int(conn.scalar(text("SHOW superuser_reserved_connections")) or 3)
        in_use = int(conn.scalar(text("SELECT count(*) FROM pg_stat_activity")) or 0)
        sync = conn.scalar(text("SHOW synchronous_commit"))
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    overflow: int = pool._max_overflow
    per_worker = pool.size() + overflow
    app_connections = args.workers * per_worker
    pg_clients = args.pgbench_clients or min(args.phones, app_connections)
    room = max_conn - reserved - in_use - 2
    if pg_clients > room:
        print(f"pgbench clients cut from {pg_clients} to {room} (max_connections {max_conn})")
        pg_clients = room
    print(
        f"PostgreSQL {version} (synchronous_commit={sync}, max_connections={max_conn}), "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print(
        f"database {database}; {args.phones} phones, {args.ballots:,} ballots, "
        f"{args.workers} uvicorn workers, each with a pool of {pool.size()} + "
        f"{overflow} overflow connections"
    )
    print(f"load average at start: {load_average()}", flush=True)
    busy = others_busy(engine, database)
    if busy:
        print(f"warning: other databases busy on this server: {', '.join(busy)}")

    counts = {
        "app": args.ballots,
        "fewer": max(args.ballots // 2, 200),
        "paced": max(args.ballots // 2, 200),
        "service": args.service_ballots,
        "pgbench": args.pgbench_tokens or 6000 * args.pgbench_seconds,
    }
    start = time.perf_counter()
    setup = set_up(factory, args.data, counts)
    add_pgbench_tokens(factory, setup)
    maintenance(engine, "VACUUM ANALYZE", "CHECKPOINT")
    print(
        f"setup with the services: {time.perf_counter() - start:.1f} s "
        f"({len(setup.wards)} wards, {sum(counts.values()):,} tokens)",
        flush=True,
    )

    print(f"\n[1] in-process casting.cast, 1 thread, {args.service_ballots} ballots")
    service = in_process(engine, factory, setup, setup.service_tokens, tmp)
    print(
        f"  {service['wall_ms']:.2f} ms wall and {service['cpu_ms']:.2f} ms Python CPU per "
        f"ballot ({service['statements']:.1f} statements); profile of the second half "
        f"(share of profiled time):"
    )
    for label, share in service["profile"].items():
        print(f"    {label:<44} {100 * share:5.1f} %")
    print(f"  top functions: {service['profile_path']}", flush=True)

    app_bodies = bodies(setup, setup.app_tokens)
    fewer_bodies = bodies(setup, setup.fewer_tokens)
    paced_bodies = bodies(setup, setup.paced_tokens)
    python = sys.executable
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PHIEUKIN_")}

    print(f"\n[2] bare FastAPI, {args.phones} phones, up to {args.bare_requests:,} requests")
    port = free_port()
    bare_argv = [python, str(Path(__file__).resolve()), "--serve-bare", str(port)]
    bare_argv += ["--workers", str(args.workers)]
    with Server("bare FastAPI", bare_argv, port, base_env, tmp / "bare.log") as server:
        work = [app_bodies[k % len(app_bodies)] for k in range(args.bare_requests)]
        roots = {
            "server (uvicorn workers)": server.pid,
            "load generator (this process)": os.getpid(),
        }

        async def bare_load() -> Load:
            async with phones_for(server.url, args.phones) as clients:
                load = Load("bare FastAPI", args.phones)
                return await closed_loop(
                    clients,
                    load,
                    work,
                    expect=201,
                    warmup=args.warmup,
                    max_seconds=args.max_seconds,
                    roots=roots,
                    database=database,
                )

        bare: Load = run_async(bare_load())
    describe(bare, "request")

    print(f"\n[3] the app (phieukin serve --workers {args.workers}), a fresh server per load")
    phieukin = Path(python).parent / "phieukin"
    secret = secrets.token_urlsafe(30)[:40]

    def app_run(label: str, phones: int, driver: Any) -> Load:
        """One load against a server of its own: what one load leaves stuck cannot skew the next."""
        port = free_port()
        env = {
            **base_env,
            "PHIEUKIN_DATABASE_URL": url,
            "PHIEUKIN_SECRET_KEY": secret,
            "PHIEUKIN_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        }
        argv = [str(phieukin), "serve", "--workers", str(args.workers), "--port", str(port)]
        log = tmp / f"app_{len(app_loads) + 1}.log"
        print(f"  {label} ...", flush=True)
        with Server("phieukin serve", argv, port, env, log) as server:
            roots = {
                "server (uvicorn workers)": server.pid,
                "load generator (this process)": os.getpid(),
            }

            async def go() -> Load:
                async with phones_for(server.url, phones) as clients:
                    load = Load(label, phones)
                    return await driver(clients, load, roots)  # type: ignore[no-any-return]

            load: Load = run_async(go())
        describe(load, "ballot")
        print(f"    server log: {log}")
        return load

    app_loads: list[Load] = []
    for phones, work in ((args.phones, app_bodies), (args.fewer_phones, fewer_bodies)):
        if not phones:
            continue

        async def closed_driver(
            clients: list[httpx.AsyncClient],
            load: Load,
            roots: dict[str, int],
            work: list[bytes] = work,
        ) -> Load:
            return await closed_loop(
                clients,
                load,
                work,
                expect=201,
                warmup=args.warmup,
                max_seconds=args.max_seconds,
                roots=roots,
                database=database,
            )

        label = f"app, {phones} phones back to back"
        app_loads.append(app_run(label, phones, closed_driver))
    rate = max(1.0, max(load.rate() for load in app_loads) / 2)
    seconds = min(args.paced_seconds, len(paced_bodies) / rate)

    async def paced_driver(
        clients: list[httpx.AsyncClient], load: Load, roots: dict[str, int]
    ) -> Load:
        return await paced(
            clients,
            load,
            paced_bodies,
            rate=rate,
            seconds=seconds,
            roots=roots,
            database=database,
        )

    label = f"app, {args.phones} phones, {rate:,.0f}/s arriving"
    app_loads.append(app_run(label, args.phones, paced_driver))
    closed = app_loads[0]

    print(
        f"\n[4] pgbench, {pg_clients} clients (the app's {args.workers} workers hold at most "
        f"{app_connections} connections), {args.pgbench_seconds} s",
        flush=True,
    )
    maintenance(engine, "VACUUM ANALYZE", "CHECKPOINT")
    pg = run_pgbench(url, database, setup, pg_clients, args.pgbench_seconds, args.warmup, tmp)
    print(
        f"  pgbench: tps {pg.tps_reported:,.1f} (its own figure, whole run), sustained "
        f"{pg.rate:,.1f}/s over {pg.seconds:.1f} s, {pg.processed:,} processed, "
        f"{pg.failed} failed; p50 {percentile(pg.latencies_ms, 50):.1f} ms, "
        f"p99 {percentile(pg.latencies_ms, 99):.1f} ms"
    )
    print(format_cpu(pg.cpu, pg.seconds, round(pg.rate * pg.seconds), "transaction"))

    problems = check_tokens(factory, setup, app_loads, args.service_ballots, pg.processed)
    if len(closed.samples) < len(app_bodies):
        print(
            f"note: the {args.phones}-phone closed loop stopped at --max-seconds "
            f"after {len(closed.samples):,} of {len(app_bodies):,} ballots"
        )
    print(f"load average at end: {load_average()}")
    busy = others_busy(engine, database)
    if busy:
        print(f"warning: other databases busy on this server: {', '.join(busy)}")
    errors = sum(len(load.errors) for load in [bare, *app_loads]) + pg.failed
    return report(pg, bare, app_loads, service, errors, problems)


def check_tokens(
    factory: sessionmaker[Session],
    setup: Setup,
    app_loads: list[Load],
    service_ballots: int,
    pgbench_processed: int,
) -> list[str]:
    """Tokens spent against replies: a 201 without a spent token is a lost ballot."""
    with factory() as session:
        used: dict[int, int] = dict(
            session.execute(
                select(tokens.TokenBatch.id, func.count())
                .join(tokens.Token, tokens.Token.batch_id == tokens.TokenBatch.id)
                .where(tokens.Token.used.is_(True))
                .group_by(tokens.TokenBatch.id)
            ).all()
        )
    spent = {use: sum(used.get(b, 0) for b in ids) for use, ids in setup.batches.items()}
    receipts = [sum(1 for *_, code in load.samples if code == 201) for load in app_loads]
    uses = ["app", "fewer", "paced"] if len(app_loads) == 3 else ["app", "paced"]
    replied = dict(zip(uses, receipts, strict=True))
    replied |= {"service": service_ballots, "pgbench": pgbench_processed}
    problems = []
    for use, n in replied.items():
        if spent[use] < n:
            problems.append(f"{use}: {n} receipts but only {spent[use]} tokens spent")
        elif spent[use] > n:
            print(
                f"note: {use}: {spent[use] - n} ballots stored whose reply never reached the "
                f"phone (timed out or failed after the commit)"
            )
    for problem in problems:
        print(f"PROBLEM {problem}")
    return problems


def report(
    pg: PgbenchResult,
    bare: Load,
    app_loads: list[Load],
    service: dict[str, Any],
    errors: int,
    problems: list[str],
) -> bool:
    """The table and the verdict; True when the target is met without errors."""
    closed = app_loads[0]
    limit = min(pg.rate, bare.rate())
    goal = TARGET_SHARE * limit
    lat = closed.latencies_ms()
    p99 = percentile(lat, 99)
    print()
    print(HEAD)
    print("|" + "|".join("-" * len(c) for c in HEAD.split("|")[1:-1]) + "|")
    print(
        row(
            "pgbench, same transaction (database's limit)",
            pg.clients,
            pg.rate,
            pg.latencies_ms,
            pg.failed,
        )
    )
    print(
        row(
            "bare FastAPI POST (framework's limit)",
            bare.clients,
            bare.rate(),
            bare.latencies_ms(),
            len(bare.errors),
        )
    )
    for load in app_loads:
        print(row(load.label, load.clients, load.rate(), load.latencies_ms(), len(load.errors)))
    print(
        row(
            "in-process casting.cast, 1 thread, no HTTP",
            1,
            1000 / service["wall_ms"],
            service["latencies_ms"],
            0,
        )
    )
    met_rate = closed.rate() >= goal
    met_p99 = p99 < TARGET_P99_MS
    mean_ms = 1000 * closed.clients / max(closed.rate(), 1e-9)
    print(
        f"\ntarget: at least half of the smaller limit (min({pg.rate:,.0f}, {bare.rate():,.0f})"
        f" / 2 = {goal:,.0f} ballots/s) with p99 under {TARGET_P99_MS:.0f} ms, "
        f"{closed.clients} phones\n"
        f"  throughput: {closed.rate():,.1f} ballots/s, "
        f"{100 * closed.rate() / limit:.0f}% of the smaller limit: "
        f"{'MET' if met_rate else 'MISSED'}\n"
        f"  p99: {p99:,.0f} ms: {'MET' if met_p99 else 'MISSED'} (back to back, Little's law "
        f"puts the mean at {closed.clients} / {closed.rate():,.1f} per s = {mean_ms:,.0f} ms)\n"
        f"  errors: {errors}" + ("; " + "; ".join(problems) if problems else "")
    )
    for load in app_loads[1:]:
        print(
            f"  {load.label}: {load.rate():,.1f} ballots/s, p99 "
            f"{percentile(load.latencies_ms(), 99):,.0f} ms, {len(load.errors)} errors"
        )
    return met_rate and met_p99 and errors == 0 and not problems


def serve_bare(port: int, workers: int) -> None:
    """Serve BARE_APP as `phieukin serve` serves the app (the same uvicorn options)."""
    import uvicorn

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    uvicorn.run(
        "bench_cast:BARE_APP",
        **uvicorn_options(host="127.0.0.1", port=port, workers=workers),
    )


@contextlib.contextmanager
def throwaway_database(server_url: str, keep: bool) -> Iterator[tuple[str, str]]:
    """A new database phieukin_castbench_<random>; dropped afterwards unless ``keep``."""
    database = f"phieukin_castbench_{secrets.token_hex(4)}"
    server = make_url(server_url)
    admin = create_engine(
        server.set(database="postgres"), isolation_level="AUTOCOMMIT", hide_parameters=True
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    try:
        yield server.set(database=database).render_as_string(hide_password=False), database
    finally:
        if keep:
            print(f"kept database {database}", file=sys.stderr)
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            print(f"dropped database {database}", file=sys.stderr)
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--phones", type=int, default=120, help="concurrent phones")
    parser.add_argument("--ballots", type=int, default=6000, help="ballots, closed loop")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds not measured")
    parser.add_argument("--max-seconds", type=float, default=90.0, help="cap of each load")
    parser.add_argument("--fewer-phones", type=int, default=40, help="second closed loop (0: none)")
    parser.add_argument("--paced-seconds", type=float, default=10.0, help="open-loop length")
    parser.add_argument("--bare-requests", type=int, default=20000, help="bare FastAPI load")
    parser.add_argument("--service-ballots", type=int, default=400, help="in-process casts")
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument(
        "--pgbench-clients",
        type=int,
        default=0,
        help="default: the phones, capped at the app's pool connections",
    )
    parser.add_argument(
        "--pgbench-tokens",
        type=int,
        default=0,
        help="tokens made for pgbench (default 6,000 per second)",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="units/subjects CSVs")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="SQLAlchemy URL, no database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.workers)
        return 0
    if min(args.phones, args.ballots, args.workers, args.pgbench_seconds) < 1:
        parser.error("--phones, --ballots, --workers and --pgbench-seconds must be positive")
    if args.service_ballots < 20:
        parser.error("--service-ballots must be at least 20")
    ok = False
    with (
        tempfile.TemporaryDirectory(prefix="castbench_") as scratch,
        throwaway_database(args.server, args.keep) as (url, database),
    ):
        tmp = Path(scratch)
        try:
            ok = run(args, url, database, tmp)
        finally:
            keep = Path(tempfile.gettempdir()) / f"{database}_logs"
            shutil.copytree(tmp, keep, ignore=shutil.ignore_patterns("pgbench_log.*"))
            print(f"server logs and the profile copied to {keep}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
