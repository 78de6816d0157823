"""The app as app.py builds it, acting on webhooks: the sandbox delivers signed events to its HTTP server."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import requests

import runtime
import settings as settings_module
from desk import Desk
from drafting.base import Drafter
from inbox.webhook_http import PATHS
from standins.fanvue import Sandbox
from standins.slack_api import Msg, SlackStandin
from store import drafts
from store.drafts import Draft
from tests.harness import BOT_TOKEN, CHANNEL, SECRET, store_logins

WEBHOOK_SECRET = "whsec-act-secret"
RECEIVED_PATH, READ_PATH = PATHS.values()


def wait_for(check: Callable[[], object], timeout: float = 15.0) -> object:
    """Poll `check` until it is truthy (what it returned), failing after `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.02)


class ActingApp:
    """The runtime with its webhook actor, serving over HTTP; no scheduler runs, so no cycle unless asked."""

    def __init__(
        self,
        db_path: Path,
        sandbox: Sandbox,
        slack: SlackStandin,
        *,
        drafter: Drafter | None = None,
        quiet: float = 3.0,
        burst: float = 1.0,
        env: dict[str, str] | None = None,
        desk: Desk | None = None,
        register: bool = True,
        logins: Sequence[tuple[str, str]] = (),
    ):
        store_logins(db_path, logins)
        oauth = sandbox.world.oauth
        values = {
            "FANVUE_AUTH_BASE": sandbox.url,
            "FANVUE_CLIENT_ID": oauth.client_id,
            "FANVUE_CLIENT_SECRET": oauth.client_secret,
            "FANVUE_API_BASE": sandbox.url,
            "FANVUE_ACCESS_TOKEN": sandbox.token,
            "SLACK_API_URL": slack.api_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_CHANNEL_ID": CHANNEL,
            "SLACK_SIGNING_SECRET": SECRET,
            "DATABASE_PATH": str(db_path),
            "FANVUE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            **(env or {}),
        }
        settings = dataclasses.replace(
            settings_module.from_mapping(values),
            port=0,
            slack_post_interval=0,
            webhook_quiet_seconds=quiet,
            webhook_burst_seconds=burst,
        )
        self.sandbox, self.slack = sandbox, slack
        self.runtime = runtime.build(
            settings, drafter=drafter, sleep=lambda _s: None, host="127.0.0.1", desk=desk
        )
        self.svc = self.runtime.services
        self.db = self.svc.store.db
        self.server = self.runtime.serve()
        self.base = f"http://127.0.0.1:{self.server.port}"
        if register:
            sandbox.webhooks.register(self.base + RECEIVED_PATH, self.base + READ_PATH, WEBHOOK_SECRET)

    def fan_writes(self, fan_uuid: str, text: str) -> dict:
        reply = requests.post(
            f"{self.sandbox.url}/_sandbox/fans/{fan_uuid}/messages", json={"text": text}, timeout=5
        )
        assert reply.status_code == 201
        return reply.json()

    def post_unsigned(self) -> requests.Response:
        """A delivery without a signature, as anyone on the internet could send."""
        return requests.post(self.base + RECEIVED_PATH, data=b"{}", timeout=5)

    def faults(self, **faults: object) -> None:
        answer = requests.post(f"{self.sandbox.url}/_sandbox/webhooks/faults", json=faults, timeout=5)
        assert answer.status_code == 200

    def settle(self) -> None:
        """Every delivery answered and every event acted on."""
        assert self.sandbox.webhooks.wait_idle(15)
        wait_for(lambda: self.unhandled() == 0)
        assert self.runtime.actor is not None and self.runtime.actor.idle(15)

    def unhandled(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM webhook_events WHERE handled_at IS NULL").fetchone()[0]

    def fan_drafts(self, fan_uuid: str) -> list[Draft]:
        rows = self.db.query("SELECT id FROM drafts WHERE fan_uuid = ? ORDER BY id", [fan_uuid])
        return [d for d in (drafts.get(self.db, r["id"]) for r in rows) if d is not None]

    def card(self, draft: Draft) -> Msg:
        draft = drafts.get(self.db, draft.id)
        assert draft is not None and draft.ts and draft.channel
        return self.slack.message(draft.channel, draft.ts)

    def card_text(self, draft: Draft) -> str:
        return json.dumps(self.card(draft).blocks, ensure_ascii=False)

    def close(self) -> None:
        self.sandbox.webhooks.unregister()
        self.runtime.stop(drain=10)
