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
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.many_rig import (
    BOT_TOKEN,
    CountingSession,
    always_429,
    build,
    desk_file,
    handles,
    many_unread,
    settings_for,
    store_logins,
)
from bench.memory import _free_port, _status_kib, _wait_for_cycle
from bench.rig import header, ms, table, workdir
from fanvue.errors import FanvueError
from inbox.creator_poll import CycleReport, poll_creator
from inbox.cycle import run_cycle
from standins.fanvue import Sandbox
from standins.fanvue.agency import ADMIN, MEMBER
from standins.slack_api import SlackStandin

COMMAND = "python -m bench.many_creators"
ROOT = Path(__file__).resolve().parents[1]
# Cards per channel per cycle: every card of the cold cycle, so that a steady cycle has nothing to post.
MAX_POSTS = 1000
RSS_TARGET_BYTES = 200_000_000


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
    server = always_429()
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


def peak_rss(
    sandbox: Sandbox, slack: SlackStandin, timeout: float = 600, extra_env: dict[str, str] | None = None
) -> tuple[int, float, str]:
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
            **(extra_env or {}),
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
            f"{peak / 1024:.1f} MiB = {peak * 1024 / 1e6:.0f} MB (target < 200 MB); start to first cycle "
            f"done {ms(took)}; {summary}"
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
    return 1 if missed or slower or (rss is not None and rss[0] * 1024 >= RSS_TARGET_BYTES) else 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # the 429s' warnings are the point here, not news
    raise SystemExit(main())
