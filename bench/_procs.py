"""CPU accounting from /proc, the machine's load average, and server subprocesses."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def uptime() -> str:
    """The load averages (1, 5, 15 min) as `uptime` prints them."""
    with open("/proc/loadavg") as handle:
        one, five, fifteen = handle.read().split()[:3]
    return f"{one}, {five}, {fifteen}"


@dataclass
class Snapshot:
    """Every process's CPU ticks and the machine's busy ticks at one moment."""

    at: float
    busy: int
    procs: dict[int, tuple[int, str, int]]  # pid: (ppid, name or postgres title, ticks)


def snapshot() -> Snapshot:
    """Read /proc now."""
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


def _tree(procs: dict[int, tuple[int, str, int]], root: int) -> set[int]:
    found = {root}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _, _) in procs.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


class Sampler:
    """CPU time by group over a load, sampled from /proc every quarter second.

    Sampling (not two snapshots) catches processes that start and end inside the load:
    pgbench's PostgreSQL backends, say. Groups: the process trees of ``roots``, processes
    whose name is in ``names``, and the PostgreSQL backends of ``database``; the rest of the
    machine's busy time is "everything else".
    """

    def __init__(self, database: str, roots: dict[str, int], names: dict[str, str]) -> None:
        self.database, self.roots, self.names = database, roots, names
        self.first: dict[int, int] = {}
        self.last: dict[int, tuple[str, int]] = {}
        self.labels: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _label(self, snap: Snapshot, pid: int, name: str) -> str | None:
        for label, root in self.roots.items():
            if pid in _tree(snap.procs, root):
                return label
        if name in self.names:
            return self.names[name]
        if name.startswith("postgres:") and f" {self.database} " in f"{name} ":
            return "PostgreSQL, the bench database"
        return None

    def _sample(self, initial: bool) -> Snapshot:
        snap = snapshot()
        for pid, (_, name, ticks) in snap.procs.items():
            if initial:
                self.first[pid] = ticks
            elif pid not in self.first:
                self.first[pid] = 0  # started during the load
            if pid not in self.labels:
                label = self._label(snap, pid, name)
                if label is not None:
                    self.labels[pid] = label
            self.last[pid] = (name, ticks)
        return snap

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self._sample(initial=False)

    def __enter__(self) -> Sampler:
        self.start = self._sample(initial=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.end = self._sample(initial=False)

    @property
    def seconds(self) -> float:
        """How long the load ran."""
        return self.end.at - self.start.at

    def split(self) -> dict[str, float]:
        """CPU seconds by group."""
        split: dict[str, float] = dict.fromkeys(self.roots, 0.0)
        split.update(dict.fromkeys(self.names.values(), 0.0))
        split["PostgreSQL, the bench database"] = 0.0
        for pid, label in self.labels.items():
            split[label] += (self.last[pid][1] - self.first[pid]) / CLOCK_TICKS
        total = (self.end.busy - self.start.busy) / CLOCK_TICKS
        split["everything else (other work on the machine)"] = max(0.0, total - sum(split.values()))
        split["machine, all busy CPU"] = total
        return split


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A server subprocess in its own process group, stopped with its group on exit."""

    def __init__(self, name: str, argv: list[str], port: int, env: dict[str, str], log: Path):
        self.name, self.argv, self.port, self.env, self.log = name, argv, port, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> Server:
        with self.log.open("wb") as handle:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.log.parent,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                time.sleep(1.0)  # let every worker come up, not just the first
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not listen within 60 s:\n{self.log_tail()}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        """The supervisor's process id."""
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        """SIGTERM, then SIGKILL for the process group (ours alone)."""
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
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        self.proc = None

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""
