"""Take next pressed by many teammates at once: every card taken once, acknowledgement p99, vs acking late."""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.app_process import SECRET, AppProcess
from bench.rig import BOT_TOKEN, Rig, header, ms, percentile, table, unread_world, workdir
from inbox.cycle import run_cycle
from slack.home_blocks import TAKE_NEXT
from standins.slack_api import SlackStandin
from standins.slack_home import home_action_body, home_opened_body
from standins.slack_requests import sign_request
from store import drafts, takes

COMMAND = "python -m bench.take_next"
ACK_TARGET = 0.300
DESIGNS = ("ours", "ack after the work")


@dataclass
class Run:
    """One design: every teammate pressing Take next at once, round after round, until no card is left."""

    design: str
    teammates: int
    cards: int
    acks: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    taken_once: int = 0  # cards with exactly one `taken` audit row
    taken_twice: int = 0
    not_taken: int = 0
    same_card_twice: int = 0  # a teammate given a card they had already been given
    rounds: int = 0


def _post(port: int, body: str, content_type: str) -> tuple[int, float]:
    """One signed request over a bare HTTP connection (cheap on the load generator's side)."""
    data = body.encode()
    headers = {**sign_request(SECRET, body), "Content-Type": content_type, "Content-Length": str(len(data))}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    connection.request("POST", "/slack/events", body=data, headers=headers)
    answer = connection.getresponse()
    answer.read()
    elapsed = time.perf_counter() - start
    connection.close()
    return answer.status, elapsed


def _one(design: str, teammates: int, cards: int, latency_ms: int, directory: Path) -> Run:
    sandbox = unread_world(cards, latency_ms=0)
    try:
        with SlackStandin(bot_token=BOT_TOKEN) as slack:
            rig = Rig(sandbox, slack, directory / design.replace(" ", "-"))
            run_cycle(rig.svc, max_posts=cards)  # the cards, posted before the app starts
            cards_posted = len(drafts.with_status(rig.store.db, drafts.PENDING))
            rig.close()
            slack.state.latency = latency_ms / 1000  # Take next calls Slack only (never Fanvue)
            process = AppProcess(design, sandbox, slack, rig.store.path, baseline="bench.take_next_server")
            try:
                return _measure(design, teammates, cards_posted, process, slack)
            finally:
                process.stop()
    finally:
        sandbox.stop()


def _wait(check, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)


def _measure(design: str, teammates: int, cards: int, process: AppProcess, slack: SlackStandin) -> Run:
    result = Run(design, teammates, cards)
    users = [f"U{i:04d}" for i in range(teammates)]
    for user in users:  # each opens the Home tab first: the Take next button is in their view
        _post(process.port, home_opened_body(user), "application/json")
    _wait(lambda: all(u in slack.state.home_views for u in users))
    views = {user: slack.state.home_views[user] for user in users}
    tally = threading.Lock()
    answered = 0  # every press ends in a DM to the teammate: the card taken, or that none is free
    while (
        len(process.rows("SELECT draft_id, actor FROM audit WHERE action = ?", (takes.TAKEN,))) < cards
        and result.rounds < cards
    ):
        result.rounds += 1
        bodies = {user: home_action_body(user, views[user], TAKE_NEXT) for user in users}
        gate = threading.Barrier(len(users))

        def press(user: str, data: str, gate: threading.Barrier) -> None:
            gate.wait()
            status, elapsed = _post(process.port, data, "application/x-www-form-urlencoded")
            with tally:
                result.acks.append(elapsed)
                result.statuses[status] += 1

        threads = [threading.Thread(target=press, args=(u, bodies[u], gate)) for u in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        answered += len(users)
        _wait(lambda n=answered: len([m for m in slack.messages() if m.channel in views]) >= n)
    rows = process.rows("SELECT draft_id, actor FROM audit WHERE action = ?", (takes.TAKEN,))
    per_card = Counter(draft_id for draft_id, _ in rows)
    result.taken_once = sum(1 for n in per_card.values() if n == 1)
    result.taken_twice = sum(1 for n in per_card.values() if n > 1)
    result.not_taken = cards - len(per_card)
    result.same_card_twice = sum(n - 1 for n in Counter(rows).values() if n > 1)
    return result


def run(teammates: int, cards: int, latency_ms: int, directory: Path, *, baseline: bool = True) -> list[Run]:
    return [_one(d, teammates, cards, latency_ms, directory) for d in (DESIGNS if baseline else DESIGNS[:1])]


def report(results: list[Run], latency_ms: int) -> str:
    headers = [
        "teammates × cards",
        "design",
        "rounds",
        "ack p50 / p99",
        "ack p99 < 300 ms",
        "taken once / twice / never",
        "same card twice to one teammate",
        "HTTP statuses",
    ]
    rows = [
        [
            f"{r.teammates} × {r.cards}",
            r.design,
            r.rounds,
            f"{ms(percentile(r.acks, 50))} / {ms(percentile(r.acks, 99))}" if r.acks else "n/a",
            "✓" if r.acks and percentile(r.acks, 99) < ACK_TARGET else "✗",
            f"{r.taken_once} / {r.taken_twice} / {r.not_taken}",
            r.same_card_twice,
            json.dumps(dict(r.statuses)),
        ]
        for r in results
    ]
    note = (
        "HTTP mode: `app.py run` as its own process (waitress, 16 threads) serving signed block_actions from "
        "each teammate's Home tab; the Slack stand-in and the sandbox in the benchmark's process. Every "
        "teammate presses Take next at the same moment, round after round, until no card is free. Each press "
        "takes a card (a guarded UPDATE; the loser of a card tries the next), publishes the teammate's Home tab "
        "(chat.getPermalink once per card listed) and sends them a DM with the link. 'ack after the work' is the "
        "baseline (`bench/take_next_server.py`): the same work, then ack(). Each Slack Web API call is answered "
        f"after {latency_ms} ms (Take next makes no Fanvue call)."
    )
    return table(headers, rows) + "\n\n" + note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--teammates", type=int, default=10)
    parser.add_argument("--cards", type=int, default=30)
    parser.add_argument("--latency-ms", type=int, default=100, help="each Slack Web API call's latency")
    args = parser.parse_args(argv)
    header(
        "Take next: many teammates at once",
        f"{COMMAND} --teammates {args.teammates} --cards {args.cards} --latency-ms {args.latency_ms}",
    )
    with workdir() as directory:
        results = run(args.teammates, args.cards, args.latency_ms, Path(directory))
    print(report(results, args.latency_ms), flush=True)
    ours = results[0]
    fair = ours.taken_once == ours.cards and ours.same_card_twice == 0 and ours.taken_twice == 0
    return 0 if fair and percentile(ours.acks, 99) < ACK_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
