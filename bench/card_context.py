"""Card latency with fan context on and off in one run: N fans write, one cycle cards them all."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from bench.rig import Rig, header, median, ms, percentile, table, unread_world, workdir
from inbox.cycle import run_cycle
from standins.slack_api import SlackStandin

COMMAND = "python -m bench.card_context"


@dataclass(frozen=True)
class Result:
    """One cycle that cards `fans` waiting chats; times are seconds from the cycle's start."""

    context: str
    fans: int
    latencies: list[float]
    seconds: float
    context_requests: int
    with_context: int  # cards whose line shows Fanvue's context


def _one(fans: int, *, context: bool, latency_ms: int, directory: Path) -> Result:
    sandbox = unread_world(fans, latency_ms=latency_ms)
    try:
        with SlackStandin(bot_token="xoxb-bench") as slack:
            rig = Rig(sandbox, slack, directory / ("on" if context else "off"))
            try:
                rig.svc.card_context.enabled = context
                rig.svc.creator.get()  # the creator's account is read once, as in a running app
                sandbox.world.clear_requests()
                started = time.perf_counter()
                run_cycle(rig.svc, max_posts=fans)
                seconds = time.perf_counter() - started
                latencies = [posted - started for posted in rig.cards.posted_at.values()]
                paths = [r.path for r in sandbox.world.requests]
                asked = sum(p.startswith("/insights") or p == "/chats/statuses" for p in paths)
                shown = sum(
                    "spent $" in str(m.blocks) or "no purchases" in str(m.blocks) for m in slack.messages()
                )
                return Result("on" if context else "off", fans, latencies, seconds, asked, shown)
            finally:
                rig.close()
    finally:
        sandbox.stop()


def run(sizes: list[int], latency_ms: int, directory: Path) -> list[Result]:
    return [
        _one(fans, context=context, latency_ms=latency_ms, directory=directory / str(fans))
        for fans in sizes
        for context in (False, True)
    ]


def report(results: list[Result], latency_ms: int) -> str:
    rows = [
        (
            r.fans,
            r.context,
            ms(median(r.latencies)),
            ms(percentile(r.latencies, 99)),
            ms(r.seconds),
            r.context_requests,
            f"{r.with_context}/{len(r.latencies)}",
        )
        for r in results
    ]
    return (
        f"Fanvue stand-in latency {latency_ms} ms a request; one cycle, every fan waiting, no post cap.\n\n"
        + table(
            ("fans", "context", "card p50", "card p99", "cycle", "context requests", "cards with context"),
            rows,
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--sizes", default="10,100", help="waiting fans per run, comma-separated (10,100)")
    parser.add_argument("--latency-ms", type=int, default=50, help="Fanvue stand-in latency (50)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    header("Card latency with fan context on and off", COMMAND)
    with workdir() as directory:
        print(report(run(sizes, args.latency_ms, Path(directory)), args.latency_ms))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
