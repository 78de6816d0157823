"""One app serving many creators: Fanvue requests per cycle by kind of login, cycle time, a 429ing creator, RSS."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

import runtime
import settings as settings_module
from bench.memory import _free_port, _status_kib, _wait_for_cycle
from bench.rig import UNLIMITED, header, ms, table, workdir
from desk import Desk, default_creator
from fanvue.errors import FanvueError
from fanvue.tokens import TokenPair
from inbox.creator_poll import CycleReport, poll_creator
from inbox.cycle import run_cycle
from standins.fanvue import Sandbox
from standins.fanvue.agency import ADMIN, MEMBER
from standins.slack_api import SlackStandin
from store import tokens
from store.clock import utcnow
from store.db import Store, write

COMMAND = "python -m bench.many_creators"
ROOT = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-bench"
MAX_POSTS = 30  # SLACK_MAX_POSTS_PER_CYCLE's default: cards per channel per cycle
RETRY_AFTER = 1  # what the 429ing creator's answers ask; the client retries 5 times, then gives up


class CountingSession(requests.Session):
    """Every Fanvue request the app sends, by login (its bearer token), with when each was answered;
    the requests of a token in `diverted` go to another address (a server answering only 429s)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()
        self.answered: dict[str, float] = {}
        self.diverted: dict[str, tuple[str, str]] = {}  # token -> (base to replace, replacement)
        self._lock = threading.Lock()

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        token = str((kwargs.get("headers") or {}).get("Authorization", "")).removeprefix("Bearer ")
        if token in self.diverted:
            url = url.replace(*self.diverted[token], 1)
        try:
            return super().request(method, url, *args, **kwargs)
        finally:
            with self._lock:
                self.counts[token] += 1
                self.answered[token] = time.perf_counter()

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.answered.clear()


