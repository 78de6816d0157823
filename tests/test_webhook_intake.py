"""Fanvue's webhooks over real HTTP: the sandbox delivers, the app's server checks, stores once, answers, hands on."""

from __future__ import annotations

import json
import logging
import threading

import pytest
import requests

from inbox.webhook_http import MAX_BODY
from store import webhook_events
from tests.webhook_rig import READ_PATH, RECEIVED_PATH, WEBHOOK_SECRET, WebhookApp


@pytest.fixture
def app(tmp_path, sandbox, slack):
    running = WebhookApp(tmp_path / "bridge.db", sandbox, slack)
    running.register(sandbox)
    yield running
    running.close()


def _fan_writes(sandbox, text: str = "hello?", fan: dict | None = None) -> dict:
    fan = fan or sandbox.world.fans()[0]
    reply = requests.post(
        f"{sandbox.url}/_sandbox/fans/{fan['uuid']}/messages", json={"text": text}, timeout=5
    )
    assert reply.status_code == 201
    return reply.json()


def _faults(sandbox, **faults) -> None:
    assert requests.post(f"{sandbox.url}/_sandbox/webhooks/faults", json=faults, timeout=5).status_code == 200


def _ours(caplog) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name.split(".")[0] in ("inbox", "fanvue", "slack", "waitress", "store")
    ]


def _signed_event(message_uuid: str = "11111111-2222-3333-4444-555555555555") -> bytes:
    return json.dumps(
        {
            "messageUuid": message_uuid,
            "message": {
                "uuid": message_uuid,
                "text": "hi",
                "hasMedia": False,
                "createdAt": "2026-01-01T12:00:00.000Z",
            },
            "sender": {"uuid": "fan-1", "handle": "fan", "displayName": "Fan"},
            "recipientUuid": "creator-1",
            "timestamp": "2026-01-01T12:00:00.123Z",
        }
    ).encode()


def test_a_fan_message_delivered_twice_is_stored_and_handed_on_once(app, sandbox):
    _faults(sandbox, duplicate=1)
    message = _fan_writes(sandbox)
    assert sandbox.webhooks.wait_idle()
    attempts = sandbox.webhooks.deliveries("message.received")
    assert [a["status"] for a in attempts] == [200, 200]
    [row] = app.rows()
    assert (row.kind, row.message_uuid, row.fan_uuid) == (
        "message.received",
        message["uuid"],
        message["sender"]["uuid"],
    )
    assert row.recipient_uuid == sandbox.world.creator["uuid"]
    assert row.message_at == message["sentAt"] and row.deliveries == 2 and row.handled_at is None
    assert app.wait_handed(1) == [row.id]
    health = app.http.get(app.base + "/healthz", timeout=5).json()["webhooks"]
    assert (health["stored"], health["repeated"], health["refused"]) == (1, 1, 0)
    assert health["last_received_at"]


