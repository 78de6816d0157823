"""The Slack stand-in answers WebClient and Bolt the way Slack does."""

import time

import pytest
from slack_bolt import App
from slack_bolt.context.respond import Respond
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from standins.slack_api import SlackStandin
from standins.slack_requests import (
    block_action_body,
    block_action_payload,
    sign_request,
    slash_command_body,
    view_submission_body,
)

TOKEN = "xoxb-test"
SECRET = "signing-secret"
CARD = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Fan* asks: hi"}},
    {
        "type": "actions",
        "block_id": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "send",
                "value": "draft-1",
                "text": {"type": "plain_text", "text": "Send"},
            },
        ],
    },
]
MODAL = {
    "type": "modal",
    "callback_id": "edit_reply",
    "private_metadata": "draft-1",
    "title": {"type": "plain_text", "text": "Edit reply"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reply",
            "label": {"type": "plain_text", "text": "Reply"},
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
        }
    ],
}


@pytest.fixture
def st():
    with SlackStandin(bot_token=TOKEN) as standin:
        yield standin


@pytest.fixture
def client(st):
    return WebClient(token=TOKEN, base_url=st.api_url)


def test_auth_test_answers_bot_identity(st, client):
    answer = client.auth_test()
    assert (answer["user_id"], answer["bot_id"], answer["team_id"]) == ("U0BOT", "B0BOT", "T0TEAM")
    assert [c.method for c in st.calls()] == ["auth.test"]


def test_post_then_update_replaces_blocks_and_text_only_update_drops_them(st, client):
    posted = client.chat_postMessage(channel="C1", text="New message from Fan", blocks=CARD)
    assert posted["channel"] == "C1" and posted["message"]["blocks"] == CARD
    ts = posted["ts"]
    assert st.calls("chat.postMessage")[0].args["blocks"] == CARD

    retired = CARD[:1]
    updated = client.chat_update(channel="C1", ts=ts, text="Sent", blocks=retired)
    assert updated["ts"] == ts
    msg = st.message("C1", ts)
    assert (msg.text, msg.blocks, msg.updates) == ("Sent", retired, 1)

    client.chat_update(channel="C1", ts=ts, text="Skipped")
    msg = st.message("C1", ts)
    assert (msg.text, msg.blocks, msg.updates) == ("Skipped", [], 2)
    assert [m.ts for m in st.messages("C1")] == [ts]


def test_form_encoded_blocks_are_decoded(st, client):
    client.api_call(
        "chat.postMessage", params={"channel": "C1", "text": "t", "blocks": '[{"type": "divider"}]'}
    )
    assert st.messages()[0].blocks == [{"type": "divider"}]


def test_timestamps_increase(st, client):
    first = client.chat_postMessage(channel="C1", text="a")["ts"]
    second = client.chat_postMessage(channel="C1", text="b")["ts"]
    assert float(second) > float(first)


def test_update_of_unknown_message_fails(client):
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C1", ts="1.000001", text="x")
    assert err.value.response["error"] == "message_not_found"


def test_post_ephemeral(st, client):
    answer = client.chat_postEphemeral(channel="C1", user="U1", text="Only you can see this")
    assert answer["message_ts"]
    assert st.ephemerals("U1") == [
        {
            "channel": "C1",
            "user": "U1",
            "text": "Only you can see this",
            "blocks": [],
            "message_ts": answer["message_ts"],
            "via": "chat.postEphemeral",
        }
    ]
    assert st.ephemerals("U2") == []


def test_get_permalink(client):
    ts = client.chat_postMessage(channel="C1", text="hi")["ts"]
    link = client.chat_getPermalink(channel="C1", message_ts=ts)["permalink"]
    assert link == f"https://example.slack.com/archives/C1/p{ts.replace('.', '')}"


def test_views_open_records_view_and_trigger(st, client):
    trigger = st.new_trigger_id("U1")
    answer = client.views_open(trigger_id=trigger, view=MODAL)
    view_id = answer["view"]["id"]
    assert view_id.startswith("V") and answer["view"]["callback_id"] == "edit_reply"
    [opened] = st.views()
    assert (opened["view_id"], opened["trigger_id"], opened["user"]) == (view_id, trigger, "U1")
    assert opened["view"]["blocks"] == MODAL["blocks"]


