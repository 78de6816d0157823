"""Send clicks over signed HTTP: acknowledgement and click-to-sent latency for 1 and for many at once."""

from __future__ import annotations

import argparse
import http.client
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.app_process import SECRET, AppProcess
from bench.rig import BOT_TOKEN, Rig, header, ms, percentile, table, unread_world, workdir
from inbox.cycle import run_cycle
from slack import blocks
from standins.slack_api import SlackStandin
from standins.slack_requests import block_action_body, sign_request
from store import drafts

COMMAND = "python -m bench.clicks"
ACK_TARGET = 0.300


@dataclass
class Burst:
    """Clicks sent at once, each on its own card."""

    design: str
    clicks: int
    acks: list[float] = field(default_factory=list)
    to_sent: list[float] = field(default_factory=list)
    to_card: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    sent_once: int = 0
    sent_twice: int = 0
    not_sent: int = 0
    locked: int = 0
    fanvue_requests: int = 0
    fanvue_429s: int = 0


def _click_body(slack: SlackStandin, msg, user: str) -> str:
    button = next(
        e
        for b in msg.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == blocks.SEND
    )
    return block_action_body(
        user_id=user,
        user_name=user.lower(),
        action_id=blocks.SEND,
        value=button["value"],
        channel_id=msg.channel,
        message_ts=msg.ts,
        message=msg.to_dict(),
        trigger_id=slack.new_trigger_id(user),
        block_id="decide",
        response_url=slack.new_response_url(channel=msg.channel, message_ts=msg.ts, user=user),
    )


def _burst(design: str, clicks: int, latency_ms: int, directory: Path) -> Burst:
    sandbox = unread_world(clicks, latency_ms=latency_ms, rate_limit=200)
    for fan in sandbox.world.fans():
        sandbox.world.set_contactable(fan["uuid"], True)  # every click should end in a send
    try:
        with SlackStandin(bot_token=BOT_TOKEN) as slack:
            rig = Rig(sandbox, slack, directory / f"{design}-{clicks}")
            run_cycle(rig.svc, max_posts=clicks)  # the cards, posted before the app starts
            cards = [
                (d, slack.message(d.channel, d.ts)) for d in drafts.with_status(rig.store.db, drafts.PENDING)
            ]
            rig.close()
            process = AppProcess(design, sandbox, slack, rig.store.path, baseline="bench.click_server")
            try:
                result = _measure(design, clicks, cards, process, sandbox, slack)
            finally:
                err = process.stop()
            result.locked += err.count("database is locked")
            return result
    finally:
        sandbox.stop()


