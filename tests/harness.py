"""The whole app wired to local stand-ins: the Fanvue sandbox, the Slack stand-in and Bolt, over real HTTP or
Socket Mode."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import requests

import runtime
import settings as settings_module
from desk import MAX_SLA_MINUTES, Desk
from drafting.base import Drafter
from drafting.guardrails import Guardrails
from fanvue.tokens import TokenPair
from inbox.cycle import CycleReport, run_cycle
from slack import blocks, socket_mode
from slack.server import EVENTS_PATH
from standins.fanvue import Sandbox
from standins.slack_api import Msg, SlackStandin
from standins.slack_requests import block_action_body, sign_request, view_submission_body
from standins.socket_clients import close_clients
from store import drafts, tokens
from store.clock import utcnow
from store.db import Store, write
from store.drafts import Draft

CHANNEL = "C0CARDS"
SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"
# How Slack reaches the app: signed requests to /slack/events, or envelopes over Socket Mode's WebSocket.
MODES = ("http", "socket")
# Bolt's default keep-alive is 10 s, so noticing a dropped connection takes about a minute; a short one
# lets the same reconnect logic run within a second or two here.
PING_INTERVAL = 0.5
SOCKET_WAIT = 15.0  # for a connection or an acknowledgement; the stand-in redelivers within this


@dataclass
class EnvelopeAck:
    """The app's acknowledgement of an envelope, read like the HTTP response to the same request."""

    envelope_id: str
    ack: dict  # as the app sent it: the envelope_id and, for modals and commands, a payload
    status_code: int = 200  # Bolt sends no acknowledgement at all for anything else

    @property
    def text(self) -> str:
        return json.dumps(self.ack["payload"]) if "payload" in self.ack else ""

    def json(self) -> dict:
        if "payload" not in self.ack:
            raise ValueError("the acknowledgement has no payload")
        return self.ack["payload"]


class InFlight:
    """Envelopes the app's Socket Mode client has received and not finished handling.

    An envelope delivered twice (its first acknowledgement late or lost) can be handled on two of the
    client's threads at once, and the redelivery's acknowledgement can arrive first; waiting for the
    acknowledgements alone would then let a test look before the first delivery's handler has started."""

    def __init__(self, client: Any) -> None:
        self.cond = threading.Condition()
        self.count = 0
        enqueue, run = client.enqueue_message, client.run_message_listeners

        def counted_enqueue(message: str) -> None:
            if _envelope_id(message):
                with self.cond:
                    self.count += 1
            enqueue(message)

        def counted_run(message: dict, raw_message: str) -> None:
            try:
                run(message, raw_message)
            finally:
                if message.get("envelope_id"):
                    with self.cond:
                        self.count -= 1
                        self.cond.notify_all()

        client.enqueue_message = counted_enqueue
        client.run_message_listeners = counted_run

    def wait_idle(self, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.count == 0, timeout=timeout)


