"""The app built as app.py builds it, with a webhook secret, serving over real HTTP beside the stand-ins."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

import runtime
import settings as settings_module
from inbox.webhook_http import PATHS
from standins.fanvue import Sandbox
from standins.fanvue.webhooks import signature_header
from standins.slack_api import SlackStandin
from store import webhook_events
from tests.harness import BOT_TOKEN, CHANNEL, SECRET

WEBHOOK_SECRET = "whsec-test-secret"
RECEIVED_PATH, READ_PATH = PATHS.values()


class WebhookApp:
    """The running app; `handed` records each event id the runtime's callback got, in order."""

    def __init__(
        self,
        db_path: Path,
        sandbox: Sandbox,
        slack: SlackStandin,
        *,
        env: dict[str, str] | None = None,
        on_webhook: Callable[[int], None] | None = None,
    ):
        values = {
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
        settings = dataclasses.replace(settings_module.from_mapping(values), port=0, slack_post_interval=0)
        self.handed: list[int] = []
        self._handed = threading.Condition()
        self.runtime = runtime.build(
            settings, sleep=lambda _s: None, host="127.0.0.1", on_webhook=on_webhook or self._record
        )
        self.store = self.runtime.services.store
        self.server = self.runtime.serve()
        self.base = f"http://127.0.0.1:{self.server.port}"
        self.http = requests.Session()

    def _record(self, event_id: int) -> None:
        with self._handed:
            self.handed.append(event_id)
            self._handed.notify_all()

    def wait_handed(self, count: int, timeout: float = 10.0) -> list[int]:
        with self._handed:
            assert self._handed.wait_for(lambda: len(self.handed) >= count, timeout), self.handed
            return list(self.handed)

    def rows(self) -> list[webhook_events.StoredEvent]:
        return [
            webhook_events.get(self.store.db, r["id"])
            for r in self.store.db.query("SELECT id FROM webhook_events ORDER BY id")
        ]

    def post(
        self,
        path: str,
        body: bytes,
        *,
        secret: str = WEBHOOK_SECRET,
        signature: str | None = None,
        headers: dict | None = None,
    ) -> requests.Response:
        header = signature if signature is not None else signature_header([secret], body, int(time.time()))
        return self.http.post(
            self.base + path,
            data=body,
            headers={"Content-Type": "application/json", "X-Fanvue-Signature": header, **(headers or {})},
            timeout=10,
        )

    def register(self, sandbox: Sandbox, secret: str = WEBHOOK_SECRET) -> None:
        sandbox.webhooks.register(self.base + RECEIVED_PATH, self.base + READ_PATH, secret)

    def close(self) -> None:
        self.runtime.stop(drain=10)
        self.http.close()
