"""The demo's stage: the Fanvue sandbox, the Slack stand-in and the real app, and teammates' clicks (signed
HTTP requests, or envelopes over Socket Mode)."""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import requests
import sqlite_utils

import runtime as app_runtime
import settings as settings_module
from desk import Desk, default_creator
from fanvue.tokens import TokenPair
from inbox.webhook_http import PATHS
from slack import blocks
from slack import socket_mode as slack_socket_mode
from slack.server import EVENTS_PATH
from standins.fanvue import Sandbox
from standins.slack_api import Msg, SlackStandin
from standins.slack_requests import block_action_payload, payload_body, sign_request, view_submission_payload
from standins.socket_clients import close_clients
from store import drafts, tokens
from store.clock import utcnow
from store.db import Store, write
from store.drafts import Draft

CHANNEL = "C0DEMO"  # the first creator's cards
SECOND_CHANNEL = "C0DEMO2"  # the second creator's, as the desk file says
BOT_TOKEN = "xoxb-demo"
SIGNING_SECRET = "demo-signing-secret"
WEBHOOK_SECRET = "demo-webhook-secret"
CARD_TIMEOUT = 10.0  # how long the demo waits for a webhook's card
TEAM = {"U0ALICE": "Alice", "U0BOB": "Bob", "U0CAROL": "Carol", "U0DANA": "Dana"}
CLICK_TIMEOUT = 20.0
# The Socket Mode client's keep-alive: short, so a connection that broke is noticed at once.
PING_INTERVAL = 0.5


class DemoFailed(Exception):
    """Something the demo expects of the app did not happen."""


@dataclass
class Stage:
    """Everything running, and the moves a teammate in Slack can make."""

    sandbox: Sandbox
    slack: SlackStandin
    runtime: app_runtime.Runtime
    events_url: str | None  # None in Socket Mode: the clicks arrive as envelopes on the app's connection
    base_url: str = ""  # the app's HTTP address (Fanvue's webhooks; in HTTP mode also Slack's)
    sessions: dict[str, requests.Session] = field(default_factory=dict)

    @property
    def db(self) -> sqlite_utils.Database:
        return self.runtime.services.store.db

    def card(self, draft_id: int) -> tuple[Draft, Msg]:
        """The draft and its Slack message as they stand now."""
        draft = drafts.get(self.db, draft_id)
        if draft is None or draft.ts is None:
            raise DemoFailed(f"draft {draft_id} has no card in Slack")
        return draft, self.slack.message(draft.channel, draft.ts)

    def settle(self) -> None:
        """Wait until the app has finished every click it acknowledged."""
        if not self.runtime.executor.drain(CLICK_TIMEOUT):
            raise DemoFailed(f"clicks were still being handled after {CLICK_TIMEOUT:.0f} s")

    def listen_for_webhooks(self) -> None:
        """Register the app's webhook URLs with the sandbox, as in Fanvue's Events tab: deliveries start."""
        received, read = PATHS.values()
        self.sandbox.webhooks.register(self.base_url + received, self.base_url + read, WEBHOOK_SECRET)

    def click(self, user: str, draft_id: int, action_id: str) -> None:
        """The block_actions request Slack sends when `user` presses a button on the card."""
        _, msg = self.card(draft_id)
        block, button = _button(msg.blocks, action_id)
        self._post(
            user,
            block_action_payload(
                user_id=user,
                user_name=TEAM[user].lower(),
                action_id=action_id,
                value=button["value"],
                channel_id=msg.channel,
                message_ts=msg.ts,
                message=msg.to_dict(),
                block_id=block["block_id"],
                trigger_id=self.slack.new_trigger_id(user),
                response_url=self.slack.new_response_url(channel=msg.channel, message_ts=msg.ts, user=user),
            ),
        )

    def submit(self, user: str, view: dict, text: str) -> None:
        """The view_submission request Slack sends when `user` submits the edit modal with `text`."""
        values = {blocks.EDIT_BLOCK: {blocks.EDIT_INPUT: {"type": "plain_text_input", "value": text}}}
        self._post(
            user,
            view_submission_payload(
                user_id=user,
                user_name=TEAM[user].lower(),
                view=view,
                values=values,
                view_id=view.get("id", "V1"),
            ),
        )

    def _post(self, user: str, payload: dict) -> None:
        if self.events_url is None:
            envelope = self.slack.socket.deliver_interactive(payload)
            try:
                self.slack.socket.wait_ack(envelope, CLICK_TIMEOUT)
            except TimeoutError:
                raise DemoFailed(f"the app did not acknowledge {TEAM[user]}'s click") from None
            return
        body = payload_body(payload)
        # One session per teammate, like one Slack client each; two teammates can click at the same moment.
        session = self.sessions.setdefault(user, requests.Session())
        response = session.post(
            self.events_url, data=body.encode(), headers=sign_request(SIGNING_SECRET, body), timeout=10
        )
        if response.status_code != 200:
            raise DemoFailed(f"the app answered {response.status_code} to {TEAM[user]}'s request")


