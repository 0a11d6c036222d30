"""Two `phieukin serve` processes on one PostgreSQL and one Redis behave as one service.

Per-client limits live in Redis when PHIEUKIN_REDIS_URL is set, so an attacker who spreads
guesses (or password attempts) over two servers is stopped at the same count as against
one; and a slip spent through one server is refused by the other, as the database decides.
The attacks come from distinct loopback addresses (127.0.0.2, ...), so each one starts with
a clean window, and the servers use a Redis key prefix of this test run alone.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import func, select

from ballots import ballot_box, lifecycle, participants, rounds, subjects, tokens, units
from ballots.db import make_engine, make_session_factory, transaction
from crypto.tokens import new_token
from tests.conftest import TEST_SECRET, fresh_database

DEMO_DATA = Path(__file__).resolve().parents[2] / "app" / "demo_data"
REDIS_ENV = "PHIEUKIN_TEST_REDIS_URL"
WRONG_CODES = 6
LOGIN_ATTEMPTS = 4


@pytest.fixture(scope="module")
def redis_url() -> str:
    """Redis at PHIEUKIN_TEST_REDIS_URL (default 127.0.0.1:6379), or a visible skip."""
    url = os.environ.get(REDIS_ENV, "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {url} ({exc}): two-server test not run")
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    phieukin = str(Path(sys.executable).parent / "phieukin")
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            [phieukin, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"phieukin serve exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("phieukin serve did not answer within 60 s")


class Deployment:
    """Two servers, their database and the plain slips of one ward."""

    def __init__(self, ports: list[int], slips: list[str], database_url: str) -> None:
        self.ports = ports
        self.slips = slips
        self.database_url = database_url

    def url(self, server: int) -> str:
        """Base URL of server 0 or 1."""
        return f"http://127.0.0.1:{self.ports[server]}"


@pytest.fixture(scope="module", params=["postgresql"])
def deployment(
    request: pytest.FixtureRequest, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """A migrated PostgreSQL database with an open round, served by two processes."""
    tmp_path = tmp_path_factory.mktemp("two_servers")
    prefix = f"phieukin-test-{uuid.uuid4().hex}:"
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        with transaction(make_session_factory(engine)) as session:
            units.import_units(session, (DEMO_DATA / "long_bien_units.csv").read_bytes(), actor="t")
            round_ = rounds.create_round(
                session, title="Đợt thử", year=2026, anonymity_threshold=5, actor="t"
            )
            subjects.import_subjects(
                session, round_.id, (DEMO_DATA / "long_bien_subjects.csv").read_bytes(), actor="t"
            )
            participants.set_round_units(session, round_.id, [("PHUONG-BODE", None)], actor="t")
            slips = tokens.issue_tokens(session, round_.id, "PHUONG-BODE", 3, actor="t").tokens
            lifecycle.open_round(session, round_.id, actor="t", key_holders=None)
        engine.dispose()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHIEUKIN_")}
        env.update(
            PHIEUKIN_DATABASE_URL=url,
            PHIEUKIN_SECRET_KEY=TEST_SECRET,
            PHIEUKIN_PUBLIC_BASE_URL="http://127.0.0.1",
            PHIEUKIN_REDIS_URL=redis_url,
            PHIEUKIN_REDIS_KEY_PREFIX=prefix,
            PHIEUKIN_WRONG_CODES_PER_MINUTE=str(WRONG_CODES),
            PHIEUKIN_LOGIN_ATTEMPTS_PER_MINUTE=str(LOGIN_ATTEMPTS),
        )
        servers = [_serve(env, tmp_path / f"server{i}.log") for i in range(2)]
        try:
            yield Deployment([port for _, port in servers], slips, url)
        finally:
            for proc, _ in servers:
                proc.terminate()
            for proc, _ in servers:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            client = redis.Redis.from_url(redis_url)
            for key in client.scan_iter(match=prefix + "*"):
                client.delete(key)


def _client(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def _allowed_before_refusal(
    deployment: Deployment, address: str, servers: list[int], path: str, body: object
) -> int:
    """Requests answered (not 429) before the first 429, going round ``servers`` in turn."""
    with _client(address) as client:
        for attempt in range(4 * max(WRONG_CODES, LOGIN_ATTEMPTS)):
            server = servers[attempt % len(servers)]
            payload = body() if callable(body) else body
            reply = client.post(deployment.url(server) + path, json=payload)
            if reply.status_code == 429:
                assert int(reply.headers["retry-after"]) >= 1
                return attempt
            assert reply.status_code < 500, reply.text
    return -1


class TestTwoServersShareTheLimits:
    """Two servers on one Redis: an attack spread over both meets one limit."""

    def test_guessing_spread_over_two_servers_stops_at_the_count_of_one(
        self, deployment: Deployment
    ) -> None:
        """Unknown codes: the same number is answered from one server as from both together."""

        def guess() -> dict[str, str]:
            return {"token": new_token()}

        alone = _allowed_before_refusal(deployment, "127.0.0.2", [0], "/api/v1/vote/preview", guess)
        spread = _allowed_before_refusal(
            deployment, "127.0.0.3", [0, 1], "/api/v1/vote/preview", guess
        )
        assert alone == WRONG_CODES
        assert spread == alone

    def test_password_guessing_spread_over_two_servers_stops_at_the_count_of_one(
        self, deployment: Deployment
    ) -> None:
        """Login attempts: the same number is tried through one server as through both."""
        body = {"username": "khong-ton-tai", "password": "sai-mat-khau-123"}
        alone = _allowed_before_refusal(deployment, "127.0.0.4", [0], "/api/v1/auth/login", body)
        spread = _allowed_before_refusal(
            deployment, "127.0.0.5", [0, 1], "/api/v1/auth/login", body
        )
        assert alone == LOGIN_ATTEMPTS
        assert spread == alone

    def test_a_slip_spent_on_one_server_is_refused_on_the_other(
        self, deployment: Deployment
    ) -> None:
        """Cast through server 0; server 1 refuses the slip and stores no second ballot."""
        token = deployment.slips[0]
        with httpx.Client(timeout=30) as client:
            form = client.post(deployment.url(0) + "/api/v1/vote/preview", json={"token": token})
            assert form.status_code == 200, form.text
            keys = [c["key"] for c in form.json()["questionnaire"]["criteria"]]
            ratings = {str(s["id"]): dict.fromkeys(keys, 4) for s in form.json()["subjects"]}
            answers = {"ratings": ratings, "texts": {}}
            first = client.post(
                deployment.url(0) + "/api/v1/vote/cast", json={"token": token, "answers": answers}
            )
            assert first.status_code == 201, first.text
            other = client.post(deployment.url(1) + "/api/v1/vote/preview", json={"token": token})
            assert other.status_code == 409
            assert other.json()["error"]["code"] == "already_used"
            again = client.post(
                deployment.url(1) + "/api/v1/vote/cast", json={"token": token, "answers": answers}
            )
            assert again.status_code == 200
            assert again.json() == {"receipt": first.json()["receipt"], "repeated": True}
        engine = make_engine(deployment.database_url)
        with make_session_factory(engine)() as session:
            stored = session.scalar(select(func.count()).select_from(ballot_box.Ballot))
        engine.dispose()
        assert stored == 1
