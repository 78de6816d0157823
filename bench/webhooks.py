"""Message → card with Fanvue's webhooks, against polling alone: spread messages, bursts, dropped events."""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from dataclasses import dataclass
from pathlib import Path

import runtime
import settings as settings_module
from bench.rig import (
    BOT_TOKEN,
    CHANNEL,
    TimedCards,
    machine,
    ms,
    percentile,
    read_all,
    table,
    unread_world,
    workdir,
)
from inbox.cycle import run_cycle
from inbox.webhook_http import PATHS
from slack.cards import SlackCards
from standins.fanvue import Sandbox
from standins.slack_api import SlackStandin
from store import drafts

COMMAND = "python -m bench.webhooks"
SECRET = "whsec-bench"
LATENCY_MS = 50
SETTLE_SECONDS = 60.0  # the longest a run waits for the last card after the last message


@dataclass(frozen=True)
class Result:
    label: str
    messages: int
    latencies: list[float]  # message → card posted (or showing it), seconds; "computed" runs add a tick wait
    fanvue_requests: int
    drafts_per_chat: list[int]
    carded: int
    chats: int  # chats that should have a card
    note: str = ""


class App:
    """The app as runtime.build makes it, serving webhooks on a free port; no scheduler (cycles on demand)."""

    def __init__(self, sandbox: Sandbox, directory: Path, *, webhooks: bool, burst: float | None = None):
        values = {
            "FANVUE_API_BASE": sandbox.url,
            "FANVUE_ACCESS_TOKEN": sandbox.token,
            "SLACK_API_URL": self._slack(directory).api_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_CHANNEL_ID": CHANNEL,
            "SLACK_SIGNING_SECRET": "bench-signing-secret",
            "DATABASE_PATH": str(directory / "bench.db"),
            "LOG_LEVEL": "WARNING",
            **({"FANVUE_WEBHOOK_SECRET": SECRET} if webhooks else {}),
        }
        settings = dataclasses.replace(settings_module.from_mapping(values), port=0, slack_post_interval=0.0)
        if burst is not None:
            settings = dataclasses.replace(settings, webhook_burst_seconds=burst)
        self.runtime = runtime.build(settings, cards=self._timed, host="127.0.0.1")
        self.cards: TimedCards
        self.svc = self.runtime.services
        self.server = self.runtime.serve()
        base = f"http://127.0.0.1:{self.server.port}"
        if webhooks:
            received, read = PATHS.values()
            sandbox.webhooks.register(base + received, base + read, SECRET)
        self.svc.creator.get()  # the creator's account is read once, as in a running app
        self.sandbox = sandbox

    def _slack(self, directory: Path) -> SlackStandin:
        self.slack = SlackStandin(bot_token=BOT_TOKEN, pace=False).start()
        return self.slack

    def _timed(self, cards: SlackCards) -> TimedCards:
        self.cards = TimedCards(cards)
        return self.cards

    def card_times(self) -> dict[str, tuple[int, float, float | None]]:
        """fan uuid → (draft versions, when its card was posted, when last updated)."""
        found = {}
        for draft in drafts.with_status(self.svc.store.db, drafts.PENDING):
            posted = self.cards.posted_at.get(draft.id)
            if posted is not None:
                found[draft.fan_uuid] = (draft.version, posted, self.cards.updated_at.get(draft.id))
        return found

    def close(self) -> None:
        self.sandbox.webhooks.unregister()
        self.runtime.stop(drain=10)
        self.slack.stop()


def _play(world, schedule: list[tuple[float, str]], drop: set[int], sandbox: Sandbox) -> dict[int, float]:
    """Write each (offset, fan) message at its time; the indexes in `drop` lose their webhook."""
    start = time.perf_counter()
    written: dict[int, float] = {}
    for index, (offset, fan) in enumerate(schedule):
        delay = start + offset - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if index in drop:
            sandbox.webhooks.set_faults(drop=1)
        world.add_fan_message(fan, f"message {index}")
        written[index] = time.perf_counter()
    return written


