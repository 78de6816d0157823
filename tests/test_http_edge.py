"""The HTTP front: what cannot be Slack's request is refused cheaply, with one log line and no traceback."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import select
import socket
import time
from urllib.parse import quote

import pytest

from slack import blocks
from slack.server import MAX_BODY, wsgi_app
from standins.slack_requests import sign_request, slash_command_body
from tests.harness import CHANNEL, SECRET, Harness


def _signed_bytes(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> dict:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def _payload(document) -> str:
    return "payload=" + quote(json.dumps(document))


def _ours(caplog) -> list[logging.LogRecord]:
    """What this app, Bolt and waitress logged (the stand-ins and the HTTP client are left out)."""
    # waitress's own "Task queue depth" warning reports a busy machine, not this request.
    return [
        r
        for r in caplog.records
        if r.name.split(".")[0] in ("slack", "slack_bolt", "waitress", "inbox") and r.name != "waitress.queue"
    ]


VALID_USER = {"id": "U0ALICE", "username": "alice"}
SIGNED_BUT_MALFORMED = {
    "payload is not JSON": "payload=not-json",
    "payload is a list": _payload([1, 2]),
    "empty payload": _payload({}),
    "view submission without view": _payload({"type": "view_submission", "user": VALID_USER}),
    "view that is text": _payload({"type": "view_submission", "user": VALID_USER, "view": "x"}),
    "view without callback_id": _payload(
        {"type": "view_submission", "user": VALID_USER, "view": {"id": "V1"}}
    ),
    "view state not an object": _payload(
        {
            "type": "view_submission",
            "user": VALID_USER,
            "view": {"callback_id": blocks.EDIT_VIEW, "state": []},
        }
    ),
    "actions that is text": _payload({"type": "block_actions", "user": VALID_USER, "actions": "x"}),
    "action that is text": _payload({"type": "block_actions", "user": VALID_USER, "actions": ["x"]}),
    "click without a user": _payload({"type": "block_actions", "actions": [{"action_id": blocks.SEND}]}),
    "user that is text": _payload(
        {"type": "block_actions", "user": "U0", "actions": [{"action_id": blocks.SEND}]}
    ),
    "slash command without response_url": "command=%2Ffanvue&user_id=U0ALICE&text=",
    "event that is text": json.dumps({"type": "event_callback", "event": "x", "event_id": "Ev1"}),
}


@pytest.mark.parametrize("name", sorted(SIGNED_BUT_MALFORMED))
def test_a_validly_signed_malformed_request_gets_400_and_one_log_line(harness: Harness, caplog, name):
    caplog.set_level(logging.INFO)
    body = SIGNED_BUT_MALFORMED[name]
    response = harness.post(body)
    harness.settle()
    assert response.status_code == 400, response.text
    records = _ours(caplog)
    assert len(records) == 1 and records[0].levelno == logging.WARNING, [r.getMessage() for r in records]
    assert records[0].exc_info is None and "Traceback" not in caplog.text
    assert harness.sandbox.world.sent_messages() == [] and harness.slack.responses() == []


def test_bytes_that_are_not_utf8_get_400_signed_or_not(harness: Harness, caplog):
    caplog.set_level(logging.INFO)
    body = b"payload=%7B%7D\xff\xfe\xc3("
    assert (
        harness.http.post(harness.url, data=body, headers=_signed_bytes(body), timeout=10).status_code == 400
    )
    assert (
        harness.http.post(harness.url, data=body, headers=sign_request(SECRET, "x"), timeout=10).status_code
        == 401
    )
    records = _ours(caplog)
    assert len(records) == 2 and all(r.exc_info is None for r in records)
    assert "not UTF-8" in records[0].getMessage() and "signature" in records[1].getMessage()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data; boundary=x", "", "application/xml"]
)
def test_a_content_type_slack_never_sends_gets_400(harness: Harness, caplog, content_type):
    caplog.set_level(logging.INFO)
    body = slash_command_body(
        command="/fanvue",
        text="help",
        user_id="U0ALICE",
        user_name="alice",
        channel_id=CHANNEL,
        response_url=harness.slack.new_response_url(channel=CHANNEL, user="U0ALICE"),
        trigger_id=harness.slack.new_trigger_id("U0ALICE"),
    )
    headers = {**sign_request(SECRET, body), "Content-Type": content_type}
    if not content_type:
        del headers["Content-Type"]
    response = harness.http.post(harness.url, data=body.encode(), headers=headers, timeout=10)
    harness.settle()
    assert response.status_code == 400
    assert len(_ours(caplog)) == 1 and harness.slack.responses() == []
    assert harness.post(body).status_code == 200  # the same body with Slack's content type is answered


def test_missing_forged_and_odd_signature_headers_get_401_and_one_line_without_the_body(
    harness: Harness, caplog
):
    caplog.set_level(logging.INFO)
    body = _payload({"type": "block_actions", "user": VALID_USER, "actions": [{"action_id": blocks.SEND}]})
    good = sign_request(SECRET, body)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    attempts = {
        "no headers": form,
        "no signature": {**form, "X-Slack-Request-Timestamp": good["X-Slack-Request-Timestamp"]},
        "no timestamp": {**form, "X-Slack-Signature": good["X-Slack-Signature"]},
        "timestamp not a number": {**good, "X-Slack-Request-Timestamp": "soon"},
        "timestamp huge": {**good, "X-Slack-Request-Timestamp": "9" * 40},
        "forged": sign_request("not-the-secret", body),
        "signature not ascii": {**good, "X-Slack-Signature": "v0=\xe9t\xe9"},
    }
    for name, headers in attempts.items():
        caplog.clear()
        response = harness.http.post(harness.url, data=body.encode(), headers=headers, timeout=10)
        assert response.status_code == 401, name
        records = _ours(caplog)
        assert len(records) == 1 and records[0].exc_info is None, (name, [r.getMessage() for r in records])
        assert "U0ALICE" not in records[0].getMessage()  # the body never reaches the log
    harness.settle()
    assert harness.slack.responses() == [] and harness.ephemerals() == []


def test_only_post_to_the_events_path_reaches_bolt(harness: Harness):
    base = harness.url.rsplit("/slack/events", 1)[0]
    assert harness.http.get(harness.url, timeout=10).status_code == 405
    assert harness.http.post(base + "/other", data="x", timeout=10).status_code == 404
    assert harness.http.get(base + "/healthz", timeout=10).json()["ok"] is True


# --- size ------------------------------------------------------------------------------------------------------


def _raw_request(port: int, head: str, body: bytes = b"", *, read: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        if not read:
            return b""
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_a_body_claimed_over_the_limit_is_refused_with_413_before_it_is_sent(harness: Harness, caplog):
    caplog.set_level(logging.INFO)
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
    )
    answer = _raw_request(harness.server.port, head)  # the 50 MiB never follow: the answer comes first
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _stream_chunked(port: int | str, total: int, piece: int = 65536) -> bytes:
    """Send a chunked body of `total` bytes a chunk at a time, stopping when the server answers."""
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        sent = 0
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break  # the answer came before the body ended
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (piece, b"a" * piece))
            except OSError:
                break
            sent += piece
        else:
            sock.sendall(b"0\r\n\r\n")
        return _read_answer(sock)


def _read_answer(sock: socket.socket) -> bytes:
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass  # the server closed with our unread bytes in its buffer; what arrived before counts
    return answer


def test_a_chunked_body_over_the_limit_is_refused_with_413(harness: Harness):
    assert _stream_chunked(harness.server.port, 50 * 1024 * 1024).startswith(b"HTTP/1.1 413 ")


def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_not(harness: Harness):
    def padded(size: int) -> str:
        body = slash_command_body(
            command="/fanvue",
            text="help",
            user_id="U0ALICE",
            user_name="alice",
            channel_id=CHANNEL,
            response_url=harness.slack.new_response_url(channel=CHANNEL, user="U0ALICE"),
            trigger_id=harness.slack.new_trigger_id("U0ALICE"),
        )
        body += "&pad="
        return body + "x" * (size - len(body))

    at_limit = padded(MAX_BODY)
    assert len(at_limit.encode()) == MAX_BODY
    assert harness.post(at_limit).status_code == 200
    harness.settle()
    assert len(harness.slack.responses()) == 1  # answered: /fanvue help
    assert harness.post(padded(MAX_BODY + 1)).status_code == 413


class _Unreadable(io.RawIOBase):
    """A request stream that must not be read."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")