def test_bad_token_is_invalid_auth(st):
    with pytest.raises(SlackApiError) as err:
        WebClient(token="xoxb-wrong", base_url=st.api_url).chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "invalid_auth"
    assert st.messages() == []


def test_socket_url_needs_the_app_level_token_which_opens_nothing_else(st, client):
    url = client.apps_connections_open(app_token=st.app_token)["url"]
    assert url.startswith(f"ws://127.0.0.1:{st.url.rsplit(':', 1)[1]}/link/?ticket=")
    assert client.apps_connections_open(app_token=st.app_token)["url"] != url
    refusals = {
        TOKEN: "not_allowed_token_type",
        "xapp-someone-else": "invalid_auth",
        "": "not_authed",
    }
    for token, error in refusals.items():
        with pytest.raises(SlackApiError) as err:
            WebClient(base_url=st.api_url).api_call(
                "apps.connections.open", params={"token": token} if token else {}
            )
        assert err.value.response["error"] == error
    with pytest.raises(SlackApiError) as err:
        WebClient(token=st.app_token, base_url=st.api_url).chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "not_allowed_token_type"
    assert st.messages() == []


def test_unknown_channel_when_channels_are_known(st, client):
    st.known_channels = {"C1"}
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C9", text="x")
    assert err.value.response["error"] == "channel_not_found"
    client.chat_postMessage(channel="C1", text="x")
    assert [m.channel for m in st.messages()] == ["C1"]


def test_rate_limited_call_is_retried_after_retry_after(st):
    client = WebClient(
        token=TOKEN, base_url=st.api_url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)]
    )
    st.fail("chat.postMessage", "ratelimited", count=1, retry_after=0)
    client.chat_postMessage(channel="C1", text="x")
    assert [(c.status, c.error) for c in st.calls("chat.postMessage")] == [(429, "ratelimited"), (200, None)]
    assert len(st.messages()) == 1


