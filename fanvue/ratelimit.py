"""Client-side request budget that keeps the client under Fanvue's rate limit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

# A reset time further away than this is treated as a clock problem, not as an order to stop for hours.
MAX_PAUSE_WINDOWS = 1.0
EXHAUSTED_PAUSE_WITHOUT_RESET = 1.0
# Fanvue's published limit: requests per window of seconds, per app and user.
DEFAULT_LIMIT = 200
DEFAULT_WINDOW = 60.0


class RateBudget:
    """A thread-safe token bucket: `limit` requests per `window` seconds, tightened by server hints."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be at least 1 and window positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._rate = limit / window
        self._lock = threading.Lock()
        self._tokens = float(limit)
        self._updated = clock()
        self._paused_until = float("-inf")

    def __repr__(self) -> str:
        return f"RateBudget(limit={self.limit}, window={self.window})"

    def acquire(self) -> float:
        """Block until a request may go; return the seconds waited."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            # Reserve a slot now (the bucket may go into debt) so that waiting callers are spaced
            # evenly instead of all waking at once and racing for one token.
            self._tokens -= 1
            debt_wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
            wait = max(debt_wait, self._paused_until - now, 0.0)
        if wait > 0:
            logger.debug("Rate budget: waiting %.2f s before the next Fanvue request", wait)
            self._sleep(wait)
        return wait

    def observe(self, remaining: int | None, reset_epoch: float | None) -> None:
        """Take the server's view into account: never hold more tokens than it says remain."""
        if remaining is None:
            return
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens = min(self._tokens, float(remaining))
        if remaining > 0:
            return
        if reset_epoch is None:
            delay = EXHAUSTED_PAUSE_WITHOUT_RESET
        else:
            delay = min(max(reset_epoch - self._wall_clock(), 0.0), self.window * MAX_PAUSE_WINDOWS)
        logger.info("Fanvue says no requests remain; pausing %.1f s", delay)
        self.pause_until(now + delay)

    def pause_until(self, monotonic_deadline: float) -> None:
        """Start no request before this point on the budget's clock (used after a 429)."""
        with self._lock:
            self._paused_until = max(self._paused_until, monotonic_deadline)

    def now(self) -> float:
        """The budget's clock, for callers computing a `pause_until` deadline."""
        return self._clock()

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.limit), self._tokens + elapsed * self._rate)
        self._updated = now


class BudgetBook:
    """One RateBudget per key, made on first use: Fanvue counts each creator's routes in its own bucket."""

    def __init__(self, factory: Callable[[str], RateBudget]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._budgets: dict[str, RateBudget] = {}

    def __repr__(self) -> str:
        return f"BudgetBook({len(self._budgets)} budgets)"

    def get(self, key: str) -> RateBudget:
        with self._lock:
            budget = self._budgets.get(key)
            if budget is None:
                budget = self._budgets[key] = self._factory(key)
            return budget
