"""The app's workflow wired to the sandbox and the Slack stand-in, with clocks on every remote call."""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

import runtime
import settings as settings_module
from fanvue import FanvueClient
from fanvue.ratelimit import DEFAULT_WINDOW, RateBudget
from inbox.services import Services
from slack.cards import SlackCards
from standins.fanvue import Sandbox
from standins.slack_api import SlackStandin
from store.db import Store
from store.drafts import Draft

CHANNEL = "C0BENCH"
BOT_TOKEN = "xoxb-bench"
UNLIMITED = 1_000_000  # a rate limit no benchmark reaches, for runs that count requests rather than wait


class TimedSession(requests.Session):
    """A session that adds up the time spent waiting for Fanvue's answers."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self._lock = threading.Lock()

    def request(self, *args, **kwargs) -> requests.Response:
        start = time.perf_counter()
        try:
            return super().request(*args, **kwargs)
        finally:
            with self._lock:
                self.seconds += time.perf_counter() - start


class TimedBudget(RateBudget):
    """The client's rate budget, adding up how long requests waited for it."""

    def __init__(self, limit: int, window: float) -> None:
        super().__init__(limit=limit, window=window)
        self.waited = 0.0
        self._sum_lock = threading.Lock()

    def acquire(self) -> float:
        waited = super().acquire()
        with self._sum_lock:
            self.waited += waited
        return waited


class TimedCards:
    """The cards port around SlackCards: time spent in Slack, and when each card was posted."""

    def __init__(self, inner: SlackCards) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.posted_at: dict[int, float] = {}
        self.updated_at: dict[int, float] = {}
        self._lock = threading.Lock()

    def _timed(self, call: Callable, draft: Draft, *args):
        start = time.perf_counter()
        try:
            return call(draft, *args)
        finally:
            with self._lock:
                self.seconds += time.perf_counter() - start

    def post(self, draft: Draft) -> tuple[str, str]:
        answer = self._timed(self.inner.post, draft)
        with self._lock:
            self.posted_at[draft.id] = time.perf_counter()
        return answer

    def update(self, draft: Draft) -> None:
        self._timed(self.inner.update, draft)
        with self._lock:
            self.updated_at[draft.id] = time.perf_counter()

    def notify(self, draft: Draft, user: str, text: str) -> None:
        self._timed(self.inner.notify, draft, user, text)


@dataclass
class Rig:
    """One app instance (runtime.build) against a sandbox and a stand-in it does not own, with clocks on."""

    sandbox: Sandbox
    slack: SlackStandin
    directory: Path
    rate_limit: int = UNLIMITED
    post_interval: float = 0.0
    timeout: float = 10.0
    session: TimedSession = field(init=False)
    budget: TimedBudget = field(init=False)
    cards: TimedCards = field(init=False)
    svc: Services = field(init=False)
    store: Store = field(init=False)
    fanvue: FanvueClient = field(init=False)

    def __post_init__(self) -> None:
        self.session = TimedSession()
        self.budget = TimedBudget(self.rate_limit, DEFAULT_WINDOW)
        settings = settings_module.from_mapping(
            {
                "FANVUE_API_BASE": self.sandbox.url,
                "FANVUE_ACCESS_TOKEN": self.sandbox.token,
                "SLACK_API_URL": self.slack.api_url,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_CHANNEL_ID": CHANNEL,
                "SLACK_SIGNING_SECRET": "bench-signing-secret",
                "DATABASE_PATH": str(self.directory / "bench.db"),
            }
        )
        settings = dataclasses.replace(
            settings,
            fanvue_timeout=self.timeout,
            fanvue_rate_limit=self.rate_limit,
            slack_post_interval=self.post_interval,
        )
        self.runtime = runtime.build(settings, cards=self._timed, session=self.session, budget=self.budget)
        self.svc = self.runtime.services
        self.store, self.fanvue = self.svc.store, self.svc.fanvue

    def _timed(self, cards: SlackCards) -> TimedCards:
        self.cards = TimedCards(cards)
        return self.cards

    def close(self) -> None:
        self.runtime.close()
        self.session.close()

    def clocks(self) -> tuple[float, float, float]:
        """(seconds waiting for Fanvue, seconds waiting for the rate budget, seconds in Slack) so far."""
        return self.session.seconds, self.budget.waited, self.cards.seconds


def unread_world(fans: int, *, latency_ms: int = 0, rate_limit: int = UNLIMITED, seed: int = 1) -> Sandbox:
    """A started sandbox where every one of `fans` chats is unread with the fan's message last."""
    sandbox = Sandbox(fans=fans, seed=seed, rate_limit=rate_limit, latency_ms=0).start()
    world = sandbox.world
    creator = world.creator["uuid"]
    for fan in world.fans():
        chat = world.chat(fan["uuid"])
        if chat["isRead"] or (chat["lastMessage"] or {}).get("senderUuid") == creator:
            world.add_fan_message(fan["uuid"], "hey, are you around?")
    world.set_latency(latency_ms)
    return sandbox


def read_all(world) -> None:
    """Mark every chat read, as if the creator had caught up: the next cycle finds nothing new."""
    for fan in world.fans():
        world.update_chat(fan["uuid"], True, None, None)


def workdir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="fanvue-bench-")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p50, p99) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, so the output pastes straight into docs/performance.md."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """Where and when the numbers were taken."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.system()} {platform.release()}; {cpu}; "
        f"{os.cpu_count()} cores; Python {platform.python_version()}"
    )


def header(title: str, command: str) -> None:
    print(f"## {title}\n\n`{command}`  \n{machine()}\n", flush=True)
