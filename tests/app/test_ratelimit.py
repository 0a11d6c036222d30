"""Per-client limits in Redis: shared windows, no address in Redis, memory when it is down."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
import redis

from app.ratelimit import RedisSlidingWindowLimiter, SlidingWindowLimiter, make_limiters

SECRET = b"k" * 32


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    """Redis at PHIEUKIN_TEST_REDIS_URL (default 127.0.0.1:6379), or a visible skip."""
    url = os.environ.get("PHIEUKIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    connection = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {url} ({exc})")
    yield connection
    connection.close()


def _limiter(client: redis.Redis, prefix: str, limit: int = 3) -> RedisSlidingWindowLimiter:
    return RedisSlidingWindowLimiter(
        client, name="vote", limit=limit, window=60.0, prefix=prefix, secret=SECRET
    )


class TestRedisLimiter:
    """The Redis limiter against a real Redis."""

    def test_two_limiters_on_one_prefix_share_one_window(self, client: redis.Redis) -> None:
        """Attempts through either count against the same limit, as two servers' would."""
        prefix = f"phieukin-test-{uuid.uuid4().hex}:"
        first, second = _limiter(client, prefix), _limiter(client, prefix)
        try:
            assert [first.hit("10.0.0.7"), second.hit("10.0.0.7"), first.hit("10.0.0.7")] == [
                0,
                0,
                0,
            ]
            assert second.blocked("10.0.0.7") > 0
            assert first.hit("10.0.0.7") > 0
            assert second.hit("10.0.0.8") == 0
        finally:
            for key in client.scan_iter(match=prefix + "*"):
                client.delete(key)

    def test_redis_never_holds_the_client_address(self, client: redis.Redis) -> None:
        """Keys are an HMAC of the address; neither keys nor members contain it."""
        prefix = f"phieukin-test-{uuid.uuid4().hex}:"
        limiter = _limiter(client, prefix)
        try:
            limiter.hit("203.0.113.77")
            keys = list(client.scan_iter(match=prefix + "*"))
            assert len(keys) == 1
            assert b"203.0.113.77" not in keys[0]
            members = client.zrange(keys[0], 0, -1)
            assert all(b"203.0.113" not in m for m in members)
            assert 0 < client.pttl(keys[0]) <= 60_000
        finally:
            for key in client.scan_iter(match=prefix + "*"):
                client.delete(key)


class TestWithoutRedis:
    """Unset, or unreachable: each process keeps its own limit, and nothing fails."""

    def test_unset_url_keeps_the_limits_in_memory(self) -> None:
        """No PHIEUKIN_REDIS_URL: plain in-memory limiters."""
        limiters = make_limiters(None, "p:", SECRET, {"login": 10, "vote": 60})
        assert all(isinstance(v, SlidingWindowLimiter) for v in limiters.values())

    def test_unreachable_redis_falls_back_to_memory(self) -> None:
        """A Redis that does not answer still limits, in this process."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        limiters = make_limiters(f"redis://127.0.0.1:{port}/0", "p:", SECRET, {"vote": 2})
        vote = limiters["vote"]
        assert [vote.hit("10.0.0.9"), vote.hit("10.0.0.9")] == [0, 0]
        assert vote.hit("10.0.0.9") > 0
        assert vote.blocked("10.0.0.9") > 0