def _wait_for_cards(app: App, fans: set[str], timeout: float = SETTLE_SECONDS) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = app.card_times()
        if fans <= set(found):
            break
        time.sleep(0.05)
    app.sandbox.webhooks.wait_idle(timeout)
    assert app.runtime.actor is not None
    app.runtime.actor.idle(timeout)
    return app.card_times()


def spread(fans: int, period: float, directory: Path, *, drop_share: float = 0.0, seed: int = 7) -> Result:
    """Each fan sends one message at a random moment of `period`; webhooks on, some dropped."""
    sandbox = unread_world(fans, latency_ms=0, seed=seed)
    rng = random.Random(seed)
    try:
        read_all(sandbox.world)
        sandbox.world.set_latency(LATENCY_MS)
        app = App(sandbox, directory, webhooks=True)
        try:
            uuids = [f["uuid"] for f in sandbox.world.fans()]
            schedule = sorted((rng.uniform(0, period), fan) for fan in uuids)
            # The first event always arrives: a message before any did is not counted as missed by a webhook.
            drop = set(rng.sample(range(1, len(schedule)), round(drop_share * len(schedule))))
            sandbox.world.clear_requests()
            written = _play(sandbox.world, schedule, drop, sandbox)
            waited = [fan for i, (_, fan) in enumerate(schedule) if i not in drop]
            found = _wait_for_cards(app, set(waited))
            latencies = [found[fan][1] - written[i] for i, (_, fan) in enumerate(schedule) if fan in found]
            requests_made = sandbox.world.request_count()
            note = ""
            if drop:
                starts, reports = _cycles_until_carded(app, set(uuids))
                found = app.card_times()
                interval = app.runtime.settings.poll_interval_with_webhooks
                note = (
                    f"{len(drop)} events dropped; {len(starts)} cycle(s) carded them all (room for "
                    f"{app.runtime.pace.max_posts()} new cards a cycle while webhooks arrive: "
                    f"{app.runtime.settings.slack_max_posts_per_cycle} per {app.runtime.settings.poll_interval} s "
                    f"of its {interval} s interval), counting {sum(r.unannounced for r in reports)} "
                    "as not announced"
                )
            return Result(
                f"{fans} fans over {period:g} s" + (f", {drop_share:.0%} dropped" if drop else ""),
                len(schedule),
                latencies,
                requests_made,
                [v for v, _, _ in found.values()],
                sum(1 for fan in uuids if fan in found),
                len(uuids),
                note,
            )
        finally:
            app.close()
    finally:
        sandbox.stop()


def bursts(
    fans: int, size: int, window: float, directory: Path, *, seed: int = 11, burst: float | None = None
) -> Result:
    """Each fan sends `size` messages within `window` seconds; the card's drafts and the last message's wait
    (`burst`: WEBHOOK_BURST_SECONDS, its default unless given)."""
    sandbox = unread_world(fans, latency_ms=0, seed=seed)
    rng = random.Random(seed)
    try:
        read_all(sandbox.world)
        sandbox.world.set_latency(LATENCY_MS)
        app = App(sandbox, directory, webhooks=True, burst=burst)
        try:
            uuids = [f["uuid"] for f in sandbox.world.fans()]
            schedule = sorted(
                (start + rng.uniform(0, window), fan)
                for fan, start in ((fan, rng.uniform(0, window / 2)) for fan in uuids)
                for _ in range(size)
            )
            sandbox.world.clear_requests()
            written = _play(sandbox.world, schedule, set(), sandbox)
            found = _wait_for_cards(app, set(uuids))
            last = {fan: written[i] for i, (_, fan) in enumerate(schedule)}  # each fan's last message
            latencies = [max(p, u or p) - last[fan] for fan, (_, p, u) in found.items()]
            return Result(
                f"{fans} fans × {size} messages in {window:g} s",
                len(schedule),
                latencies,
                sandbox.world.request_count(),
                [v for v, _, _ in found.values()],
                len(found),
                len(uuids),
                "latency: the fan's last message → the card showing it",
            )
        finally:
            app.close()
    finally:
        sandbox.stop()


