"""Time from new fan messages to their cards, with Slack's posting pace off and on, and a backlog drained."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from bench.rig import Rig, header, median, ms, percentile, read_all, table, unread_world, workdir
from inbox.cycle import run_cycle
from standins.slack_api import SlackStandin

COMMAND = "python -m bench.card_latency"
POLL_INTERVAL = 120  # the default POLL_INTERVAL_SECONDS
DEFAULT_CAP = 30  # the default SLACK_MAX_POSTS_PER_CYCLE
MAX_CYCLES = 60


@dataclass(frozen=True)
class Run:
    """New fan messages carded by back-to-back cycles; times are seconds from the messages' arrival."""

    label: str
    messages: int
    cap: int
    cycles: int
    latencies: list[float]
    computed: list[float]  # each card's time had cycles been POLL_INTERVAL apart (computed, not measured)
    seconds: float
    fanvue: float
    budget: float
    slack: float
    slack_429s: int
    fanvue_requests: int

    @property
    def ours(self) -> float:
        return max(0.0, self.seconds - self.fanvue - self.budget - self.slack)

    @property
    def limit(self) -> str:
        parts = {"Fanvue": self.fanvue + self.budget, "Slack": self.slack, "us": self.ours}
        return max(parts, key=parts.get)


def _card_run(
    label: str, messages: int, *, paced: bool, cap: int, latency_ms: int, rate_limit: int, directory: Path
) -> Run:
    """`messages` chats that were all read get one new fan message each; cycles run until every card is up."""
    sandbox = unread_world(messages, latency_ms=latency_ms, rate_limit=rate_limit)
    try:
        with SlackStandin(bot_token="xoxb-bench", pace=paced) as slack:
            rig = Rig(
                sandbox,
                slack,
                directory / label.replace(" ", "-"),
                rate_limit=rate_limit,
                post_interval=1.0 if paced else 0.0,
            )
            try:
                world = sandbox.world
                read_all(world)
                run_cycle(rig.svc, max_posts=cap)  # the creator's account is read once, as in a running app
                world.clear_requests()
                before = rig.clocks()
                arrived = time.perf_counter()
                for fan in world.fans():
                    world.add_fan_message(fan["uuid"], "new message, are you there?")
                starts: list[float] = []
                while len(rig.cards.posted_at) < messages and len(starts) < MAX_CYCLES:
                    starts.append(time.perf_counter())
                    run_cycle(rig.svc, max_posts=cap)
                seconds = time.perf_counter() - arrived
                after = rig.clocks()
                latencies, computed = [], []
                for posted in rig.cards.posted_at.values():
                    cycle = max(i for i, start in enumerate(starts) if start <= posted)
                    latencies.append(posted - arrived)
                    computed.append(cycle * POLL_INTERVAL + posted - starts[cycle])
                slack_429s = sum(1 for c in slack.calls("chat.postMessage") if c.status == 429)
                return Run(
                    label,
                    messages,
                    cap,
                    len(starts),
                    latencies,
                    computed,
                    seconds,
                    after[0] - before[0],
                    after[1] - before[1],
                    after[2] - before[2],
                    slack_429s,
                    len(world.requests),
                )
            finally:
                rig.close()
    finally:
        sandbox.stop()


def run(counts: list[int], backlog: int, latency_ms: int, directory: Path) -> list[Run]:
    runs = []
    for messages in counts:
        runs.append(
            _card_run(
                f"{messages} pace off",
                messages,
                paced=False,
                cap=max(counts + [backlog]),
                latency_ms=latency_ms,
                rate_limit=1_000_000,
                directory=directory,
            )
        )
        runs.append(
            _card_run(
                f"{messages} pace on",
                messages,
                paced=True,
                cap=DEFAULT_CAP,
                latency_ms=latency_ms,
                rate_limit=1_000_000,
                directory=directory,
            )
        )
    runs.append(
        _card_run(
            f"backlog {backlog}",
            backlog,
            paced=False,
            cap=backlog,
            latency_ms=latency_ms,
            rate_limit=200,
            directory=directory,
        )
    )
    return runs


def report(runs: list[Run], latency_ms: int) -> str:
    headers = [
        "new messages",
        "Slack pace",
        "cap/cycle",
        "cycles",
        "first card",
        "p50",
        "last card",
        "Fanvue / budget / Slack / us",
        "limit",
        f"last card, cycles {POLL_INTERVAL} s apart (computed)",
    ]
    rows = []
    for r in runs:
        pace = "off" if "off" in r.label or "backlog" in r.label else "on (1/s)"
        cap = r.cap if pace != "off" else "none"
        rows.append(
            [
                r.messages if "backlog" not in r.label else f"{r.messages} (backlog, 200/min budget)",
                pace,
                cap,
                r.cycles,
                ms(min(r.latencies)),
                ms(median(r.latencies)),
                ms(max(r.latencies)),
                " / ".join(ms(x) for x in (r.fanvue, r.budget, r.slack, r.ours)),
                r.limit,
                ms(percentile(r.computed, 100)),
            ]
        )
    backlog = runs[-1]
    naive = 1 + -(-backlog.messages // 50) + backlog.messages  # me, the list pages, one history read per chat
    notes = [
        f"Sandbox latency {latency_ms} ms. Messages arrive just before a cycle; times run from their arrival "
        f"to Slack's answer to chat.postMessage. In production a message also waits for the next poll: up to "
        f"POLL_INTERVAL_SECONDS ({POLL_INTERVAL} s), {POLL_INTERVAL // 2} s on average, not included.",
        "Pace on: the stand-in enforces chat.postMessage's pace (a burst of 3, then 1/s) and the app runs with its "
        f"defaults (1 post a second, {DEFAULT_CAP} new cards a cycle). Pace off: neither, and no cap, so what is "
        f"left is our own work. Slack 429s seen: {sum(r.slack_429s for r in runs)}.",
        f"Backlog: {backlog.messages} chats waiting at once, sandbox and client at Fanvue's real 200/min budget, "
        f"pace off: {backlog.fanvue_requests} Fanvue requests in {ms(backlog.seconds)}. Computed for production "
        f"settings: Slack's 1 post/s makes that {backlog.messages} s of posting; the default cap of {DEFAULT_CAP} "
        f"cards per {POLL_INTERVAL} s cycle stretches it to {-(-backlog.messages // DEFAULT_CAP)} cycles, about "
        f"{-(-backlog.messages // DEFAULT_CAP) * POLL_INTERVAL / 60:.0f} min. The naive baseline would need "
        f"{naive} requests a cycle, {max(0, naive - 200) * 0.3:.0f} s or more of Fanvue's budget per cycle "
        "(computed).",
    ]
    return table(headers, rows) + "\n\n" + "\n\n".join(notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--counts", default="1,50,200", help="new fan messages in one cycle, comma-separated")
    parser.add_argument("--backlog", type=int, default=1000, help="chats waiting at once for the drain run")
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",")]
    header(
        "From a new fan message to its card",
        f"{COMMAND} --counts {args.counts} --backlog {args.backlog} --latency-ms {args.latency_ms}",
    )
    with workdir() as directory:
        runs = run(counts, args.backlog, args.latency_ms, Path(directory))
    print(report(runs, args.latency_ms), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
