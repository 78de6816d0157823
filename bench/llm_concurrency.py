"""How long a poll cycle takes to draft N new chats with a slow LLM, sequential against LLM_CONCURRENCY."""

from __future__ import annotations

import argparse
import dataclasses
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import runtime
import settings as settings_module
from inbox.cycle import run_cycle
from standins.fanvue import Sandbox
from standins.llm import LlmStandin
from standins.slack_api import SlackStandin

COMMAND = "python -m bench.llm_concurrency"
CHANNEL = "C0BENCH"
BOT_TOKEN = "xoxb-bench"


@dataclass(frozen=True)
class Run:
    concurrency: int
    chats: int
    seconds: float
    llm_requests: int
    max_in_flight: int
    fallbacks: int


def measure(chats: int, delay: float, concurrency: int, directory: Path) -> Run:
    """One cold cycle (every chat new) against a fresh sandbox, Slack stand-in and LLM stand-in."""
    with (
        Sandbox(fans=chats, seed=1, rate_limit=1_000_000) as sandbox,
        SlackStandin(bot_token=BOT_TOKEN) as slack,
        LlmStandin(delay=delay) as llm,
    ):
        _all_unread(sandbox)
        settings = settings_module.from_mapping(
            {
                "FANVUE_API_BASE": sandbox.url,
                "FANVUE_ACCESS_TOKEN": sandbox.token,
                "SLACK_API_URL": slack.api_url,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_CHANNEL_ID": CHANNEL,
                "SLACK_SIGNING_SECRET": "bench-signing-secret",
                "DATABASE_PATH": str(directory / f"bench-{concurrency}.db"),
                "DRAFTER": "openai",
                "LLM_BASE_URL": llm.base_url,
                "LLM_MODEL": "standin-model",
                "LLM_CONCURRENCY": str(concurrency),
            }
        )
        # The sandbox's rate limit is lifted, and so is the client's; the LLM gets time for its delay.
        settings = dataclasses.replace(
            settings, fanvue_rate_limit=1_000_000, llm_timeout=delay * 10 + 5, slack_post_interval=0
        )
        app = runtime.build(settings)
        svc, store = app.services, app.services.store
        try:
            svc.creator.get()  # not part of what is measured
            started = time.perf_counter()
            report = run_cycle(svc, max_posts=chats)
            seconds = time.perf_counter() - started
            fallbacks = next(
                iter(store.db.query("SELECT COUNT(*) AS n FROM drafts WHERE fallback_reason IS NOT NULL"))
            )["n"]
            assert report.drafted == chats, report.summary()
            return Run(concurrency, chats, seconds, len(llm.requests), llm.max_in_flight, fallbacks)
        finally:
            app.close()


def _all_unread(sandbox: Sandbox) -> None:
    """Every chat unread with the fan's message last, and none that cannot be drafted."""
    world = sandbox.world
    creator = world.creator["uuid"]
    for fan in world.fans():
        chat = world.chat(fan["uuid"])
        if chat["isRead"] or (chat["lastMessage"] or {}).get("senderUuid") == creator:
            world.add_fan_message(fan["uuid"], "hey, are you around?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--chats", type=int, default=24, help="new chats in the cycle (default 24)")
    parser.add_argument(
        "--delay", type=float, default=0.25, help="seconds the LLM takes per draft (default 0.25)"
    )
    parser.add_argument(
        "--concurrency",
        default="1,4,8",
        help="LLM_CONCURRENCY values to compare; 1 is the sequential baseline (default 1,4,8)",
    )
    args = parser.parse_args(argv)
    levels = sorted({int(v) for v in args.concurrency.split(",")} | {1})
    print(
        f"## Drafting {args.chats} new chats, LLM answering in {args.delay:g} s each\n\n`{COMMAND} "
        f"--chats {args.chats} --delay {args.delay:g} --concurrency {args.concurrency}`\n",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="fanvue-bench-") as directory:
        runs = [measure(args.chats, args.delay, level, Path(directory)) for level in levels]
    baseline = runs[0].seconds
    print(
        "| LLM_CONCURRENCY | cycle time | expected ⌈N/C⌉ × delay | speed-up vs sequential | LLM requests | "
        "most in flight | template fallbacks |"
    )
    print("|---|---|---|---|---|---|---|")
    for run in runs:
        expected = math.ceil(run.chats / run.concurrency) * args.delay
        label = f"{run.concurrency} (sequential)" if run.concurrency == 1 else str(run.concurrency)
        print(
            f"| {label} | {run.seconds:.2f} s | {expected:.2f} s | {baseline / run.seconds:.1f}× | "
            f"{run.llm_requests} | {run.max_in_flight} | {run.fallbacks} |"
        )
    print(
        "\nThe cycle time includes reading Fanvue and posting the cards (both local and fast here); the rest "
        "is waiting for the LLM, which the pool overlaps up to LLM_CONCURRENCY at a time."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
