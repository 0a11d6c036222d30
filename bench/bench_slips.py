"""Benchmark: N fresh tokens to one print-ready PDF of QR slips.

Usage: .venv/bin/python bench/bench_slips.py [--count 10000] [--out slips.pdf] [--profile]

Prints the time to generate the tokens, the time to build their QR matrices alone
(a component of the render, measured separately), the time of the whole render,
slips per second end to end, and the PDF's size. Target (DESIGN.md): 10,000 slips
in under 10 s on the 2-core reference machine. The figures go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import time
from pathlib import Path

from ballots.slips import render_slips_pdf
from crypto.qr import qr_matrix, qr_version
from crypto.tokens import new_token

BASE_URL = "http://127.0.0.1:8000"
ROUND_TITLE = "Lấy ý kiến người đứng đầu năm 2023"
UNIT_NAME = "Trường Mầm non Đức Giang"
TARGET_SECONDS_PER_10K = 10.0


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

    start = time.perf_counter()
    tokens = [new_token() for _ in range(count)]
    token_seconds = time.perf_counter() - start

    start = time.perf_counter()
    for token in tokens:
        qr_matrix(BASE_URL, token)
    qr_seconds = time.perf_counter() - start

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
    print(f"QR matrices (alone):     {qr_seconds:8.3f} s  ({qr_seconds / count * 1e3:.3f} ms each)")
    print(f"render_slips_pdf:        {render_seconds:8.3f} s  (includes the QR matrices)")
    print(f"total, tokens to PDF:    {total:8.3f} s  (target < {target:.1f} s)")
    print(f"throughput:              {count / total:8.0f} slips/s")
    print(
        f"PDF size:                {len(pdf) / 1e6:8.2f} MB  ({len(pdf) / count:.0f} bytes a slip)"
    )
    print(f"pages:                   {-(-count // 10):8d}")
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