class _Always429(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = b'{"error":"Too many requests, retry later"}'
        self.send_response(429)
        self.send_header("Retry-After", str(RETRY_AFTER))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def many_unread(creators: int, chats: int, latency_ms: int) -> Sandbox:
    """A started sandbox of `creators` creators, each with `chats` unread chats ending with the fan's message."""
    sandbox = Sandbox(fans=chats, creators=creators, rate_limit=UNLIMITED).start()
    for world in sandbox.worlds:
        creator = world.creator["uuid"]
        for fan in world.fans():
            chat = world.chat(fan["uuid"])
            if chat["isRead"] or (chat["lastMessage"] or {}).get("senderUuid") == creator:
                world.add_fan_message(fan["uuid"], "hey, are you around?")
    sandbox.agency.set_reach(MEMBER, None)  # the team member reaches every creator, without the admin's list
    sandbox.world.set_latency(latency_ms)  # the server's latency, for every creator's requests
    return sandbox


def handles(sandbox: Sandbox) -> list[str]:
    return [world.creator["handle"] for world in sandbox.worlds]


def desk_file(sandbox: Sandbox) -> Desk:
    return Desk({h: default_creator(h, f"C0BENCH{i:03d}") for i, h in enumerate(handles(sandbox))})


def store_logins(database: Path, logins: list[tuple[str, str]]) -> None:
    """Logins stored as `app.py login` stores them; the sandbox's tokens stand in."""
    store = Store(database)
    try:
        with write(store.db):
            for mode, token in logins:
                far = utcnow() + timedelta(days=30)
                tokens.add(store.db, TokenPair(token, f"refresh-{token}", far, ""), mode=mode)
    finally:
        store.close()


def settings_for(sandbox: Sandbox, slack: SlackStandin, database: Path) -> dict[str, str]:
    oauth = sandbox.world.oauth
    return {
        "FANVUE_API_BASE": sandbox.url,
        "FANVUE_ACCESS_TOKEN": sandbox.token,  # unused: the stored logins serve
        "FANVUE_AUTH_BASE": sandbox.url,
        "FANVUE_CLIENT_ID": oauth.client_id,
        "FANVUE_CLIENT_SECRET": oauth.client_secret,
        "SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_CHANNEL_ID": "C0BENCH",
        "SLACK_SIGNING_SECRET": "bench",
        "DATABASE_PATH": str(database),
        "LOG_LEVEL": "ERROR",
    }


def build(sandbox: Sandbox, slack: SlackStandin, directory: Path, logins: list[tuple[str, str]], session):
    directory.mkdir(parents=True)
    store_logins(directory / "bench.db", logins)
    settings = settings_module.from_mapping(settings_for(sandbox, slack, directory / "bench.db"))
    # The client's own budget out of the way: the requests are counted here, their time at 200/min computed.
    settings = dataclasses.replace(settings, fanvue_rate_limit=UNLIMITED, slack_post_interval=0.0)
    return runtime.build(settings, session=session, desk=desk_file(sandbox))


def one_after_another(svc) -> CycleReport:
    """The baseline: each creator polled in turn on one thread, then the cards."""
    report = CycleReport()
    for inbox in svc.desk.inboxes():
        try:
            poll_creator(svc, inbox, report)
        except FanvueError as exc:
            report.skipped[inbox.handle] = type(exc).__name__
    report.cards = svc.cards.publish_due(MAX_POSTS)
    return report


@dataclass(frozen=True)
class Measured:
    scenario: str
    kind: str  # cold (no cards yet) or steady (nothing new)
    logins: int
    requests: int
    most_per_login: int
    seconds: float
    target: str = ""


def measure(app, session: CountingSession, scenario: str, kind: str, cycle: Callable) -> Measured:
    session.reset()
    start = time.perf_counter()
    cycle(app.services)
    seconds = time.perf_counter() - start
    counts = dict(session.counts)
    return Measured(
        scenario, kind, len(counts), sum(counts.values()), max(counts.values(), default=0), seconds
    )


def concurrent(svc) -> CycleReport:
    return run_cycle(svc, max_posts=MAX_POSTS)


def request_counts(sandbox: Sandbox, slack: SlackStandin, directory: Path) -> list[Measured]:
    n = len(sandbox.worlds)
    pages = math.ceil(len(sandbox.world.fans()) / 50)
    creators = [("creator", sandbox.creator_token(h)) for h in handles(sandbox)]
    cases = [
        ("creator logins, concurrent", creators, concurrent, f"≤ {pages + 1} a creator"),
        ("creator logins, one after another (baseline)", creators, one_after_another, ""),
        ("agency admin", [("agency", sandbox.member_token(ADMIN))], concurrent, "≤ 2 for the agency"),
        ("agency team member (not admin)", [("agency", sandbox.member_token(MEMBER))], concurrent, ""),
    ]
    results = []
    for number, (scenario, logins, cycle, target) in enumerate(cases):
        session = CountingSession()
        app = build(sandbox, slack, directory / f"counts-{number}", logins, session)
        try:
            for kind in ("cold", "steady"):
                m = measure(app, session, scenario, kind, cycle)
                if kind == "steady" and target:
                    ok = m.most_per_login <= (pages + 1 if m.logins == n else 2)
                    m = dataclasses.replace(m, target=f"{target} {'✓' if ok else '✗'}")
                results.append(m)
        finally:
            app.close()
            session.close()
    return results


@dataclass(frozen=True)
class Storm:
    approach: str
    alone: float  # the others' cycle (a new message each: drafts and cards) without the 429ing creator
    with_it: float  # the same cycle with one more creator whose every request is now answered 429
    others_answered: float  # with it: until the others' last Fanvue answer


def _each_writes(sandbox: Sandbox, worlds: list) -> None:
    for world in worlds:
        fan = next(f for f in world.fans() if "blocked" not in f["handle"])
        world.add_fan_message(fan["uuid"], "one more thing")


def rate_limited_creator(sandbox: Sandbox, slack: SlackStandin, directory: Path) -> list[Storm]:
    """The others' cycle alone, then with one more creator that starts answering only 429s (it was read
    fine before: the app knows who it is), as Fanvue does for a login whose budget is spent."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Always429)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    names = handles(sandbox)
    bad = sandbox.creator_token(names[-1])
    others = [("creator", sandbox.creator_token(h)) for h in names[:-1]]
    results = []
    try:
        for number, (approach, cycle) in enumerate(
            [("concurrent", concurrent), ("one after another (baseline)", one_after_another)]
        ):
            times = []
            for logins in (others, [*others, ("creator", bad)]):
                session = CountingSession()
                app = build(sandbox, slack, directory / f"storm-{number}-{len(logins)}", logins, session)
                try:
                    cycle(app.services)  # cold: the cards, and who is who
                    session.diverted[bad] = (sandbox.url, f"http://127.0.0.1:{server.server_address[1]}")
                    _each_writes(sandbox, sandbox.worlds[:-1])
                    session.reset()
                    start = time.perf_counter()
                    cycle(app.services)
                    took = time.perf_counter() - start
                    answered = max(t for token, t in session.answered.items() if token != bad) - start
                    times.append((took, answered))
                finally:
                    app.close()  # waits for the 429ing creator's poll to give up
                    session.close()
            results.append(Storm(approach, times[0][0], times[1][0], times[1][1]))
    finally:
        server.shutdown()
        server.server_close()
    return results


def peak_rss(sandbox: Sandbox, slack: SlackStandin, timeout: float = 600) -> tuple[int, float, str]:
    """`python app.py run` as a real process serving every creator: its VmHWM once the first cycle is done."""
    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "bridge.db"
        store_logins(database, [("creator", sandbox.creator_token(h)) for h in handles(sandbox)])
        desk = Path(directory) / "desk.yml"
        creators = "".join(
            f"  {h}:\n    channel: {c.channel}\n" for h, c in desk_file(sandbox).creators.items()
        )
        desk.write_text(f"creators:\n{creators}")
        port = _free_port()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            **settings_for(sandbox, slack, database),
            "DESK_FILE": str(desk),
            "PORT": str(port),
            "POLL_INTERVAL_SECONDS": "3600",
            # Cards are paced about one a second (Slack's chat.postMessage limit): one a channel keeps the
            # wait short; every chat is still read and drafted.
            "SLACK_MAX_POSTS_PER_CYCLE": "1",
        }
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "app.py", "run", "--env-file", "/nonexistent.env"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            cycle = _wait_for_cycle(proc, f"http://127.0.0.1:{port}/healthz", timeout)
            peak, took = _status_kib(proc.pid, "VmHWM"), time.perf_counter() - started
        finally:
            proc.terminate()
            proc.communicate(timeout=60)
    return peak, took, str(cycle.get("summary", cycle.get("error", "")))


def report(counts: list[Measured], storms: list[Storm], rss: tuple[int, float, str] | None) -> str:
    rows = [
        [m.scenario, m.kind, m.logins, m.requests, m.most_per_login, m.target, ms(m.seconds)] for m in counts
    ]
    out = table(
        ["logins", "cycle", "logins polled", "Fanvue requests", "most for one login", "target", "wall time"],
        rows,
    )
    storm_rows = [
        [s.approach, ms(s.alone), ms(s.with_it), f"{s.with_it / s.alone:.2f}×", ms(s.others_answered)]
        for s in storms
    ]
    out += "\n\n" + table(
        [
            "approach",
            "others' cycle alone",
            "others' cycle with one creator answering 429",
            "ratio (target ≤ 1.5×, concurrent)",
            "others' last Fanvue answer, with it",
        ],
        storm_rows,
    )
    if rss is not None:
        peak, took, summary = rss
        out += (
            f"\n\nPeak RSS of `python app.py run` (a real process; VmHWM once its first cycle was done): "
            f"{peak / 1024:.1f} MiB (target < 200 MB); start to first cycle done {ms(took)}; {summary}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--creators", type=int, default=20)
    parser.add_argument("--chats", type=int, default=200, help="unread chats per creator")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="3 creators × 20 chats, no latency")
    parser.add_argument("--no-rss", action="store_true", help="skip running app.py as a process")
    args = parser.parse_args(argv)
    logging.getLogger().setLevel(logging.ERROR)  # the 429s' warnings are the point here, not news
    if args.quick:
        args.creators, args.chats, args.latency_ms = 3, 20, 0
    header(
        "Many creators",
        f"{COMMAND} --creators {args.creators} --chats {args.chats} --latency-ms {args.latency_ms}",
    )
    sandbox = many_unread(args.creators, args.chats, args.latency_ms)
    try:
        with SlackStandin(bot_token=BOT_TOKEN) as slack, workdir() as directory:
            counts = request_counts(sandbox, slack, Path(directory))
            storms = rate_limited_creator(sandbox, slack, Path(directory))
            rss = None if args.no_rss else peak_rss(sandbox, slack)
    finally:
        sandbox.stop()
    print(report(counts, storms, rss), flush=True)
    missed = [m for m in counts if m.target.endswith("✗")]
    slower = [s for s in storms if s.approach == "concurrent" and s.with_it > 1.5 * s.alone]
    return 1 if missed or slower or (rss is not None and rss[0] > 200 * 1000) else 0


if __name__ == "__main__":
    raise SystemExit(main())
