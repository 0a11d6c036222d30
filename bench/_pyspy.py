"""Where a server worker's Python time goes under load: py-spy, sampling only the thread
that holds the GIL, so waits (for PostgreSQL, for a thread) do not count.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

OWNERS = (
    ("psycopg", "psycopg"),
    ("sqlalchemy", "SQLAlchemy"),
    ("pydantic", "pydantic"),
    ("fastapi", "FastAPI"),
    ("starlette", "Starlette"),
    ("anyio", "AnyIO (thread hand-off)"),
    ("threading", "threading (thread hand-off)"),
    ("uvicorn", "uvicorn (HTTP)"),
    ("asyncio", "asyncio event loop"),
    ("logging", "logging"),
    ("/ballots/", "ballots/ (the service)"),
    ("/crypto/", "crypto/"),
    ("cryptography", "cryptography"),
    ("/app/", "app/ (routes, middleware)"),
    ("json", "json"),
)


def py_spy() -> str | None:
    """py-spy beside this Python, or on the PATH (`make bench-deps` installs it)."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def worker_pid(supervisor: int) -> int | None:
    """A uvicorn worker: a child process of the server's supervisor running Python."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                raw = handle.read()
            ppid = int(raw[raw.rindex(")") + 2 :].split()[1])
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except (OSError, ValueError):
            continue
        if ppid == supervisor and b"spawn_main" in cmdline:
            return int(entry.name)
    return None


def start(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """Record ``pid`` for ``seconds`` (raw collapsed stacks into ``out``), in the background."""
    tool = py_spy()
    if tool is None:
        return None
    argv = [tool, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds)))]
    argv += ["--rate", "250", "--gil", "--nonblocking", "--format", "raw", "--output", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summary(raw: Path, top: int = 12) -> list[str]:
    """Shares by owner of the innermost frame, then the hottest frames."""
    owners: Counter[str] = Counter()
    frames: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.strip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        innermost = stack.split(";")[-1]
        frames[innermost] += samples
        owners[next((lb for key, lb in OWNERS if key in innermost), "other")] += samples
    if not total:
        return ["no samples"]
    lines = [f"{total} samples of the thread holding the GIL; by owner of the innermost frame:"]
    lines += [f"  {100 * n / total:5.1f}%  {owner}" for owner, n in owners.most_common()]
    lines.append("hottest frames:")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in frames.most_common(top)]
    return lines