def _cycles_until_carded(app: App, fans: set[str], most: int = 20) -> tuple[list[float], list]:
    """Cycles back to back until every fan has a card; when each started, and their reports."""
    starts, reports = [], []
    while not fans <= set(app.card_times()) and len(starts) < most:
        starts.append(time.perf_counter())
        reports.append(run_cycle(app.svc, max_posts=app.runtime.pace.max_posts()))
    return starts, reports


def polling(fans: int, period: float, directory: Path, *, seed: int = 7) -> Result:
    """Webhooks off: each message waits for the next cycle (POLL_INTERVAL_SECONDS apart; the wait is computed,
    uniform over the interval), then the cycle's own time to post the cards is measured."""
    sandbox = unread_world(fans, latency_ms=0, seed=seed)
    rng = random.Random(seed)
    interval = settings_module.DEFAULT.poll_interval
    try:
        read_all(sandbox.world)
        sandbox.world.set_latency(LATENCY_MS)
        app = App(sandbox, directory, webhooks=False)
        try:
            uuids = [f["uuid"] for f in sandbox.world.fans()]
            for fan in uuids:
                sandbox.world.add_fan_message(fan, "one message")
            sandbox.world.clear_requests()
            starts, _ = _cycles_until_carded(app, set(uuids))
            found = app.card_times()
            # A message written at a random moment waits for the next cycle (uniformly up to one interval),
            # then for as many more cycles as the cards ahead of it fill (SLACK_MAX_POSTS_PER_CYCLE each).
            latencies = []
            for _, posted, _ in found.values():
                k = max(i for i, start in enumerate(starts) if start <= posted)
                latencies.append(rng.uniform(0, interval) + k * interval + posted - starts[k])
            return Result(
                f"{fans} fans over {period:g} s, polling only",
                fans,
                latencies,
                sandbox.world.request_count(),
                [v for v, _, _ in found.values()],
                len(found),
                len(uuids),
                f"computed: a uniform wait for the next cycle ({interval} s apart), + one interval per earlier "
                f"cycle a card waited through, + its time in the measured cycle; {len(starts)} cycles",
            )
        finally:
            app.close()
    finally:
        sandbox.stop()


def run(fans: int, period: float, burst_fans: int, directory: Path) -> list[Result]:
    return [
        spread(fans, period, directory / "spread"),
        bursts(burst_fans, 5, 10.0, directory / "bursts"),
        polling(fans, period, directory / "polling"),
        spread(fans, period, directory / "dropped", drop_share=0.2),
    ]


def report(results: list[Result]) -> str:
    rows = [
        (
            r.label,
            r.messages,
            f"{r.carded} of {r.chats}",
            ms(percentile(r.latencies, 50)) if r.latencies else "-",
            ms(percentile(r.latencies, 99)) if r.latencies else "-",
            f"{max(r.drafts_per_chat) if r.drafts_per_chat else 0}",
            f"{r.fanvue_requests / max(1, r.messages):.2f}",
        )
        for r in results
    ]
    headers = (
        "run",
        "messages",
        "chats carded",
        "p50 to card",
        "p99 to card",
        "most drafts per chat",
        "requests/msg",
    )
    notes = "\n".join(f"- {r.label}: {r.note}" for r in results if r.note)
    return (
        f"{machine()}; Fanvue latency {LATENCY_MS} ms; template drafter\n\n{table(headers, rows)}\n\n{notes}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 fans over 3 s, 3 bursts")
    args = parser.parse_args(argv)
    fans, period, burst_fans = (10, 3.0, 3) if args.quick else (200, 60.0, 20)
    with workdir() as tmp:
        results = run(fans, period, burst_fans, Path(tmp))
    print(report(results))
    return 0 if all(r.carded == r.chats for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
