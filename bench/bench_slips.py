"""Benchmark: N fresh tokens to one print-ready PDF of QR slips.

Usage: .venv/bin/python bench/bench_slips.py [--count 10000] [--out slips.pdf] [--profile]

Prints the time to generate the tokens and of the whole render in a fresh process (as
the CLI runs it: fonts and QR tables are built on the first call), slips per second
end to end and the PDF's size. Then, for comparison, the part of the render that could
run on other cores, the QR codes and their path text, timed in this process and on a
pool of worker processes (forkserver, one per CPU), start-up and shut-down included.
The load average is printed at the start and the end. Target (DESIGN.md): 10,000 slips
in under 10 s on the 2-core reference machine. The figures go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import platform
import pstats
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ballots.slips import _qr_path, render_slips_pdf
from crypto.qr import qr_rows, qr_version
from crypto.tokens import new_token

BASE_URL = "http://127.0.0.1:8000"
ROUND_TITLE = "Lấy ý kiến người đứng đầu năm 2023"
UNIT_NAME = "Trường Mầm non Đức Giang"
TARGET_SECONDS_PER_10K = 10.0


def _load() -> str:
    """Return the 1, 5 and 15 minute load averages."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def codes_and_paths(tokens: list[str]) -> list[str]:
    """Return the QR path text of each token's slip code (the renderer's per-slip QR work)."""
    return [_qr_path(*qr_rows(BASE_URL, token)) for token in tokens]


def _pooled(tokens: list[str], workers: int) -> tuple[list[str], float]:
    """Build the path texts on a fresh pool, one chunk a worker; return them and the time."""
    start = time.perf_counter()
    size = -(-len(tokens) // workers)
    chunks = [tokens[i : i + size] for i in range(0, len(tokens), size)]
    # forkserver, not fork: a server's worker thread must not fork a threaded process.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        paths = [path for chunk in pool.map(codes_and_paths, chunks) for path in chunk]
    return paths, time.perf_counter() - start


def main() -> int:
    """Run the benchmark once and print its figures; exit 1 if the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="slips to print")
    parser.add_argument("--out", type=Path, help="also write the PDF here")
    parser.add_argument("--profile", action="store_true", help="print the top functions")
    args = parser.parse_args()
    count: int = args.count

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    print(f"slips: {count}, base URL {BASE_URL} (QR version {qr_version(BASE_URL)})")
    print(f"load average at start:   {_load()}")

    start = time.perf_counter()
    tokens = [new_token() for _ in range(count)]
    token_seconds = time.perf_counter() - start

    profiler = cProfile.Profile() if args.profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    pdf = render_slips_pdf(tokens, round_title=ROUND_TITLE, unit_name=UNIT_NAME, base_url=BASE_URL)
    if profiler:
        profiler.disable()
    render_seconds = time.perf_counter() - start

    total = token_seconds + render_seconds
    target = TARGET_SECONDS_PER_10K * count / 10_000
    print(f"tokens generated:        {token_seconds:8.3f} s")
    print(f"render_slips_pdf:        {render_seconds:8.3f} s  (first call: fonts, QR tables)")
    print(f"total, tokens to PDF:    {total:8.3f} s  (target < {target:.1f} s)")
    print(f"throughput:              {count / total:8.0f} slips/s")
    print(
        f"PDF size:                {len(pdf) / 1e6:8.2f} MB  ({len(pdf) / count:.0f} bytes a slip)"
    )
    print(f"pages:                   {-(-count // 10):8d}")

    # The part a pool could take over, once the tables and fonts are warm here.
    start = time.perf_counter()
    for token in tokens:
        qr_rows(BASE_URL, token)
    rows_seconds = time.perf_counter() - start
    start = time.perf_counter()
    in_process = codes_and_paths(tokens)
    here_seconds = time.perf_counter() - start
    workers = os.cpu_count() or 1
    pooled, pool_seconds = _pooled(tokens, workers)
    if pooled != in_process:
        raise SystemExit("the pool's path texts differ from the in-process ones")
    each = rows_seconds / count * 1e6
    print(f"QR codes alone:          {rows_seconds:8.3f} s  ({each:.1f} µs each)")
    print(f"QR codes + paths, here:  {here_seconds:8.3f} s")
    print(f"the same, {workers} processes:  {pool_seconds:8.3f} s  (with pool start and shut-down)")
    print(f"load average at end:     {_load()}")

    if args.out:
        args.out.write_bytes(pdf)
        print(f"written to {args.out}")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    verdict = "PASS" if total < target else "MISS"
    print(f"verdict: {verdict}")
    return 0 if total < target else 1


if __name__ == "__main__":
    raise SystemExit(main())