def test_rate_limit_without_retry_handler_raises_with_retry_after(st, client):
    st.fail("chat.postMessage", count=1, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"


def test_injected_error_and_http_500(st, client):
    st.fail("chat.postMessage", "channel_not_found")
    st.fail("chat.update", "http_500")
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "channel_not_found"
    ts = client.chat_postMessage(channel="C1", text="x")["ts"]
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C1", ts=ts, text="y")
    assert err.value.response.status_code == 500
    assert st.message("C1", ts).text == "x"


def test_down_closes_connections(st, client):
    st.set_down(True)
    with pytest.raises(ConnectionError):
        client.chat_postMessage(channel="C1", text="x")
    assert st.calls() == []
    st.set_down(False)
    assert client.chat_postMessage(channel="C1", text="x")["ok"]


def test_pace_limits_bursts_per_channel():
    with SlackStandin(bot_token=TOKEN, pace=True) as st:
        client = WebClient(token=TOKEN, base_url=st.api_url)
        for i in range(5):
            client.chat_postMessage(channel=f"C{i}", text="x")
        errors = []
        for _ in range(5):
            try:
                client.chat_postMessage(channel="CX", text="x")
            except SlackApiError as err:
                errors.append((err.response.status_code, err.response["error"]))
        assert errors and set(errors) == {(429, "ratelimited")}
        assert len(st.messages("CX")) == 5 - len(errors)
        assert len(st.messages()) == 5 + 5 - len(errors)


def test_response_url_records_respond_bodies(st):
    ts = WebClient(token=TOKEN, base_url=st.api_url).chat_postMessage(channel="C1", text="card", blocks=CARD)[
        "ts"
    ]
    respond = Respond(response_url=st.new_response_url(channel="C1", message_ts=ts, user="U1"))
    assert respond(text="Working on it", response_type="ephemeral").status_code == 200
    respond(text="Sent", replace_original=True)
    assert st.responses() == [
        {"text": "Working on it", "response_type": "ephemeral"},
        {"text": "Sent", "replace_original": True},
    ]
    assert [e["text"] for e in st.ephemerals("U1")] == ["Working on it"]
    assert (st.message("C1", ts).text, st.message("C1", ts).blocks) == ("Sent", [])


def test_response_url_allows_five_uses(st):
    respond = Respond(response_url=st.new_response_url())
    statuses = [respond(text=f"n{i}").status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]
    assert len(st.responses()) == 5


# -- driving a Bolt app with signed requests ---------------------------------------


@pytest.fixture
def app(st):
    # Listeners run before dispatch returns, so a test sees everything they did.
    return App(
        signing_secret=SECRET,
        client=WebClient(token=TOKEN, base_url=st.api_url),
        token_verification_enabled=False,
        process_before_response=True,
    )


def dispatch(app, body, timestamp=None, secret=SECRET):
    return app.dispatch(BoltRequest(body=body, headers=sign_request(secret, body, timestamp)))


def test_block_action_reaches_action_listener(st, app, client):
    posted = client.chat_postMessage(channel="C1", text="card", blocks=CARD)
    seen = {}

    @app.action("send")
    def on_send(ack, body, action, context, respond):
        ack()
        seen.update(
            user=body["user"]["id"],
            value=action["value"],
            channel=context.channel_id,
            ts=body["message"]["ts"],
            label=action["text"]["text"],
            trigger=body["trigger_id"],
        )
        respond(text="Sending", response_type="ephemeral")

    url = st.new_response_url(channel="C1", message_ts=posted["ts"], user="U1")
    body = block_action_body(
        user_id="U1",
        user_name="ana",
        action_id="send",
        value="draft-1",
        channel_id="C1",
        message_ts=posted["ts"],
        message=posted["message"],
        trigger_id="111.222.abc",
        response_url=url,
    )
    response = dispatch(app, body)
    assert response.status == 200
    assert seen == {
        "user": "U1",
        "value": "draft-1",
        "channel": "C1",
        "ts": posted["ts"],
        "label": "Send",
        "trigger": "111.222.abc",
    }
    assert [c.method for c in st.calls()] == ["chat.postMessage", "auth.test"]
    assert st.ephemerals("U1")[0]["text"] == "Sending"


def test_view_submission_reaches_view_listener(app):
    seen = {}

    @app.view("edit_reply")
    def on_submit(ack, view, body):
        ack()
        seen.update(
            user=body["user"]["id"],
            meta=view["private_metadata"],
            id=view["id"],
            text=view["state"]["values"]["reply"]["text"]["value"],
        )

    values = {"reply": {"text": {"type": "plain_text_input", "value": "Edited reply"}}}
    body = view_submission_body(user_id="U1", user_name="ana", view=MODAL, values=values, view_id="V9")
    assert dispatch(app, body).status == 200
    assert seen == {"user": "U1", "meta": "draft-1", "id": "V9", "text": "Edited reply"}


def test_slash_command_reaches_command_listener(st, app):
    seen = {}

    @app.command("/fanvue")
    def on_command(ack, command, context):
        ack("ok")
        seen.update(
            text=command["text"], user=context.user_id, channel=context.channel_id, url=context.response_url
        )

    url = st.new_response_url()
    body = slash_command_body(
        command="/fanvue",
        text="status",
        user_id="U1",
        user_name="ana",
        channel_id="C1",
        response_url=url,
        trigger_id="1.2.x",
    )
    response = dispatch(app, body)
    assert (response.status, response.body) == (200, "ok")
    assert seen == {"text": "status", "user": "U1", "channel": "C1", "url": url}


def test_bad_signature_and_stale_timestamp_are_refused(st, app):
    called = []

    @app.command("/fanvue")
    def on_command(ack):
        ack()
        called.append(True)

    body = slash_command_body(
        command="/fanvue",
        text="",
        user_id="U1",
        user_name="ana",
        channel_id="C1",
        response_url=st.new_response_url(),
        trigger_id="1.2.x",
    )
    assert dispatch(app, body, secret="wrong-secret").status == 401
    assert dispatch(app, body, timestamp=int(time.time()) - 600).status == 401
    assert called == []
    assert dispatch(app, body).status == 200
    assert called == [True]


def test_block_action_payload_uses_button_label_and_container():
    message = {"type": "message", "text": "card", "ts": "1700000000.000100", "blocks": CARD}
    payload = block_action_payload(
        user_id="U1",
        user_name="ana",
        action_id="send",
        value="draft-1",
        channel_id="C1",
        message_ts="1700000000.000100",
        message=message,
        trigger_id="t",
        response_url="http://x",
        action_ts="1.2",
    )
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C1",
        "is_ephemeral": False,
    }
    assert payload["actions"] == [
        {
            "action_id": "send",
            "block_id": "actions",
            "value": "draft-1",
            "type": "button",
            "action_ts": "1.2",
            "text": {"type": "plain_text", "text": "Send"},
        }
    ]