def test_a_bad_signature_is_answered_401_stores_nothing_and_logs_one_line_each(app, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    _faults(sandbox, bad_signature=1, max_attempts=2, backoff_ms=10)
    _fan_writes(sandbox)
    assert sandbox.webhooks.wait_idle()
    assert [a["status"] for a in sandbox.webhooks.deliveries()] == [401, 401]
    assert app.rows() == [] and app.handed == []
    warnings = [r for r in _ours(caplog) if r.levelno >= logging.WARNING]
    assert len(warnings) == 2 and all("does not match" in r.getMessage() for r in warnings)
    assert all(r.exc_info is None for r in warnings) and "Traceback" not in caplog.text
    assert WEBHOOK_SECRET not in caplog.text
    assert app.runtime.health()["webhooks"]["refused"] == 2


def test_a_signature_from_ten_minutes_ago_is_refused(app, sandbox):
    _faults(sandbox, stale_seconds=600, max_attempts=1)
    _fan_writes(sandbox)
    assert sandbox.webhooks.wait_idle()
    assert [a["status"] for a in sandbox.webhooks.deliveries()] == [401]
    assert app.rows() == []


def test_a_delivery_signed_during_a_rotation_passes(app, sandbox):
    app.register(sandbox, secret=["whsec-the-next-one", WEBHOOK_SECRET])
    _fan_writes(sandbox)
    assert sandbox.webhooks.wait_idle()
    [attempt] = sandbox.webhooks.deliveries()
    assert attempt["status"] == 200 and attempt["signature"].count("v0=") == 2
    assert len(app.rows()) == 1


def test_an_oversized_body_is_refused_with_413_before_it_is_read(app):
    body = b'{"pad": "' + b"x" * MAX_BODY + b'"}'
    assert app.post(RECEIVED_PATH, body).status_code == 413
    # Without a Content-Length (chunked), the body is cut off after the limit.
    chunked = app.http.post(
        app.base + RECEIVED_PATH,
        data=iter([body[:1000], body[1000:]]),
        headers={"X-Fanvue-Signature": "t=1,v0=0"},
    )
    assert chunked.status_code == 413
    assert app.rows() == [] and app.runtime.health()["webhooks"]["refused"] == 2


def test_a_body_at_the_limit_is_read_and_judged(app):
    body = b" " * (MAX_BODY - 2) + b"{}"
    assert len(body) == MAX_BODY
    assert app.post(RECEIVED_PATH, body).status_code == 400  # signed, read whole, and not an event


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe{}", b"{}", b'{"recipientUuid": "c-1"}'])
def test_a_signed_malformed_body_is_answered_400_with_one_line_and_no_traceback(app, caplog, body):
    caplog.set_level(logging.DEBUG)
    response = app.post(RECEIVED_PATH, body)
    assert response.status_code == 400 and "error" in response.json()
    records = [r for r in _ours(caplog) if r.levelno >= logging.WARNING]
    assert len(records) == 1 and records[0].exc_info is None and "\n" not in records[0].getMessage()
    assert "Traceback" not in caplog.text
    assert app.rows() == []


def test_an_unsigned_request_is_refused_401(app):
    response = app.http.post(app.base + RECEIVED_PATH, data=_signed_event(), timeout=5)
    assert response.status_code == 401 and "X-Fanvue-Signature" in response.json()["error"]
    assert app.rows() == []


def test_only_post_is_served(app):
    response = app.http.get(app.base + RECEIVED_PATH, timeout=5)
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


def test_the_answer_is_2xx_only_once_the_row_exists(app):
    response = app.post(RECEIVED_PATH, _signed_event())
    assert response.status_code == 200
    # Read at once, by another connection: the row was committed before the answer went out.
    [row] = webhook_events.unhandled(app.store.db)
    assert row.message_uuid == "11111111-2222-3333-4444-555555555555"


def test_the_callback_runs_after_the_answer_and_never_delays_it(tmp_path, sandbox, slack):
    running, release = threading.Event(), threading.Event()
    seen: list[tuple[int, bool]] = []

    def slow(event_id: int) -> None:
        seen.append((event_id, webhook_events.get(app.store.db, event_id) is not None))
        running.set()
        release.wait(10)

    app = WebhookApp(tmp_path / "bridge.db", sandbox, slack, on_webhook=slow)
    try:
        # The callback holds until the answer has arrived; an answer waiting for it would time out instead.
        response = app.post(RECEIVED_PATH, _signed_event())
        assert response.status_code == 200
        assert running.wait(10), "the callback never ran"
        release.set()
        [row] = app.rows()
        assert seen == [(row.id, True)]
        # A repeat is answered without handing the event on again.
        assert app.post(RECEIVED_PATH, _signed_event()).json() == {"ok": True, "repeat": True}
    finally:
        release.set()
        app.close()
    assert len(seen) == 1


def test_a_failing_callback_is_logged_and_the_event_stays_unhandled(tmp_path, sandbox, slack, caplog):
    def broken(event_id: int) -> None:
        raise RuntimeError("the workflow broke")

    app = WebhookApp(tmp_path / "bridge.db", sandbox, slack, on_webhook=broken)
    try:
        assert app.post(RECEIVED_PATH, _signed_event()).status_code == 200
    finally:
        app.close()  # finishes the callback
    failures = [r for r in caplog.records if r.name == "inbox.webhook_intake" and r.exc_info]
    assert len(failures) == 1 and "stays stored unhandled" in failures[0].getMessage()


def test_the_creator_reading_a_chat_in_fanvue_is_stored_as_message_read(app, sandbox):
    fan = sandbox.world.fans()[0]
    _fan_writes(sandbox, fan=fan)
    _faults(sandbox, duplicate=1)
    assert requests.post(f"{sandbox.url}/_sandbox/fans/{fan['uuid']}/read", timeout=5).status_code == 200
    assert sandbox.webhooks.wait_idle()
    reads = sandbox.webhooks.deliveries("message.read")
    assert [a["status"] for a in reads] == [200, 200] and reads[0]["url"].endswith(READ_PATH)
    read_rows = [r for r in app.rows() if r.kind == "message.read"]
    assert len(read_rows) == 1 and read_rows[0].fan_uuid == fan["uuid"] and read_rows[0].deliveries == 2


def test_a_wrapped_delivery_is_stored_like_a_flat_one(app, sandbox):
    _faults(sandbox, wrap=True)
    message = _fan_writes(sandbox)
    assert sandbox.webhooks.wait_idle()
    [attempt] = sandbox.webhooks.deliveries()
    assert attempt["status"] == 200 and attempt["body"]["type"] == "message.received"
    assert [r.message_uuid for r in app.rows()] == [message["uuid"]]


def test_events_delivered_out_of_order_are_taken_up_in_the_order_they_were_written(app, sandbox):
    _faults(sandbox, reorder=3)
    fans = sandbox.world.fans()[:3]
    written = [_fan_writes(sandbox, f"message {i}", fan)["uuid"] for i, fan in enumerate(fans)]
    assert sandbox.webhooks.wait_idle()
    delivered = [a["body"]["messageUuid"] for a in sandbox.webhooks.deliveries()]
    assert delivered == written[::-1]
    assert [r.message_uuid for r in webhook_events.unhandled(app.store.db)] == written


def test_a_dropped_event_never_arrives_and_the_next_one_does(app, sandbox):
    _faults(sandbox, drop=1)
    _fan_writes(sandbox, "lost")
    kept = _fan_writes(sandbox, "kept")
    assert sandbox.webhooks.wait_idle()
    assert [r.message_uuid for r in app.rows()] == [kept["uuid"]]


def test_without_a_webhook_secret_the_urls_answer_404_and_store_nothing(tmp_path, sandbox, slack):
    app = WebhookApp(tmp_path / "bridge.db", sandbox, slack, env={"FANVUE_WEBHOOK_SECRET": ""})
    try:
        assert app.post(RECEIVED_PATH, _signed_event()).status_code == 404
        assert app.post(READ_PATH, b"{}").status_code == 404
        assert app.rows() == [] and "webhooks" not in app.runtime.health()
    finally:
        app.close()


def test_in_socket_mode_the_server_takes_webhooks_but_no_slack_requests(tmp_path, sandbox, slack):
    env = {"SLACK_APP_TOKEN": "xapp-test", "SLACK_SIGNING_SECRET": ""}
    app = WebhookApp(tmp_path / "bridge.db", sandbox, slack, env=env)
    try:
        assert app.runtime.settings.socket_mode
        # Requests are not verified in Socket Mode, so /slack/events must not be reachable over HTTP.
        assert app.http.post(app.base + "/slack/events", data=b"payload={}", timeout=5).status_code == 404
        assert app.post(RECEIVED_PATH, _signed_event()).status_code == 200
        assert len(app.rows()) == 1
    finally:
        app.close()
