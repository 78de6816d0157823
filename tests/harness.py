"""The whole app wired to local stand-ins: the Fanvue sandbox, the Slack stand-in and Bolt over real HTTP."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import requests

import runtime
import settings as settings_module
from desk import Desk
from drafting.base import Drafter
from drafting.guardrails import Guardrails
from fanvue.tokens import TokenPair
from inbox.cycle import CycleReport, run_cycle
from slack import blocks
from slack.server import EVENTS_PATH
from standins.fanvue import Sandbox
from standins.slack_api import Msg, SlackStandin
from standins.slack_requests import block_action_body, sign_request, view_submission_body
from store import drafts, tokens
from store.clock import utcnow
from store.db import Store, write
from store.drafts import Draft

CHANNEL = "C0CARDS"
SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"


class Harness:
    """The app as `app.py` builds it (runtime.build), with every remote part replaced by a real local server."""

    def __init__(
        self,
        db_path: Path,
        sandbox: Sandbox,
        slack: SlackStandin,
        *,
        approvers: frozenset[str] = frozenset(),
        fanvue_timeout: float = 2.0,
        drafter: Drafter | None = None,
        guard: Guardrails | None = None,
        draft_concurrency: int = 4,
        logins: Sequence[tuple[str, str]] = (),
        desk: Desk | None = None,
    ):
        """`logins`: (mode, access token) of Fanvue logins stored before the app starts (several creators);
        `desk`: each creator's channel, persona and approvers."""
        self.sandbox = sandbox
        self.slack = slack
        self.account_ids = store_logins(db_path, logins)
        oauth = sandbox.world.oauth
        settings = settings_module.from_mapping(
            {
                "FANVUE_API_BASE": sandbox.url,
                "FANVUE_ACCESS_TOKEN": sandbox.token,
                "FANVUE_AUTH_BASE": sandbox.url,
                "FANVUE_CLIENT_ID": oauth.client_id,
                "FANVUE_CLIENT_SECRET": oauth.client_secret,
                "SLACK_API_URL": slack.api_url,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_CHANNEL_ID": CHANNEL,
                "SLACK_SIGNING_SECRET": SECRET,
                "DATABASE_PATH": str(db_path),
            }
        )
        # What the environment cannot say: a timeout under a second, any approvers, a free port.
        settings = dataclasses.replace(
            settings,
            fanvue_timeout=fanvue_timeout,
            slack_approvers=approvers,
            slack_post_interval=0,
            llm_concurrency=draft_concurrency,
            port=0,
        )
        # Retries and rate-limit waits are not slept: the tests count them instead of waiting them out.
        self.runtime = runtime.build(
            settings, drafter=drafter, guard=guard, sleep=lambda _s: None, host="127.0.0.1", desk=desk
        )
        self.svc = self.runtime.services
        self.store = self.svc.store
        self.fanvue = self.svc.fanvue
        self.cards = self.svc.cards
        self.bolt = self.runtime.bolt
        self.web = self.bolt.client
        self.executor = self.runtime.executor
        self.server = self.runtime.serve()
        self.url = f"http://127.0.0.1:{self.server.port}{EVENTS_PATH}"
        self.http = requests.Session()

    def close(self) -> None:
        self.runtime.stop(drain=10)
        self.http.close()

    # --- the poll side

    def cycle(self, max_posts: int = 30) -> CycleReport:
        return run_cycle(self.svc, max_posts=max_posts)

    def draft_for(self, fan_uuid: str) -> Draft:
        rows = list(
            self.store.db.query("SELECT id FROM drafts WHERE fan_uuid = ? ORDER BY id DESC", [fan_uuid])
        )
        assert rows, f"no draft for fan {fan_uuid}"
        return drafts.get(self.store.db, rows[0]["id"])

    def card(self, draft: Draft) -> Msg:
        draft = drafts.get(self.store.db, draft.id)
        assert draft.ts, f"draft {draft.id} has no card"
        return self.slack.message(draft.channel, draft.ts)

    def unread_fan_with_text(self) -> dict:
        """A fan whose chat is unread, whose last message is a fan's text and who can be messaged."""
        world = self.sandbox.world
        creator = world.creator["uuid"]
        for fan in world.fans():
            chat = world.chat(fan["uuid"])
            last = chat.get("lastMessage") or {}
            if (
                not chat["isRead"]
                and last.get("senderUuid") != creator
                and last.get("text")
                and "blocked" not in fan["handle"]
            ):
                return fan
        raise AssertionError("the seed has no unread fan with a text message")

    # --- the Slack side, as Slack sends it

    def click(
        self,
        draft: Draft,
        action_id: str,
        user: str = "U0ALICE",
        *,
        wait: bool = True,
        message: Msg | None = None,
        value: str | None = None,
        response_url: str | None = None,
    ) -> requests.Response:
        msg = message or self.card(draft)
        button = _button(msg.blocks, action_id)
        body = block_action_body(
            user_id=user,
            user_name=user.lower(),
            action_id=action_id,
            value=value if value is not None else button["value"],
            channel_id=msg.channel,
            message_ts=msg.ts,
            message=msg.to_dict(),
            trigger_id=self.slack.new_trigger_id(user),
            response_url=(
                self.slack.new_response_url(channel=msg.channel, message_ts=msg.ts, user=user)
                if response_url is None
                else response_url
            ),
            block_id="decide",
        )
        response = self.post(body)
        if wait:
            self.settle()
        return response

    def submit_edit(
        self, view: dict, text: str, user: str = "U0ALICE", *, wait: bool = True
    ) -> requests.Response:
        values = {blocks.EDIT_BLOCK: {blocks.EDIT_INPUT: {"type": "plain_text_input", "value": text}}}
        response = self.post(
            view_submission_body(user_id=user, user_name=user.lower(), view=view, values=values)
        )
        if wait:
            self.settle()
        return response

    def post(self, body: str, headers: dict | None = None) -> requests.Response:
        return self.http.post(
            self.url, data=body.encode(), headers=headers or sign_request(SECRET, body), timeout=10
        )

    def settle(self) -> None:
        assert self.executor.drain(30), "click handlers did not finish"

    def ephemerals(self, user: str | None = None) -> list[str]:
        return [e.get("text", "") for e in self.slack.ephemerals(user)]


def store_logins(db_path: Path, logins: Sequence[tuple[str, str]]) -> list[int]:
    """Store Fanvue logins as `app.py login` would; a refresh token the sandbox never issued stands in, so
    a login whose access token Fanvue refuses dies at its first renewal, as a revoked one does."""
    if not logins:
        return []
    store = Store(db_path)
    try:
        with write(store.db):
            far = utcnow() + timedelta(days=30)
            return [
                tokens.add(store.db, TokenPair(token, f"refresh-{token}", far, ""), mode=mode)
                for mode, token in logins
            ]
    finally:
        store.close()


def _button(message_blocks: list, action_id: str) -> dict:
    for block in message_blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"the card has no {action_id} button: {json.dumps(message_blocks)[:300]}")