def _envelope_id(message: str) -> str | None:
    try:
        parsed = json.loads(message) if message.startswith("{") else None
    except ValueError:
        return None
    return parsed.get("envelope_id") if isinstance(parsed, dict) else None


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
        mode: str = "http",
        ping_interval: float = PING_INTERVAL,
        sla_minutes: int = MAX_SLA_MINUTES,
    ):
        """`logins`: (mode, access token) of Fanvue logins stored before the app starts (several creators);
        `desk`: each creator's channel, persona and approvers; `sla_minutes`: SLA_MINUTES (by default a week:
        the seed's fans wrote days ago, and only the SLA tests want their cards overdue and nudged)."""
        if mode not in MODES:
            raise ValueError(f"mode is one of {MODES}, not {mode!r}")
        self.mode = mode
        self.sandbox = sandbox
        self.slack = slack
        self.account_ids = store_logins(db_path, logins)
        oauth = sandbox.world.oauth
        # Socket Mode is configured as the manifest's default deployment: an app-level token, no secret.
        how_slack_reaches_us = (
            {"SLACK_APP_TOKEN": slack.app_token} if mode == "socket" else {"SLACK_SIGNING_SECRET": SECRET}
        )
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
                "DATABASE_PATH": str(db_path),
                "SLA_MINUTES": str(sla_minutes),
                **how_slack_reaches_us,
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
        self.http = requests.Session()
        self.socket = slack.socket  # the stand-in's side of Socket Mode
        self.envelopes: list[str] = []  # every envelope this harness delivered, in order
        self._envelopes_lock = threading.Lock()
        self.handler = None
        self.in_flight: InFlight | None = None
        if mode == "socket":
            self.server, self.url = None, None
            self.handler = socket_mode.handler(
                self.bolt, settings.slack_app_token or "", ping_interval=ping_interval
            )
            self.in_flight = InFlight(self.handler.client)
            self.handler.connect()
            self.socket.wait_until(self.handler.client.is_connected, SOCKET_WAIT, "the app's connection")
        else:
            self.server = self.runtime.serve()
            self.url = f"http://127.0.0.1:{self.server.port}{EVENTS_PATH}"

    def close(self) -> None:
        if self.handler is not None:
            close_clients(self.socket, self.handler.client)
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
        lose_ack: bool = False,
    ) -> requests.Response | EnvelopeAck:
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
        response = self.post(body, lose_ack=lose_ack)
        if wait:
            self.settle()
        return response

    def submit_edit(
        self, view: dict, text: str, user: str = "U0ALICE", *, wait: bool = True, lose_ack: bool = False
    ) -> requests.Response | EnvelopeAck:
        values = {blocks.EDIT_BLOCK: {blocks.EDIT_INPUT: {"type": "plain_text_input", "value": text}}}
        response = self.post(
            view_submission_body(user_id=user, user_name=user.lower(), view=view, values=values),
            lose_ack=lose_ack,
        )
        if wait:
            self.settle()
        return response

    def post(
        self, body: str, headers: dict | None = None, *, lose_ack: bool = False
    ) -> requests.Response | EnvelopeAck:
        """A request as Slack sends it (the form body it posts in HTTP mode), and the app's acknowledgement.

        In Socket Mode the same payload arrives as an envelope; with `lose_ack` the connection breaks as the
        app acknowledges it, so the stand-in delivers it again once the app has reconnected."""
        if self.mode == "socket":
            assert headers is None, "headers (signatures) exist only in HTTP mode"
            return self._deliver(body, lose_ack=lose_ack)
        assert not lose_ack, "a lost acknowledgement is a Socket Mode scenario"
        return self.http.post(
            self.url, data=body.encode(), headers=headers or sign_request(SECRET, body), timeout=10
        )

    def post_event(self, body: str) -> int:
        """An Events API callback (JSON, as Slack posts it in HTTP mode, or as an `events_api` envelope in
        Socket Mode); the status of the app's acknowledgement (200 when it took it)."""
        if self.mode == "socket":
            envelope = self.socket.deliver_event(json.loads(body)["event"])
            with self._envelopes_lock:
                self.envelopes.append(envelope)
            return 200 if self.socket.wait_ack(envelope, SOCKET_WAIT) else 0
        headers = {**sign_request(SECRET, body), "Content-Type": "application/json"}
        return self.http.post(self.url, data=body.encode(), headers=headers, timeout=10).status_code

    def settle(self) -> None:
        """Wait until every envelope delivered is acknowledged (or given up on) and every click handled."""
        if self.mode == "socket":
            with self._envelopes_lock:
                delivered = list(self.envelopes)
            self.socket.wait_until(
                lambda: all(e["acked"] or e["given_up"] for e in map(self.socket.envelope, delivered)),
                SOCKET_WAIT,
                "the acknowledgements",
            )
            assert self.in_flight is not None and self.in_flight.wait_idle(SOCKET_WAIT), "envelopes unhandled"
        assert self.executor.drain(30), "click handlers did not finish"

    def ephemerals(self, user: str | None = None) -> list[str]:
        return [e.get("text", "") for e in self.slack.ephemerals(user)]

    def _deliver(self, body: str, *, lose_ack: bool) -> EnvelopeAck:
        form = {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}
        if "payload" in form:
            envelope = self.socket.deliver_interactive(json.loads(form["payload"]), lose_ack=lose_ack)
        elif "command" in form:
            envelope = self.socket.deliver_command(form, lose_ack=lose_ack)
        else:
            raise AssertionError(f"not an interaction or a slash command: {body[:200]}")
        with self._envelopes_lock:
            self.envelopes.append(envelope)
        return EnvelopeAck(envelope, self.socket.wait_ack(envelope, SOCKET_WAIT))


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
        for element in [*block.get("elements", []), *([block["accessory"]] if "accessory" in block else [])]:
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"the card has no {action_id} button: {json.dumps(message_blocks)[:300]}")
