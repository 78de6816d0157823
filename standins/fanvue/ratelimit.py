"""Per-token token bucket with the numbers Fanvue reports in its X-RateLimit-* headers."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    """Outcome of one request against its bucket."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class TokenBucketLimiter:
    """`limit` requests per `window` seconds per key, refilled continuously."""

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("rate limit and window must be positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    @property
    def _per_second(self) -> float:
        return self.limit / self.window

    def take(self, key: str) -> RateDecision:
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(self.limit), now))
            tokens = min(float(self.limit), tokens + (now - last) * self._per_second)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
        full_in = (self.limit - tokens) / self._per_second
        retry_after = max(1, math.ceil((1.0 - tokens) / self._per_second)) if not allowed else 0
        return RateDecision(
            allowed=allowed,
            limit=self.limit,
            remaining=int(tokens),
            reset_at=math.ceil(self._wall() + full_in),
            retry_after=retry_after,
        )
