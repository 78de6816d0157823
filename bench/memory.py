"""Peak resident memory of `python app.py run` over its first cycle, for 1 and for 1000 unread chats."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.rig import BOT_TOKEN, CHANNEL, header, ms, table, unread_world
from standins.slack_api import SlackStandin

COMMAND = "python -m bench.memory"
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Usage:
    chats: int
    peak_kib: int
    after_kib: int
    cycle: float
    summary: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1])


def measure(chats: int, posts: int, timeout: float = 600) -> Usage:
    sandbox = unread_world(chats)
    try:
        with SlackStandin(bot_token=BOT_TOKEN) as slack, tempfile.TemporaryDirectory() as directory:
            port = _free_port()
            env = {
                "PATH": os.environ.get("PATH", ""),
                "HOME": os.environ.get("HOME", "/tmp"),
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_CHANNEL_ID": CHANNEL,
                "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": slack.api_url,
                "FANVUE_API_BASE": sandbox.url,
                "FANVUE_ACCESS_TOKEN": sandbox.token,
                "DATABASE_PATH": str(Path(directory) / "bridge.db"),
                "PORT": str(port),
                "POLL_INTERVAL_SECONDS": "3600",
                "SLACK_MAX_POSTS_PER_CYCLE": str(posts),
                "LOG_LEVEL": "WARNING",
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
                usage = Usage(
                    chats,
                    _status_kib(proc.pid, "VmHWM"),
                    _status_kib(proc.pid, "VmRSS"),
                    time.perf_counter() - started,
                    cycle.get("summary", cycle.get("error", "")),
                )
            finally:
                proc.terminate()
                proc.communicate(timeout=60)
            return usage
    finally:
        sandbox.stop()


def _wait_for_cycle(proc: subprocess.Popen, health: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited: {proc.stderr.read()}")
        try:
            last = requests.get(health, timeout=1).json().get("last_cycle")
        except requests.ConnectionError:
            last = None
        if last:
            return last
        time.sleep(0.2)
    raise RuntimeError("the first cycle did not finish in time")


def report(rows: list[Usage], posts: int) -> str:
    body = [
        [u.chats, f"{u.peak_kib / 1024:.1f} MiB", f"{u.after_kib / 1024:.1f} MiB", ms(u.cycle), u.summary]
        for u in rows
    ]
    note = (
        f"Peak RSS is the kernel's high-water mark (VmHWM) of the `app.py run` process, read once its first "
        f"cycle has finished (start, recovery, the cycle, serving HTTP); the sandbox and the Slack stand-in run "
        f"in the benchmark's process. Cards per cycle: {posts} (SLACK_MAX_POSTS_PER_CYCLE), posted about one "
        "a second, which is most of the time shown. The 1-chat run is the baseline: what the app costs "
        "before there is any work."
    )
    return (
        table(["unread chats", "peak RSS", "RSS after the cycle", "start to cycle done", "cycle"], body)
        + "\n\n"
        + note
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=30, help="SLACK_MAX_POSTS_PER_CYCLE for the run")
    args = parser.parse_args(argv)
    header("Memory", f"{COMMAND} --chats {args.chats} --posts {args.posts}")
    rows = [measure(1, args.posts), measure(args.chats, args.posts)]
    print(report(rows, args.posts), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
