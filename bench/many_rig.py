"""The many-creators benchmark's rig: a sandbox of many creators, their logins and desk, counted requests."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

import runtime
import settings as settings_module
from bench.rig import UNLIMITED
from desk import Desk, default_creator
from fanvue.tokens import TokenPair
from standins.fanvue import Sandbox
from standins.fanvue.agency import MEMBER
from standins.slack_api import SlackStandin
from store import tokens
from store.clock import utcnow
from store.db import Store, write

BOT_TOKEN = "xoxb-bench"
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


def always_429() -> ThreadingHTTPServer:
    """A started server answering every request 429 with Retry-After; shut it down after use."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Always429)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
