"""Socket Mode end to end: Bolt's real SocketModeHandler connected to the Slack stand-in's WebSocket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from drafting.template import TemplateDrafter
from fanvue import FanvueClient, StaticToken
from inbox.cards import CardPublisher
from inbox.cycle import run_cycle
from inbox.services import Creator, Services
from slack import blocks
from slack.bolt_app import DrainingExecutor, build_app, web_client
from slack.cards import SlackCards
from standins.fanvue import Sandbox
from standins.slack_api import SlackStandin
from standins.slack_requests import block_action_payload, slash_command_fields, view_submission_payload
from standins.socket_clients import close_clients
from store import drafts
from store.db import Store
from store.drafts import Draft

CHANNEL = "C0CARDS"
BOT_TOKEN = "xoxb-test"
# Bolt's default keep-alive is 10 s, so noticing a dropped connection takes about a minute; a short one
# lets the same reconnect logic run within a second or two here.
PING_INTERVAL = 0.5
WAIT = 15.0


@dataclass
class SocketApp:
    """The app as `app.py run` wires it in Socket Mode (no signing secret), with its handler connected."""

    sandbox: Sandbox
    slack: SlackStandin
    store: Store
    svc: Services
    executor: DrainingExecutor
    handlers: list[SocketModeHandler]

    def connect_another(self) -> None:
        """A second connection from the same app, as a second process on the same database would open."""
        expected = self.slack.socket.connections + 1
        handler = SocketModeHandler(self.handlers[0].app, self.slack.app_token, ping_interval=PING_INTERVAL)
        self.handlers.append(handler)
        handler.connect()
        self.slack.socket.wait_until(lambda: self.slack.socket.connections == expected, WAIT, "connection")

    def draft(self) -> Draft:
        """The draft of an unread fan whose last message is text, after one poll cycle."""
        run_cycle(self.svc, max_posts=30)
        world = self.sandbox.world
        for fan in world.fans():
            chat = world.chat(fan["uuid"])
            last = chat.get("lastMessage") or {}
            if not chat["isRead"] and last.get("text") and "blocked" not in fan["handle"]:
                row = self.store.db.execute(
                    "SELECT id FROM drafts WHERE fan_uuid = ? ORDER BY id DESC", [fan["uuid"]]
                ).fetchone()
                if row:
                    return drafts.get(self.store.db, row[0])
        raise AssertionError("the cycle drafted no reply to a fan's text")

    def click(self, draft: Draft, action_id: str, user: str = "U0ALICE") -> dict:
        """A button click on the draft's card, as Slack puts it in an envelope."""
        msg = self.slack.message(draft.channel, draft.ts)
        button = next(e for b in msg.blocks for e in b.get("elements", []) if e.get("action_id") == action_id)
        return block_action_payload(
            user_id=user,
            user_name=user.lower(),
            action_id=action_id,
            value=button["value"],
            channel_id=msg.channel,
            message_ts=msg.ts,
            message=msg.to_dict(),
            trigger_id=self.slack.new_trigger_id(user),
            response_url=self.slack.new_response_url(channel=msg.channel, message_ts=msg.ts, user=user),
            block_id="decide",
        )

    def settle(self) -> None:
        assert self.executor.drain(WAIT), "click handlers did not finish"

    def sent(self, draft: Draft) -> list[str]:
        return [m["text"] for m in self.sandbox.world.sent_messages(draft.fan_uuid)]


@pytest.fixture
def app(tmp_path, sandbox: Sandbox, slack: SlackStandin) -> Iterator[SocketApp]:
    store = Store(tmp_path / "socket.db")
    fanvue = FanvueClient(sandbox.url, StaticToken(sandbox.token), timeout=2.0, sleep=lambda _s: None)
    web = web_client(BOT_TOKEN, slack.api_url, timeout=5)
    svc = Services(
        store=store,
        fanvue=fanvue,
        drafter=TemplateDrafter(),
        cards=CardPublisher(store, SlackCards(web, CHANNEL, post_interval=0)),
        creator=Creator(fanvue),
        approvers=frozenset(),
    )
    executor = DrainingExecutor(max_workers=16)
    bolt = build_app(svc, web, signing_secret=None, executor=executor)
    handlers = [SocketModeHandler(bolt, slack.app_token, ping_interval=PING_INTERVAL)]
    handlers[0].connect()
    try:
        slack.socket.wait_until(lambda: slack.socket.connections == 1, WAIT, "the first connection")
        yield SocketApp(sandbox, slack, store, svc, executor, handlers)
    finally:
        close_clients(slack.socket, *(h.client for h in handlers))
        executor.drain(WAIT)
        executor.shutdown(wait=True)
        fanvue.close()
        store.close()


def test_the_app_asks_for_a_socket_url_with_its_app_level_token(app: SocketApp):
    opened = app.slack.calls("apps.connections.open")
    assert opened and all(c.error is None for c in opened)
    assert app.slack.socket.connects == 1


def test_send_click_over_the_socket_is_acknowledged_and_sent_once(app: SocketApp):
    draft = app.draft()
    envelope = app.slack.socket.deliver_interactive(app.click(draft, blocks.SEND))
    ack = app.slack.socket.wait_ack(envelope, WAIT)
    assert ack == {"envelope_id": envelope}  # a button click is acknowledged without a payload
    app.settle()
    assert app.sent(draft) == [draft.draft_text]
    assert drafts.get(app.store.db, draft.id).status == drafts.SENT
    card = app.slack.message(draft.channel, draft.ts)
    assert "Sent by <@U0ALICE>" in json.dumps(card.blocks)
    assert app.slack.socket.envelope(envelope)["deliveries"] == 1