def _measure(
    design: str, clicks: int, cards: list, process: AppProcess, sandbox, slack: SlackStandin
) -> Burst:
    world = sandbox.world
    # Bolt checks the bot token on its first request; a first click after start pays that once.
    warm = "payload=%7B%22type%22%3A%22block_actions%22%7D"
    requests.post(process.url, data=warm, headers=sign_request(SECRET, warm), timeout=10)
    deadline = time.monotonic() + 30
    while world.request_count(path_prefix="/users/me") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # `run` starts with a cycle; let it pass before the clicks
    time.sleep(0.5)
    sent_at: dict[str, float] = {}
    real_send = world.send_message

    def stamped_send(fan_uuid, *args, **kwargs):
        message = real_send(fan_uuid, *args, **kwargs)
        sent_at.setdefault(fan_uuid, time.perf_counter())
        return message

    world.send_message = stamped_send
    world.clear_requests()
    updates_before = len(slack.calls("chat.update"))
    bodies = [_click_body(slack, msg, f"U{i:04d}") for i, (_, msg) in enumerate(cards)]
    result = Burst(design, clicks)
    started: dict[int, float] = {}
    wall: dict[int, float] = {}
    gate = threading.Barrier(len(cards))

    def click(index: int) -> None:
        # A bare HTTP client: the load generator's own CPU time (requests costs about 1 ms a call) must not
        # crowd out the process being measured on a 2-core machine.
        body = bodies[index].encode()
        headers = {**sign_request(SECRET, bodies[index]), "Content-Length": str(len(body))}
        connection = http.client.HTTPConnection("127.0.0.1", process.port, timeout=60)
        gate.wait()
        wall[index], started[index] = time.time(), time.perf_counter()
        connection.request("POST", "/slack/events", body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        result.acks.append(time.perf_counter() - started[index])
        result.statuses.append(answer.status)
        connection.close()

    threads = [threading.Thread(target=click, args=(i,)) for i in range(len(cards))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 120
    while any(
        s in (drafts.PENDING, drafts.SENDING, drafts.UNKNOWN)
        for s in [row[0] for row in process.rows("SELECT status FROM drafts")]
    ):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(0.5)  # the last card updates
    updated = {c.args.get("ts"): c.at for c in slack.calls("chat.update")[updates_before:] if c.status == 200}
    for index, (draft, _) in enumerate(cards):
        count = len(world.sent_messages(draft.fan_uuid))
        result.sent_once += count == 1
        result.sent_twice += count > 1
        result.not_sent += count == 0
        if draft.fan_uuid in sent_at:
            result.to_sent.append(sent_at[draft.fan_uuid] - started[index])
        if draft.ts in updated:
            result.to_card.append(updated[draft.ts] - wall[index])
    result.locked = sum(
        "locked" in e
        for e in [row[0] for row in process.rows("SELECT error FROM drafts WHERE error IS NOT NULL")]
    )
    result.fanvue_requests = len(world.requests)
    result.fanvue_429s = sum(1 for r in world.requests if r.status == 429)
    return result


def run(
    sizes: list[int], latency_ms: int, directory: Path, *, baseline: bool = True, repeat: int = 1
) -> list[Burst]:
    results = []
    for clicks in sizes:
        for attempt in range(repeat):
            results.append(_burst("ours", clicks, latency_ms, directory / f"run{attempt}"))
            if baseline:
                results.append(_burst("ack after the work", clicks, latency_ms, directory / f"run{attempt}"))
    return results


def _spread(values: list[float]) -> str:
    return f"{ms(percentile(values, 50))} / {ms(percentile(values, 99))}" if values else "n/a"


def report(results: list[Burst], latency_ms: int) -> str:
    headers = [
        "clicks at once",
        "design",
        "ack p50 / p99",
        "ack p99 < 300 ms",
        "click → sent p50 / p99",
        "click → card p50 / p99",
        "sent once / twice / not",
        "'database is locked'",
        "Fanvue requests (429s)",
    ]
    rows = [
        [
            r.clicks,
            r.design,
            _spread(r.acks),
            "✓" if percentile(r.acks, 99) < ACK_TARGET else "✗",
            _spread(r.to_sent),
            _spread(r.to_card),
            f"{r.sent_once} / {r.sent_twice} / {r.not_sent}",
            r.locked,
            f"{r.fanvue_requests} ({r.fanvue_429s})",
        ]
        for r in results
    ]
    note = (
        f"HTTP mode: `app.py run` as its own process (waitress, 16 threads; 16 click workers, acknowledging before handing the work to them), the sandbox and "
        f"the Slack stand-in in the benchmark's process; signed block_actions, each on its own card, all "
        f"released at once; sandbox latency {latency_ms} ms; Fanvue's real 200/min budget on both sides. "
        "Each send costs two Fanvue requests (the freshness read, then the send). 'ack after the work' is the "
        "baseline (`bench/click_server.py`): the same wiring with a Send handler that calls Fanvue before it "
        "acknowledges. Slack allows 3 s for the acknowledgement. 'database is locked' counts the app's log "
        "lines and the drafts' errors that mention it."
    )
    return table(headers, rows) + "\n\n" + note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--sizes", default="1,100", help="numbers of simultaneous clicks, comma-separated")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each size (the timings vary from run to run)"
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    header(
        "Clicks: acknowledgement and click-to-sent",
        f"{COMMAND} --sizes {args.sizes} --latency-ms {args.latency_ms} --repeat {args.repeat}",
    )
    with workdir() as directory:
        results = run(sizes, args.latency_ms, Path(directory), repeat=args.repeat)
    print(report(results, args.latency_ms), flush=True)
    ours = [r for r in results if r.design == "ours"]
    return 0 if all(r.sent_once == r.clicks and r.locked == 0 for r in ours) else 1


if __name__ == "__main__":
    raise SystemExit(main())
