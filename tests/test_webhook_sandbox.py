"""The sandbox's webhook deliveries: Fanvue's documented shapes and signature, retries, and the controls."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import pytest
import requests

# The payloads as WEBHOOKS.md shows them (Fanvue's docs); extra fields allowed, the older shape without
# mediaUuids, price and isMuted too.
_NULLABLE_STRING = {"type": ["string", "null"]}
RECEIVED_SCHEMA = {
    "type": "object",
    "required": ["messageUuid", "message", "sender", "recipientUuid", "timestamp"],
    "properties": {
        "messageUuid": {"type": "string"},
        "message": {
            "type": "object",
            "required": ["uuid", "text", "hasMedia", "createdAt"],
            "properties": {
                "uuid": {"type": "string"},
                "text": _NULLABLE_STRING,
                "hasMedia": {"type": "boolean"},
                "mediaUuids": {"type": "array", "items": {"type": "string"}},
                "price": {"type": ["integer", "null"]},
                "createdAt": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"},
            },
        },
        "sender": {
            "type": "object",
            "required": ["uuid", "handle", "displayName"],
            "properties": {
                "uuid": {"type": "string"},
                "handle": {"type": "string"},
                "displayName": {"type": "string"},
                "avatarUrl": _NULLABLE_STRING,
            },
        },
        "recipientUuid": {"type": "string"},
        "isMuted": {"type": "boolean"},
        "timestamp": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"},
    },
}
READ_SCHEMA = {
    "type": "object",
    "required": ["counterpartUuid", "readMessagesCount", "recipientUuid", "timestamp"],
    "properties": {
        "counterpartUuid": {"type": "string"},
        "readMessagesCount": {"type": "integer", "minimum": 1},
        "recipientUuid": {"type": "string"},
        "timestamp": {"type": "string"},
    },
}
SCHEMAS = {"message.received": RECEIVED_SCHEMA, "message.read": READ_SCHEMA}
SECRET = "whsec-sandbox"


class Receiver:
    """A webhook endpoint that answers the statuses it is given in turn (then 200) and keeps every request."""

    def __init__(self, statuses: list[int] | None = None):
        self.statuses = list(statuses or [])
        self.requests: list[tuple[str, dict, bytes, float]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body, time.monotonic()))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver(sandbox):
    rx = Receiver()
    sandbox.webhooks.register(rx.url + "/received", rx.url + "/read", SECRET)
    yield rx
    rx.close()


def _control(sandbox, method: str, path: str, **body) -> requests.Response:
    return requests.request(method, f"{sandbox.url}/_sandbox{path}", json=body or None, timeout=5)


def test_deliveries_have_the_documented_shapes_and_signature(sandbox, receiver):
    world = sandbox.world
    fans = world.fans()[:2]
    world.add_fan_message(fans[0]["uuid"], "hi there")
    world.add_fan_message(fans[1]["uuid"], None, media_type="image")
    world.read_chat(fans[0]["uuid"])
    assert sandbox.webhooks.wait_idle()
    paths = [path for path, *_ in receiver.requests]
    assert paths == ["/received", "/received", "/read"]
    for path, headers, body, _ in receiver.requests:
        kind = "message.received" if path == "/received" else "message.read"
        document = json.loads(body)
        jsonschema.validate(document, SCHEMAS[kind])
        assert headers["Content-Type"] == "application/json"
        # Fanvue's scheme: t=<unix seconds>,v0=hex(HMAC-SHA256(secret, "{t}.{raw body}")).
        stamp, v0 = (part.split("=", 1)[1] for part in headers["X-Fanvue-Signature"].split(","))
        assert abs(int(stamp) - time.time()) < 60
        assert v0 == hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        assert document["recipientUuid"] == world.creator["uuid"]
    first, media, read = (json.loads(body) for _, _, body, _ in receiver.requests)
    assert first["sender"]["uuid"] == fans[0]["uuid"] and first["message"]["text"] == "hi there"
    assert media["message"]["hasMedia"] is True and media["message"]["text"] is None
    assert read["counterpartUuid"] == fans[0]["uuid"] and read["readMessagesCount"] >= 1


def test_a_wrapped_delivery_carries_the_event_in_data(sandbox, receiver):
    sandbox.webhooks.set_faults(wrap=True)
    sandbox.world.add_fan_message(sandbox.world.fans()[0]["uuid"], "hi")
    assert sandbox.webhooks.wait_idle()
    document = json.loads(receiver.requests[0][2])
    assert document["type"] == "message.received" and document["id"]
    jsonschema.validate(document["data"], RECEIVED_SCHEMA)


def test_a_read_chat_with_nothing_unread_sends_nothing(sandbox, receiver):
    fan = sandbox.world.fans()[0]["uuid"]
    sandbox.world.add_fan_message(fan, "hi")
    sandbox.world.read_chat(fan)
    sandbox.world.read_chat(fan)
    assert sandbox.webhooks.wait_idle()
    assert [path for path, *_ in receiver.requests] == ["/received", "/read"]


def test_a_non_2xx_answer_is_retried_with_growing_backoff_then_given_up(sandbox, receiver):
    receiver.statuses = [500, 503, 500, 500, 500]
    sandbox.webhooks.set_faults(max_attempts=3, backoff_ms=40)
    sandbox.world.add_fan_message(sandbox.world.fans()[0]["uuid"], "hi")
    assert sandbox.webhooks.wait_idle()
    assert [a["status"] for a in sandbox.webhooks.deliveries()] == [500, 503, 500]
    assert [a["attempt"] for a in sandbox.webhooks.deliveries()] == [1, 2, 3]
    assert [a["backoff_ms"] for a in sandbox.webhooks.deliveries()] == [0, 40, 80]
    times = [at for *_, at in receiver.requests]
    assert times[1] - times[0] >= 0.04 and times[2] - times[1] >= 0.08  # never sooner than the backoff
    bodies = {body for _, _, body, _ in receiver.requests}
    assert len(bodies) == 1  # every attempt carries the same bytes


def test_a_retry_after_a_failure_succeeds(sandbox, receiver):
    receiver.statuses = [502]
    sandbox.webhooks.set_faults(backoff_ms=10)
    sandbox.world.add_fan_message(sandbox.world.fans()[0]["uuid"], "hi")
    assert sandbox.webhooks.wait_idle()
    assert [a["status"] for a in sandbox.webhooks.deliveries()] == [502, 200]


def test_a_delay_holds_each_delivery(sandbox, receiver):
    sandbox.webhooks.set_faults(delay_ms=1000)
    sandbox.world.add_fan_message(sandbox.world.fans()[0]["uuid"], "hi")
    assert receiver.requests == [] and not sandbox.webhooks.wait_idle(0.01)
    assert sandbox.webhooks.wait_idle()
    assert len(receiver.requests) == 1


def test_nothing_is_sent_before_a_url_is_registered(sandbox):
    sandbox.world.add_fan_message(sandbox.world.fans()[0]["uuid"], "hi")
    assert sandbox.webhooks.wait_idle() and sandbox.webhooks.deliveries() == []


def test_the_controls_register_switch_faults_and_never_show_the_secret(sandbox):
    rx = Receiver()
    try:
        registered = _control(
            sandbox, "POST", "/webhooks", url_received=rx.url + "/r", url_read=rx.url + "/x", secret=SECRET
        )
        assert registered.status_code == 200 and registered.json()["registered"] is True
        assert _control(sandbox, "POST", "/webhooks/faults", duplicate=1).json()["duplicate"] == 1
        assert _control(sandbox, "POST", "/webhooks/faults", nonsense=1).status_code == 400
        assert _control(sandbox, "POST", "/webhooks", url_received=rx.url).status_code == 400  # no secret
        sandbox.world.add_fan_message(sandbox.world.fans()[0]["uuid"], "hi")
        assert sandbox.webhooks.wait_idle()
        state = _control(sandbox, "GET", "/webhooks").json()
        assert [d["status"] for d in state["deliveries"]] == [200, 200] and state["faults"]["duplicate"] == 0
        assert SECRET not in json.dumps(state)
        assert _control(sandbox, "DELETE", "/webhooks").status_code == 204
        assert _control(sandbox, "GET", "/webhooks").json()["registered"] is False
    finally:
        rx.close()
