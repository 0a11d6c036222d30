"""Per-client attempt limits kept in this process's memory only, never written anywhere."""

from __future__ import annotations

import threading
import time
from collections import deque


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
