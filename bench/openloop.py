"""Open-loop load: casts arriving at a fixed rate, latency counted from each scheduled arrival.

Usage: python bench/openloop.py URL BODIES_FILE --rate 250 --seconds 20 --connections 100

Debian has no wrk2, so this small generator does what its fixed-rate mode does: request i
is due at start + i / rate, whatever happened to the ones before, and its latency runs from
that moment to the last byte of the reply. A reply that is slow therefore counts against
every request queued behind it (no coordinated omission). Requests go out over
``--connections`` keep-alive HTTP/1.1 connections, each request on the first idle one; a
request due while all are busy waits for one, and that wait is in its latency. Each body is
sent once. bench_cast.py runs it pinned to one core (taskset) and reads its CPU time.

Prints one line: ``BENCH_JSON {...}`` with the status counts and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from typing import Any
from urllib.parse import urlsplit

PATH = "/api/v1/vote/cast"


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads its whole reply."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def post(self, head: bytes, body: bytes) -> int:
        """Send one POST; return its status once the reply's body has been read."""
        self.writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
        status_line = await self.reader.readline()
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of sorted values."""
    if not values:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


async def run(
    url: str, bodies: list[bytes], rate: float, seconds: float, connections: int
) -> dict[str, Any]:
    """Send min(len(bodies), rate x seconds) requests at ``rate`` per second."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/json\r\nContent-Length: "
    ).encode()
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(Connection(*await asyncio.open_connection(host, port)))
    total = min(len(bodies), int(rate * seconds))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    lateness = 0.0

    async def one(due: float, body: bytes) -> None:
        nonlocal errors
        connection = await idle.get()
        try:
            status = await connection.post(head, body)
        except (OSError, ValueError, asyncio.IncompleteReadError):
            errors += 1
            idle.put_nowait(Connection(*await asyncio.open_connection(host, port)))
            return
        latencies.append(time.perf_counter() - due)
        statuses[status] = statuses.get(status, 0) + 1
        idle.put_nowait(connection)

    start = time.perf_counter() + 0.05
    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            lateness = max(lateness, -delay)
        tasks.append(asyncio.create_task(one(due, bodies[i])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    latencies.sort()
    ms = [v * 1000 for v in latencies]
    return {
        "sent": total,
        "rate_asked": rate,
        "rate_done": round(len(latencies) / elapsed, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors,
        # How far behind schedule the generator itself fell: near zero, or the figures are
        # the generator's, not the server's.
        "generator_max_lateness_ms": round(lateness * 1000, 2),
        "latency_ms": {
            "p50": round(percentile(ms, 50), 2),
            "p90": round(percentile(ms, 90), 2),
            "p99": round(percentile(ms, 99), 2),
            "max": round(ms[-1], 2) if ms else 0.0,
        },
    }


def main() -> None:
    """Parse arguments, run, print the result line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("bodies")
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=100)
    args = parser.parse_args()
    with open(args.bodies, "rb") as handle:
        bodies = [line.rstrip(b"\n") for line in handle if line.strip()]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(run(args.url, bodies, args.rate, args.seconds, args.connections))
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