def test_empty_edit_is_refused_in_the_acknowledgement(app: SocketApp):
    draft = app.draft()
    values = {blocks.EDIT_BLOCK: {blocks.EDIT_INPUT: {"type": "plain_text_input", "value": "   "}}}
    payload = view_submission_payload(
        user_id="U0ALICE", user_name="alice", view=blocks.edit_modal(draft), values=values
    )
    envelope = app.slack.socket.deliver_interactive(payload)
    ack = app.slack.socket.wait_ack(envelope, WAIT)
    assert ack["payload"]["response_action"] == "errors"
    assert "empty" in ack["payload"]["errors"][blocks.EDIT_BLOCK]
    app.settle()
    assert app.sent(draft) == []
    assert drafts.get(app.store.db, draft.id).status == drafts.PENDING


def test_slash_command_help_is_answered_to_the_asker(app: SocketApp):
    fields = slash_command_fields(
        command="/fanvue",
        text="help",
        user_id="U0ALICE",
        user_name="alice",
        channel_id=CHANNEL,
        response_url=app.slack.new_response_url(user="U0ALICE"),
        trigger_id=app.slack.new_trigger_id("U0ALICE"),
    )
    envelope = app.slack.socket.deliver_command(fields)
    app.slack.socket.wait_ack(envelope, WAIT)
    app.settle()
    [answer] = app.slack.responses()
    assert answer["response_type"] == "ephemeral"
    assert "/fanvue audit" in json.dumps(answer)


def test_two_connections_each_get_a_click_and_the_reply_goes_once(app: SocketApp):
    draft = app.draft()
    app.connect_another()
    socket = app.slack.socket
    clicks = [app.click(draft, blocks.SEND, user) for user in ("U0ALICE", "U0BOB")]  # on the same card
    envelopes = [socket.deliver_interactive(click) for click in clicks]
    for envelope in envelopes:
        socket.wait_ack(envelope, WAIT)
    assert sorted(socket.envelope(e)["connection"] for e in envelopes) == [1, 2]
    app.settle()
    assert app.sent(draft) == [draft.draft_text]
    told = [r.get("text", "") for r in app.slack.responses()]
    assert len(told) == 1 and ("Already sent by" in told[0] or "sending this reply" in told[0]), told


@pytest.mark.parametrize("close_frame", [False, True], ids=["network-drop", "close-frame"])
def test_after_a_dropped_connection_the_app_reconnects_and_clicks_work(app: SocketApp, close_frame: bool):
    draft = app.draft()
    assert app.slack.socket.drop_connections(close_frame=close_frame) == 1
    socket = app.slack.socket
    socket.wait_until(lambda: socket.connects >= 2 and socket.connections >= 1, WAIT, "a reconnect")
    assert [c.error for c in app.slack.calls("apps.connections.open")][:2] == [None, None]
    envelope = socket.deliver_interactive(app.click(draft, blocks.SEND))
    socket.wait_ack(envelope, WAIT)
    app.settle()
    assert app.sent(draft) == [draft.draft_text]


def test_refresh_requested_moves_the_app_to_a_new_connection(app: SocketApp):
    draft = app.draft()
    socket = app.slack.socket
    assert socket.request_refresh() == 1
    socket.wait_until(lambda: socket.connects >= 2 and socket.connections >= 1, WAIT, "a new connection")
    envelope = socket.deliver_interactive(app.click(draft, blocks.SKIP))
    socket.wait_ack(envelope, WAIT)
    # The client reads the new connection only once the old one has gone quiet, so Slack may deliver the
    # click again meanwhile; the redelivery's acknowledgement can come before the first one is handled.
    socket.wait_until(
        lambda: drafts.get(app.store.db, draft.id).status == drafts.SKIPPED, WAIT, "the skip to be handled"
    )
    app.settle()
    assert drafts.get(app.store.db, draft.id).status == drafts.SKIPPED
    assert app.sent(draft) == []


def test_a_click_whose_ack_was_lost_is_redelivered_and_not_sent_twice(app: SocketApp):
    draft = app.draft()
    socket = app.slack.socket
    # The app handles the click, but the connection breaks before its acknowledgement reaches Slack.
    envelope = socket.deliver_interactive(app.click(draft, blocks.SEND), lose_ack=True)
    socket.wait_until(lambda: socket.lost_acks == 1, WAIT, "the first acknowledgement")
    app.settle()
    assert app.sent(draft) == [draft.draft_text]
    # Slack delivers the envelope again once the app has reconnected; this time the ack arrives.
    socket.wait_ack(envelope, WAIT)
    assert socket.connects >= 2
    assert socket.envelope(envelope)["deliveries"] == 2
    assert socket.envelope(envelope)["retry_attempt"] == 1
    app.settle()
    assert app.sent(draft) == [draft.draft_text]
    assert drafts.get(app.store.db, draft.id).status == drafts.SENT
    # The redelivery is acknowledged without acting: nobody is told the reply was already sent.
    told = [r.get("text", "") for r in app.slack.responses()]
    assert not any("Already sent" in t for t in told), told