def _button(message_blocks: list[dict], action_id: str) -> tuple[dict, dict]:
    for block in message_blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return block, element
    raise DemoFailed(f"the card has no {action_id} button")


@contextlib.contextmanager
def stage(fans: int = 12, seed: int = 1, *, socket_mode: bool = False) -> Iterator[Stage]:
    """Everything on free ports of 127.0.0.1 with a temporary database; all stopped and removed afterwards.

    Slack reaches the app with signed requests to /slack/events, or with `socket_mode` over a WebSocket the
    app opens with its app-level token, as the manifest's default deployment does. Two creators, each
    logged in to the app, and a desk giving each its own channel."""
    with contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(Sandbox(fans=fans, seed=seed, creators=2))
        slack = stack.enter_context(SlackStandin(bot_token=BOT_TOKEN, pace=False))
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fanvue-slack-demo-")))
        _log_in_both(tmp / "bridge.db", sandbox)
        settings = settings_module.from_mapping(
            {
                "FANVUE_API_BASE": sandbox.url,
                "FANVUE_ACCESS_TOKEN": sandbox.token,  # unused: the stored logins serve
                "FANVUE_AUTH_BASE": sandbox.url,
                "FANVUE_CLIENT_ID": sandbox.world.oauth.client_id,
                "FANVUE_CLIENT_SECRET": sandbox.world.oauth.client_secret,
                "SLACK_API_URL": slack.api_url,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_CHANNEL_ID": CHANNEL,
                **(
                    {"SLACK_APP_TOKEN": slack.app_token}
                    if socket_mode
                    else {"SLACK_SIGNING_SECRET": SIGNING_SECRET}
                ),
                "DATABASE_PATH": str(tmp / "bridge.db"),
                "LOG_LEVEL": "WARNING",
                "FANVUE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
        )
        # No pacing between posts: the stand-in does not rate-limit, and the demo should take seconds.
        runtime = app_runtime.build(
            dataclasses.replace(settings, slack_post_interval=0.0, port=0),
            host="127.0.0.1",
            desk=two_channel_desk(sandbox),
        )
        stack.callback(runtime.stop, CLICK_TIMEOUT)
        # Slack's requests in HTTP mode; in both modes /healthz and Fanvue's webhooks.
        server = runtime.serve()
        base = f"http://127.0.0.1:{server.port}"
        stack.callback(sandbox.webhooks.unregister)
        if socket_mode:
            handler = slack_socket_mode.handler(
                runtime.bolt, runtime.settings.slack_app_token or "", ping_interval=PING_INTERVAL
            )
            handler.connect()
            stack.callback(close_clients, slack.socket, handler.client)
            slack.socket.wait_until(handler.client.is_connected, CLICK_TIMEOUT, "the app's connection")
            the_stage = Stage(sandbox, slack, runtime, None, base)
        else:
            the_stage = Stage(sandbox, slack, runtime, base + EVENTS_PATH, base)
        stack.callback(_close_sessions, the_stage)
        yield the_stage


def _close_sessions(the_stage: Stage) -> None:
    for session in the_stage.sessions.values():
        session.close()


def creator_handles(sandbox: Sandbox) -> tuple[str, str]:
    first, second = (world.creator["handle"] for world in sandbox.worlds)
    return first, second


def two_channel_desk(sandbox: Sandbox) -> Desk:
    """What a desk file giving each creator its channel says."""
    first, second = creator_handles(sandbox)
    return Desk({first: default_creator(first, CHANNEL), second: default_creator(second, SECOND_CHANNEL)})


def _log_in_both(database: Path, sandbox: Sandbox) -> None:
    """Each creator's login stored as `app.py login` stores it (the sandbox's tokens stand in)."""
    store = Store(database)
    try:
        with write(store.db):
            for handle in creator_handles(sandbox):
                token = sandbox.creator_token(handle)
                pair = TokenPair(token, f"refresh-{handle}", utcnow() + timedelta(days=30), "")
                tokens.add(store.db, pair, mode="creator")
    finally:
        store.close()