class _Endless(io.RawIOBase):
    """A stream without a length that never ends, counting what was read."""

    def __init__(self):
        self.taken = 0

    def read(self, size: int = -1) -> bytes:
        assert size is not None and size >= 0, "an unbounded read"
        self.taken += size
        return b"a" * size


def _call(app, environ: dict) -> tuple[str, bytes]:
    seen = {}

    def start_response(status, headers):
        seen["status"] = status

    body = b"".join(app(environ, start_response))
    return seen["status"], body


def test_under_any_wsgi_server_an_oversized_body_is_refused_without_reading_it_all(harness: Harness):
    """waitress refuses first; the front still bounds what it reads when another server runs it."""
    app = wsgi_app(harness.bolt)
    base = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "SERVER_PROTOCOL": "HTTP/1.1"}
    huge = {**base, "CONTENT_LENGTH": str(10**12), "wsgi.input": _Unreadable()}
    assert _call(app, huge)[0].startswith("413")
    endless = _Endless()
    assert _call(app, {**base, "wsgi.input": endless, "wsgi.input_terminated": True})[0].startswith("413")
    assert endless.taken == MAX_BODY + 1
    for length in ("-5", "many", "1e3"):
        assert _call(app, {**base, "CONTENT_LENGTH": length, "wsgi.input": _Unreadable()})[0].startswith(
            "400"
        )
