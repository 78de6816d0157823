"""How often the poll cycle runs and how many new cards it may post: less often while webhooks arrive."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from inbox.webhook_watch import QUIET_INTERVALS
from settings import Settings


@dataclass
class PollPace:
    """The scheduler ticks every POLL_INTERVAL_SECONDS; while webhooks arrive only the ticks
    POLL_INTERVAL_WITH_WEBHOOKS_SECONDS apart run a cycle (the scheduler itself is never changed)."""

    settings: Settings
    last_webhook: Callable[[], datetime | None]  # when the last webhook was stored; None: none yet
    clock: Callable[[], float] = time.monotonic
    last_cycle: float | None = field(default=None, init=False)  # the clock at the last cycle's start
    behind: bool = field(default=False, init=False)  # the last cycle left new cards waiting

    def interval(self) -> int:
        """POLL_INTERVAL_SECONDS, or the longer POLL_INTERVAL_WITH_WEBHOOKS_SECONDS while webhooks arrive (one
        stored within QUIET_INTERVALS of that interval): polling is then the safety net for missed events."""
        base, relaxed = self.settings.poll_interval, self.settings.poll_interval_with_webhooks
        last = self.last_webhook()
        if last is None or relaxed <= base:
            return base
        recent = datetime.now(UTC) - last <= timedelta(seconds=QUIET_INTERVALS * relaxed)
        return relaxed if recent else base

    def max_posts(self) -> int:
        """New cards a cycle may post: SLACK_MAX_POSTS_PER_CYCLE for each POLL_INTERVAL_SECONDS the cycle's
        interval spans, so a cycle run less often while webhooks arrive has room for every message they
        missed in that time (posted at Slack's pace all the same)."""
        spans = max(1, self.interval() // self.settings.poll_interval)
        return self.settings.slack_max_posts_per_cycle * spans

    def due(self) -> bool:
        """Whether this tick runs a cycle (and if so, it counts as the last cycle's start). A cycle that left
        cards waiting makes the next tick due whatever the interval."""
        now, interval, base = self.clock(), self.interval(), self.settings.poll_interval
        relaxed = interval > base and not self.behind
        if relaxed and self.last_cycle is not None and now - self.last_cycle + base / 2 < interval:
            return False
        self.last_cycle = now
        return True

    def ran(self, deferred: int) -> None:
        """After a cycle: how many new cards it left for the next one."""
        self.behind = deferred > 0
