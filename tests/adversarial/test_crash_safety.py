"""Crash safety: the server on PostgreSQL with several workers is killed with SIGKILL in
the middle of a meeting's load, then restarted.

Every cast that got a 2xx is stored exactly once; a retry of any cast (its reply seen or
lost) gives the receipt the ballot box holds, the same one when the first reply was seen;
no slip that was never cast is spent; and `phieukin check` finds the round consistent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ballots import ballot_box, casting, lifecycle, rounds, tokens, units
from ballots.db import make_engine, make_session_factory, transaction
from ballots.participants import set_round_units
from ballots.subjects import import_subjects
from ballots.tokens import Token
from tests.live_server import loopback_socket

PHIEUKIN = Path(sys.executable).parent / "phieukin"
SLIPS = 90
NEVER_CAST = 10  # slips kept in the drawer: they must stay unspent
WORKERS = 3
SENDERS = 8


@contextmanager
def server(url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``phieukin serve`` with several workers, in a process group of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIEUKIN_")}
    env |= {
        "PHIEUKIN_DATABASE_URL": url,
        "PHIEUKIN_SECRET_KEY": "k" * 40,
        "PHIEUKIN_WRONG_CODES_PER_MINUTE": "100000",
    }
    process = subprocess.Popen(
        [str(PHIEUKIN), "serve", "--port", str(port), "--workers", str(WORKERS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "the server exited while starting"
            assert time.monotonic() < deadline, "the server did not start within 120 s"
            time.sleep(0.5)
        yield process
    finally:
        _kill(process)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the supervisor and every worker at once, as a power cut would."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.fixture
def open_round(committed_database_url: str, sample_data: Path) -> tuple[str, int, list[str], Any]:
    """An open round on PostgreSQL with slips printed; the answers every voter gives."""
    engine = make_engine(committed_database_url)
    with transaction(make_session_factory(engine)) as session:
        units.import_units(session, (sample_data / "long_bien_units.csv").read_bytes(), actor="t")
        round_id = rounds.create_round(
            session, title="Đợt thử", year=2023, anonymity_threshold=5, actor="t"
        ).id
        import_subjects(
            session, round_id, (sample_data / "long_bien_subjects.csv").read_bytes(), actor="t"
        )
        set_round_units(session, round_id, [("PHUONG-SAIDONG", SLIPS)], actor="t")
        plain = tokens.issue_tokens(session, round_id, "PHUONG-SAIDONG", SLIPS, actor="t").tokens
        lifecycle.open_round(session, round_id, actor="t", key_holders=None)
        form = casting.preview(session, plain[0])
    engine.dispose()
    keys = [c.key for c in form.questionnaire.criteria]
    answers = {
        "ratings": {str(s.id): dict.fromkeys(keys, 3) for s in form.subjects},
        "texts": {str(form.subjects[0].id): {"strengths": "Gương mẫu"}},
    }
    return committed_database_url, round_id, plain, answers


def _cast(port: int, token: str, answers: Any) -> tuple[int, str | None]:
    """(status, receipt) of one cast; (0, None) when the reply was lost."""
    try:
        reply = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/vote/cast",
            json={"token": token, "answers": answers},
            timeout=30,
        )
    except httpx.HTTPError:
        return 0, None
    receipt = reply.json().get("receipt") if reply.status_code in (200, 201) else None
    return reply.status_code, receipt


# The multi-worker server and its kill run on PostgreSQL, the production database.
@pytest.mark.parametrize("committed_database_url", ["postgresql"], indirect=True)
class TestCrashSafety:
    """SIGKILL mid-load loses no accepted ballot, doubles none, spends no idle slip."""

    def test_kill_every_worker_mid_load_then_restart(
        self, open_round: tuple[str, int, list[str], Any]
    ) -> None:
        url, round_id, plain, answers = open_round
        cast_now, drawer = plain[: SLIPS - NEVER_CAST], plain[SLIPS - NEVER_CAST :]
        sock = loopback_socket()
        port = sock.getsockname()[1]
        sock.close()
        first: dict[str, tuple[int, str | None]] = {}
        lock = threading.Lock()
        queue = list(cast_now)

        def sender() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    token = queue.pop()
                result = _cast(port, token, answers)
                with lock:
                    first[token] = result

        with server(url, port) as process:
            threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
            for thread in threads:
                thread.start()
            # Kill once about a third of the slips have an answer: mid-load.
            deadline = time.monotonic() + 60
            while len(first) < len(cast_now) // 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            _kill(process)
            for thread in threads:
                thread.join(timeout=60)
        accepted = {t: r for t, (s, r) in first.items() if s in (200, 201)}
        lost = [t for t in cast_now if first.get(t, (0, None))[0] == 0]
        assert accepted, "no cast was accepted before the kill: the test proved nothing"
        assert lost, "no reply was lost: the kill did not land mid-load"
        assert all(s in (0, 200, 201) for s, _ in first.values()), first

        with server(url, port):
            retried = {t: _cast(port, t, answers) for t in cast_now}
        for token, receipt in accepted.items():
            assert retried[token] == (200, receipt), "a retry must return the same receipt"
        for token in lost:
            assert retried[token][0] in (200, 201), retried[token]
        receipts = {r for _, r in retried.values()}
        assert None not in receipts
        assert len(receipts) == len(cast_now)

        engine = make_engine(url)
        try:
            with make_session_factory(engine)() as session:
                stored = ballot_box.receipts(session, round_id)
                spent = session.scalar(
                    select(func.count()).select_from(Token).where(Token.used.is_(True))
                )
            assert sorted(stored) == sorted(receipts)  # each stored exactly once
            assert spent == len(cast_now)  # the drawer's slips stayed unspent
        finally:
            engine.dispose()
        check = subprocess.run(
            [str(PHIEUKIN), "check", "--round", str(round_id)],
            env={**os.environ, "PHIEUKIN_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        print(
            f"\ncrash safety: {len(cast_now)} casts, {len(accepted)} accepted before SIGKILL of "
            f"{WORKERS} workers, {len(lost)} replies lost, all {len(cast_now)} recovered on "
            f"retry, {len(drawer)} idle slips unspent"
        )
