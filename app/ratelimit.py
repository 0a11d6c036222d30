"""Per-client attempt limits: in this process's memory, or in Redis when several workers or
servers must share them (PHIEUKIN_REDIS_URL). Never written to the database or a log.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque
from typing import Protocol

import redis

log = logging.getLogger("phieukin.ratelimit")


class SlidingWindowLimiter:
    """Allows ``limit`` events per ``window`` seconds for each key."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._pruned = time.monotonic()

    def hit(self, key: str, now: float | None = None) -> int:
        """Record one attempt; returns 0 when allowed, else seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            # Keys (client addresses) are forgotten once their window has passed.
            if len(self._events) >= self.max_keys or now - self._pruned >= self.window:
                self._forget_old(now)
                self._pruned = now
            events = self._events.setdefault(key, deque())
            while events and now - events[0] >= self.window:
                events.popleft()
            if len(events) >= self.limit:
                return int(self.window - (now - events[0])) + 1
            events.append(now)
            return 0

    def blocked(self, key: str, now: float | None = None) -> int:
        """Seconds to wait if ``key`` is at its limit, else 0; records nothing."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.get(key)
            if not events:
                return 0
            while events and now - events[0] >= self.window:
                events.popleft()
            if len(events) >= self.limit:
                return int(self.window - (now - events[0])) + 1
            return 0

    def _forget_old(self, now: float) -> None:
        stale = [k for k, v in self._events.items() if not v or now - v[-1] >= self.window]
        for key in stale:
            del self._events[key]
        if len(self._events) >= self.max_keys:  # under attack from many addresses
            self._events.clear()


class Limiter(Protocol):
    """What the login throttle and the voting path need of a per-client limit."""

    def hit(self, key: str) -> int:
        """Record one attempt; returns 0 when allowed, else seconds to wait."""

    def blocked(self, key: str) -> int:
        """Seconds to wait if ``key`` is at its limit, else 0; records nothing."""


# One sliding window per key: a sorted set of attempt times (Redis's own clock, so that every
# server agrees), trimmed to the window on each call and expiring with it. Run atomically.
_HIT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return window - (t - tonumber(oldest[2]))
end
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], t, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
end
return 0
"""


class RedisSlidingWindowLimiter:
    """The same limit as ``SlidingWindowLimiter``, kept in Redis and shared by every worker
    and server that uses the same Redis and key prefix.

    Redis never sees a client's address: keys are an HMAC of it under the service's secret
    key, so a dump of Redis (or its snapshot on disk) names nobody. When Redis cannot be
    reached the limit falls back to this process's memory, and says so in the log once,
    rather than failing every login and every cast.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        name: str,
        limit: int,
        window: float,
        prefix: str,
        secret: bytes,
    ) -> None:
        self.client = client
        self.limit = limit
        self.window_ms = int(window * 1000)
        self.prefix = f"{prefix}{name}:"
        self.secret = secret
        self.fallback = SlidingWindowLimiter(limit, window)
        self._script = client.register_script(_HIT)
        self._warned = False

    def _key(self, key: str) -> str:
        return self.prefix + hmac.new(self.secret, key.encode(), hashlib.sha256).hexdigest()[:32]

    def _call(self, key: str, record: bool) -> int | None:
        try:
            wait_ms = self._script(
                keys=[self._key(key)],
                args=[self.window_ms, self.limit, "1" if record else "0", secrets.token_hex(8)],
            )
        except redis.RedisError as exc:
            if not self._warned:
                log.warning("Redis unreachable (%s): limits kept in this process only", exc)
                self._warned = True
            return None
        self._warned = False
        return -(-int(wait_ms) // 1000) if int(wait_ms) > 0 else 0

    def hit(self, key: str) -> int:
        """Record one attempt; returns 0 when allowed, else seconds to wait."""
        shared = self._call(key, record=True)
        return self.fallback.hit(key) if shared is None else shared

    def blocked(self, key: str) -> int:
        """Seconds to wait if ``key`` is at its limit, else 0; records nothing."""
        shared = self._call(key, record=False)
        return self.fallback.blocked(key) if shared is None else shared


def make_limiters(
    redis_url: str | None, prefix: str, secret: bytes, limits: dict[str, int]
) -> dict[str, Limiter]:
    """One limiter per name (attempts per minute): in Redis when a URL is set, else in memory."""
    if not redis_url:
        return {name: SlidingWindowLimiter(limit, 60.0) for name, limit in limits.items()}
    # Short timeouts: a limit check must never hold a login or a cast for long.
    client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return {
        name: RedisSlidingWindowLimiter(
            client, name=name, limit=limit, window=60.0, prefix=prefix, secret=secret
        )
        for name, limit in limits.items()
    }
