"""The cycle does not wait for a creator whose login is waiting out Fanvue's Retry-After."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from inbox.poll_wait import PollBudget, settle_polls


def test_a_poll_held_by_a_429_pause_is_left_running_and_the_others_are_waited_for():
    held, free = PollBudget(100, 60), PollBudget(100, 60)
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        held.pause_until(held.now() + 3)  # Fanvue answered 429 with Retry-After: 3
        slow = pool.submit(held.acquire)  # the next request of that login waits out the pause
        quick = pool.submit(lambda: release.wait(5) and free.acquire())
        threading.Timer(0.2, release.set).start()
        done = settle_polls({slow: held, quick: free}, lambda budget: budget.held(), deadline=30)
        assert done == {quick} and not slow.done() and held.held()
        assert slow.result(timeout=10) > 0  # it did go on, in the background
    assert not held.held() and not free.held()


def test_polls_that_are_not_held_are_all_waited_for():
    budget = PollBudget(100, 60)
    gate = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        busy = pool.submit(gate.wait, 5)
        threading.Timer(0.3, gate.set).start()
        assert settle_polls({busy: budget}, lambda b: b.held(), deadline=30) == {busy}
