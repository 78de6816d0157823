"""The client-side rate budget, driven by a fake clock."""

import threading

import pytest

from fanvue.ratelimit import RateBudget


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self, start: float = 1000.0, wall: float = 1_700_000_000.0) -> None:
        self.now = start
        self.wall_offset = wall - start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + self.wall_offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def budget(clock: FakeClock, limit: int = 10, window: float = 10.0) -> RateBudget:
    return RateBudget(
        limit=limit, window=window, clock=clock.monotonic, sleep=clock.sleep, wall_clock=clock.wall
    )


def test_burst_up_to_the_limit_does_not_wait():
    clock = FakeClock()
    b = budget(clock)
    assert [b.acquire() for _ in range(10)] == [0.0] * 10
    assert clock.sleeps == []


def test_beyond_the_limit_requests_are_spaced_at_the_refill_rate():
    clock = FakeClock()
    b = budget(clock, limit=10, window=10.0)  # one token per second
    for _ in range(10):
        b.acquire()
    b.acquire()
    b.acquire()
    assert clock.sleeps == pytest.approx([1.0, 1.0])


def test_tokens_refill_with_time():
    clock = FakeClock()
    b = budget(clock)
    for _ in range(10):
        b.acquire()
    clock.now += 5.0
    assert [b.acquire() for _ in range(5)] == [0.0] * 5
    assert b.acquire() == pytest.approx(1.0)


def test_waiting_callers_reserve_distinct_slots():
    clock = FakeClock()
    # Time is frozen (sleeps are only recorded), so three callers queue up behind the first.
    frozen = RateBudget(limit=1, window=1.0, clock=clock.monotonic, sleep=lambda s: clock.sleeps.append(s))
    frozen.acquire()
    waits = [frozen.acquire() for _ in range(3)]
    assert waits == pytest.approx([1.0, 2.0, 3.0])


def test_observe_remaining_zero_pauses_until_the_server_reset():
    clock = FakeClock()
    b = budget(clock, limit=200, window=60.0)
    b.observe(remaining=0, reset_epoch=clock.wall() + 7)
    assert b.acquire() == pytest.approx(7.0)
    assert clock.sleeps == pytest.approx([7.0])


def test_observe_remaining_zero_without_reset_still_pauses():
    clock = FakeClock()
    b = budget(clock, limit=200, window=60.0)
    b.observe(remaining=0, reset_epoch=None)
    assert b.acquire() > 0


def test_observe_few_remaining_caps_the_local_bucket():
    clock = FakeClock()
    b = budget(clock, limit=200, window=60.0)
    b.observe(remaining=2, reset_epoch=clock.wall() + 30)
    assert [b.acquire(), b.acquire()] == [0.0, 0.0]
    assert b.acquire() == pytest.approx(60.0 / 200)


def test_observe_plenty_remaining_changes_nothing():
    clock = FakeClock()
    b = budget(clock, limit=5, window=5.0)
    b.observe(remaining=150, reset_epoch=clock.wall() + 30)
    assert [b.acquire() for _ in range(5)] == [0.0] * 5
    b.observe(remaining=None, reset_epoch=None)
    assert b.acquire() == pytest.approx(1.0)


def test_observe_distant_reset_is_capped_at_one_window():
    clock = FakeClock()
    b = budget(clock, limit=10, window=10.0)
    b.observe(remaining=0, reset_epoch=clock.wall() + 86_400)
    assert b.acquire() == pytest.approx(10.0)


def test_pause_until_holds_back_the_next_request_and_never_shortens():
    clock = FakeClock()
    b = budget(clock)
    b.pause_until(clock.now + 3.0)
    b.pause_until(clock.now + 1.0)
    assert b.acquire() == pytest.approx(3.0)
    assert b.acquire() == 0.0


def test_acquire_is_thread_safe():
    clock = FakeClock()
    b = RateBudget(limit=50, window=1.0, clock=clock.monotonic, sleep=lambda s: None)
    waits: list[float] = []

    def worker():
        for _ in range(20):
            waits.append(b.acquire())

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 100 requests against a 50-token bucket with frozen time: exactly 50 had to wait, each at its own slot.
    delayed = sorted(w for w in waits if w > 0)
    assert len(delayed) == 50
    assert delayed == pytest.approx([i / 50 for i in range(1, 51)])


def test_rejects_nonsense_limits():
    with pytest.raises(ValueError):
        RateBudget(limit=0)
