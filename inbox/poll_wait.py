"""How long a cycle waits for its creators' polls: not for one that is waiting out Fanvue's rate limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TypeVar

from fanvue.ratelimit import RateBudget

# How often the cycle looks again at the polls still running.
LOOK_AGAIN_SECONDS = 0.05

T = TypeVar("T")


class PollBudget(RateBudget):
    """A login's rate budget that tells when a request of it is waiting out a pause Fanvue asked for (a
    429's Retry-After)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._held_until = float("-inf")
        self._waiting = 0
        self._count_lock = threading.Lock()

    def pause_until(self, monotonic_deadline: float) -> None:
        super().pause_until(monotonic_deadline)
        with self._count_lock:
            self._held_until = max(self._held_until, monotonic_deadline)

    def acquire(self) -> float:
        with self._count_lock:
            paused = self.now() < self._held_until
            self._waiting += paused
        try:
            return super().acquire()
        finally:
            with self._count_lock:
                self._waiting -= paused

    def held(self) -> bool:
        """True while a request waits out Fanvue's pause."""
        with self._count_lock:
            return self._waiting > 0


def settle_polls(
    futures: Mapping[Future, T], held: Callable[[T], bool], deadline: float, *, clock=time.monotonic
) -> set[Future]:
    """The polls done once every other one is done or held back by Fanvue's rate limit, or at `deadline`
    seconds. A creator answering 429s then goes on in the background and does not hold the others' cards."""
    end = clock() + deadline
    pending = set(futures)
    done: set[Future] = set()
    while pending:
        left = end - clock()
        if left <= 0:
            break
        finished, pending = wait(pending, timeout=min(left, LOOK_AGAIN_SECONDS), return_when=FIRST_COMPLETED)
        done |= finished
        if pending and all(held(futures[f]) for f in pending):
            break
    return done
