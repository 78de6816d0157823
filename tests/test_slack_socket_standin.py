"""The stand-in's Socket Mode speaks to slack_sdk's built-in client the way Slack does."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.connection import Connection
from slack_sdk.socket_mode.response import SocketModeResponse

from standins.slack_api import SlackStandin
from standins.slack_envelopes import app_home_opened_event
from standins.slack_requests import block_action_payload, slash_command_fields, view_submission_payload
from standins.socket_clients import close_clients

WAIT = 10.0
# A short keep-alive, so that the client notices a dropped connection within a second or two.
PING_INTERVAL = 0.5
CLICK = block_action_payload(
    user_id="U1",
    user_name="u1",
    action_id="send",
    value="1:1",
    channel_id="C1",
    message_ts="1700000000.000100",
    message={"type": "message", "text": "card", "blocks": []},
    trigger_id="1.2.abc",
    response_url="http://127.0.0.1:9/response/x",
)


class Recorder:
    """A real Socket Mode client that keeps every message and acknowledges when `ack(message)` says so."""

    def __init__(self, st: SlackStandin, ack: Callable[[dict], dict | None | bool] = lambda _m: True) -> None:
        self.st = st
        self.ack = ack
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        self.client = SocketModeClient(
            app_token=st.app_token,
            web_client=WebClient(base_url=st.api_url),
            ping_interval=PING_INTERVAL,
            logger=logging.getLogger("socket-client"),
        )
        self.client.message_listeners.append(self.on_message)

    def on_message(self, client: SocketModeClient, message: dict, _raw: str | None) -> None:
        with self.lock:
            self.messages.append(message)
        if "envelope_id" not in message:
            return
        answer = self.ack(message)
        if answer is True:
            client.send_socket_mode_response(SocketModeResponse(envelope_id=message["envelope_id"]))
        elif isinstance(answer, dict):
            client.send_socket_mode_response(
                SocketModeResponse(envelope_id=message["envelope_id"], payload=answer)
            )

    def envelopes(self, envelope_id: str | None = None) -> list[dict]:
        with self.lock:
            return [
                m for m in self.messages if "envelope_id" in m and envelope_id in (None, m["envelope_id"])
            ]


@pytest.fixture
def st() -> Iterator[SlackStandin]:
    with SlackStandin() as standin:
        yield standin


@pytest.fixture
def connect(st: SlackStandin) -> Iterator[Callable[..., Recorder]]:
    recorders: list[Recorder] = []

    def open_one(ack: Callable[[dict], dict | None | bool] = lambda _m: True) -> Recorder:
        recorder = Recorder(st, ack)
        recorders.append(recorder)
        expected = st.socket.connects + 1
        recorder.client.connect()
        st.socket.wait_until(lambda: st.socket.connects >= expected, WAIT, "the connection")
        st.socket.wait_until(lambda: bool(recorder.messages), WAIT, "the hello")
        return recorder

    yield open_one
    close_clients(st.socket, *(r.client for r in recorders))


def test_hello_first_then_envelopes_with_their_acknowledgements(st, connect):
    recorder = connect(lambda m: {"echo": m["type"]} if m["accepts_response_payload"] else True)
    modal = view_submission_payload(user_id="U1", user_name="u1", view={"callback_id": "edit"}, values={})
    command = slash_command_fields(
        command="/fanvue",
        text="help",
        user_id="U1",
        user_name="u1",
        channel_id="C1",
        response_url="http://127.0.0.1:9/response/x",
        trigger_id="1.2.abc",
    )
    ids = [
        st.socket.deliver_interactive(CLICK),
        st.socket.deliver_interactive(modal),
        st.socket.deliver_command(command),
        st.socket.deliver_event(app_home_opened_event("U1")),
    ]
    acks = [st.socket.wait_ack(envelope_id, WAIT) for envelope_id in ids]
    assert acks == [
        {"envelope_id": ids[0]},
        {"envelope_id": ids[1], "payload": {"echo": "interactive"}},
        {"envelope_id": ids[2], "payload": {"echo": "slash_commands"}},
        {"envelope_id": ids[3]},
    ]
    hello = recorder.messages[0]
    assert hello["type"] == "hello" and hello["num_connections"] == 1
    assert hello["connection_info"]["app_id"] == "A0APP"
    click, submission, slash, event = (recorder.envelopes(i)[0] for i in ids)
    assert (click["type"], click["payload"], click["accepts_response_payload"]) == (
        "interactive",
        CLICK,
        False,
    )
    assert "retry_attempt" not in click
    assert (submission["payload"]["type"], submission["accepts_response_payload"]) == (
        "view_submission",
        True,
    )
    assert (slash["type"], slash["payload"], slash["accepts_response_payload"]) == (
        "slash_commands",
        command,
        True,
    )
    assert (event["type"], event["retry_attempt"], event["accepts_response_payload"]) == (
        "events_api",
        0,
        False,
    )
    assert event["payload"]["type"] == "event_callback"
    assert (
        event["payload"]["event"]["type"] == "app_home_opened" and event["payload"]["event"]["user"] == "U1"
    )
    assert all(st.socket.envelope(i)["deliveries"] == 1 for i in ids)


def test_an_envelope_not_acknowledged_in_time_comes_again_with_retry_attempt(st, connect):
    st.socket.ack_timeout = 0.3
    recorder = connect(lambda m: m.get("retry_attempt") == 1)  # ignores the first delivery
    envelope_id = st.socket.deliver_interactive(CLICK)
    assert st.socket.wait_ack(envelope_id, WAIT) == {"envelope_id": envelope_id}
    seen = recorder.envelopes(envelope_id)
    assert [m.get("retry_attempt") for m in seen] == [None, 1]
    assert seen[1]["retry_reason"] == "timeout" and seen[1]["payload"] == CLICK
    assert st.socket.envelope(envelope_id)["retry_attempt"] == 1


def test_slack_gives_up_after_three_retries(st, connect):
    st.socket.ack_timeout = 0.1
    recorder = connect(lambda _m: False)
    envelope_id = st.socket.deliver_interactive(CLICK)
    st.socket.wait_until(lambda: st.socket.envelope(envelope_id)["given_up"], WAIT, "giving up")
    assert [m.get("retry_attempt") for m in recorder.envelopes(envelope_id)] == [None, 1, 2, 3]
    with pytest.raises(TimeoutError):
        st.socket.wait_ack(envelope_id, 0.1)


def test_an_envelope_waits_for_a_connection(st, connect):
    envelope_id = st.socket.deliver_interactive(CLICK)
    assert st.socket.connections == 0
    recorder = connect()
    st.socket.wait_ack(envelope_id, WAIT)
    [envelope] = recorder.envelopes(envelope_id)
    assert "retry_attempt" not in envelope  # a first delivery, however late


def test_envelopes_go_to_one_connection_each(st, connect):
    first, second = connect(), connect()
    assert second.messages[0]["num_connections"] == 2
    ids = [st.socket.deliver_interactive(CLICK) for _ in range(4)]
    for envelope_id in ids:
        st.socket.wait_ack(envelope_id, WAIT)
    assert len(first.envelopes()) == len(second.envelopes()) == 2
    assert sorted(m["envelope_id"] for m in first.envelopes() + second.envelopes()) == sorted(ids)
    assert all(len(st.socket.acks(i)) == 1 for i in ids)


@pytest.mark.parametrize("close_frame", [False, True], ids=["network-drop", "close-frame"])
def test_an_envelope_unacknowledged_when_the_connection_drops_comes_again_after_reconnect(
    st, connect, close_frame
):
    st.socket.ack_timeout = 60.0  # the redelivery below is due to the drop, not to a timeout
    recorder = connect(lambda m: "retry_attempt" in m)
    envelope_id = st.socket.deliver_interactive(CLICK)
    st.socket.wait_until(lambda: len(recorder.envelopes(envelope_id)) == 1, WAIT, "the first delivery")
    assert st.socket.drop_connections(close_frame=close_frame) == 1
    assert st.socket.wait_ack(envelope_id, WAIT) == {"envelope_id": envelope_id}
    assert st.socket.connects >= 2 and len(st.calls("apps.connections.open")) == st.socket.connects
    assert [m.get("retry_attempt") for m in recorder.envelopes(envelope_id)] == [None, 1]


def test_a_lost_acknowledgement_breaks_the_connection_and_the_envelope_comes_again(st, connect):
    recorder = connect()
    envelope_id = st.socket.deliver_interactive(CLICK, lose_ack=True)
    assert st.socket.wait_ack(envelope_id, WAIT) == {"envelope_id": envelope_id}
    assert st.socket.lost_acks == 1 and st.socket.connects >= 2
    assert [m.get("retry_attempt") for m in recorder.envelopes(envelope_id)] == [None, 1]
    assert len(st.socket.acks(envelope_id)) == 1


def test_refresh_requested_moves_the_client_to_a_new_connection(st, connect):
    recorder = connect()
    assert st.socket.request_refresh() == 1
    assert st.socket.connections == 0  # a retiring connection gets no new envelopes
    st.socket.wait_until(lambda: st.socket.connects >= 2 and st.socket.connections == 1, WAIT, "refresh")
    envelope_id = st.socket.deliver_interactive(CLICK)
    st.socket.wait_ack(envelope_id, WAIT)
    # The client closes the old connection itself once the new one is open.
    st.socket.wait_until(lambda: len(st.socket.links) == 1, WAIT, "the old connection closing")
    assert recorder.envelopes(envelope_id)
    assert [m["type"] for m in recorder.messages if "envelope_id" not in m] == ["hello", "hello"]


def test_pings_are_answered(st, connect):
    recorder = connect()
    session = recorder.client.current_session
    st.socket.wait_until(lambda: session.last_ping_pong_time is not None, WAIT, "a pong")


def test_a_socket_url_works_once_and_not_while_slack_is_down(st):
    web = WebClient(base_url=st.api_url)
    url, later = (web.apps_connections_open(app_token=st.app_token)["url"] for _ in range(2))
    log = logging.getLogger("socket-client")
    first, again, down = (Connection(url=u, logger=log) for u in (url, url, later))
    try:
        first.connect()
        again.connect()
        st.set_down(True)
        down.connect()
        assert first.is_active() and not again.is_active() and not down.is_active()
        st.socket.wait_until(lambda: st.socket.connections == 1, WAIT, "the connection")
        assert st.socket.connects == 1
    finally:
        for connection in (first, again, down):
            connection.close()
