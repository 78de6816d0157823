"""HTTP mode: Bolt behind a small WSGI front, served by waitress, with a health check.

The front refuses what cannot be a Slack request cheaply, with one log line each and never the body: bodies
over `MAX_BODY` (413, before reading them), a missing, wrong or expired signature (401, before parsing),
bytes that are not UTF-8, content types Slack never sends, bodies that do not parse or lack what the
listeners read (400).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import parse_qsl

import waitress
from slack_bolt import App, BoltRequest, BoltResponse
from waitress import wasyncore

import safe_text
from slack import shape
from slack.bolt_app import secret_of

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's largest requests (a click on a full card, a modal submission) are tens of kilobytes.
MAX_BODY = 1024 * 1024
SIGNATURE_WINDOW = 5 * 60  # seconds either side of now, as Slack and Bolt allow
# Bodies up to this size stay in memory while waitress receives them; larger ones go to a temporary file.
IN_MEMORY_BODY = 256 * 1024
SLACK_CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")
LOGGED_DETAIL = 120  # characters of a refused request's detail that reach the log

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Refused(Exception):
    """A request answered at the front with `status`; `reason` is logged (one line), never the body."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


def wsgi_app(
    bolt: App | None,
    health: Callable[[], dict] | None = None,
    extra_routes: Mapping[str, Callable] | None = None,
) -> Callable:
    """Slack's requests at /slack/events, `GET /healthz` for probes (503 when `health()` says not ok), and `extra_routes` (path -> WSGI app).

    Signatures are checked here, before the body is parsed, when `bolt` came from `build_app` with a
    signing secret; Bolt checks them again (and alone, for any other app). Without `bolt` (Socket Mode),
    /slack/events is not served.
    """
    secret = secret_of(bolt) if bolt is not None else None
    routes = dict(extra_routes or {})

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return _health(start_response, health)
        if path in routes:
            return routes[path](environ, start_response)
        if path != EVENTS_PATH or bolt is None:
            return _answer(start_response, 404, "Not Found", "text/plain")
        if method != "POST":
            return _answer(start_response, 405, "Method Not Allowed", "text/plain")
        try:
            request = bolt_request(environ, secret)
        except Refused as refused:
            logger.warning("Refused a request to %s (%s): %s", path, refused.status, _one_line(str(refused)))
            return _answer(start_response, refused.status, json.dumps({"error": str(refused)}))
        response = bolt.dispatch(request)
        if response.status == 401:
            logger.warning("Refused a request to %s (401): missing, wrong or expired Slack signature", path)
        return _bolt_answer(start_response, response)

    return application


def health_app(health: Callable[[], dict]) -> Callable:
    """`GET /healthz` alone: in Socket Mode Slack's requests come over the socket, never to this port."""

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != HEALTH_PATH:
            return _answer(start_response, 404, "Not Found", "text/plain")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _answer(start_response, 405, "Method Not Allowed", "text/plain")
        return _health(start_response, health)

    return application


def _health(start_response: Callable, health: Callable[[], dict] | None) -> list[bytes]:
    """200 when `health()` says ok (or there is no check), else 503; the JSON says why."""
    report = {"ok": True, **(health() if health else {})}
    return _answer(start_response, 200 if report["ok"] else 503, json.dumps(report))


def bolt_request(environ: dict, secret: str | None = None) -> BoltRequest:
    """The request as Bolt takes it, or Refused when it cannot be one of Slack's."""
    body = _read_body(environ)
    if secret:
        _check_signature(
            secret, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"), environ.get("HTTP_X_SLACK_SIGNATURE"), body
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(400, "the body is not UTF-8") from exc
    content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if text and content_type not in SLACK_CONTENT_TYPES:
        raise Refused(400, f"content type {content_type or 'missing'!r} is not one Slack sends")
    _check_parses(text, content_type)
    headers = {
        key[5:].lower().replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")
    }
    headers["content-type"] = environ.get("CONTENT_TYPE") or ""
    try:
        request = BoltRequest(body=text, query=environ.get("QUERY_STRING", ""), headers=headers)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise Refused(400, f"Bolt cannot read the body ({type(exc).__name__})") from exc
    # Checked before Bolt's own middleware, some of which reads fields without checking them.
    found = shape.problem(request.body)
    if found:
        raise Refused(400, found)
    return request


def _read_body(environ: dict) -> bytes:
    """At most MAX_BODY bytes; a larger body is refused from its Content-Length, else after MAX_BODY + 1."""
    declared = environ.get("CONTENT_LENGTH") or ""
    stream = environ.get("wsgi.input")
    if declared:
        try:
            length = int(declared)
        except ValueError as exc:
            raise Refused(400, "Content-Length is not a number") from exc
        if length < 0:
            raise Refused(400, "Content-Length is negative")
        if length > MAX_BODY:
            raise Refused(413, f"the body would be {length} bytes; at most {MAX_BODY} are read")
    elif environ.get("wsgi.input_terminated"):
        length = MAX_BODY + 1  # no length given, but the server ends the stream: read a bounded amount
    else:
        return b""
    if stream is None or length == 0:
        return b""
    body = stream.read(length)
    if len(body) > MAX_BODY:
        raise Refused(413, f"the body is over {MAX_BODY} bytes")
    return body


def _check_signature(secret: str, stamp: str | None, signature: str | None, body: bytes) -> None:
    """Slack's v0 signature: HMAC-SHA256 of `v0:{timestamp}:{body}`, the timestamp within 5 minutes."""
    if not stamp or not signature:
        raise Refused(401, "no Slack signature")
    if not stamp.isascii() or not stamp.isdigit() or abs(time.time() - int(stamp)) > SIGNATURE_WINDOW:
        raise Refused(401, "the signature's timestamp is not within 5 minutes of now")
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(f"v0={digest}".encode(), signature.encode("utf-8", "replace")):
        raise Refused(401, "the Slack signature does not match")


def _check_parses(text: str, content_type: str) -> None:
    """Slack sends a JSON object, a form, or a form whose `payload` field is a JSON object."""
    if not text:
        return
    if content_type == "application/json" or text.startswith("{"):  # what Bolt reads as JSON
        document = _json_object(text, "the body")
    else:
        fields = parse_qsl(text, keep_blank_values=True)
        payload = [value for name, value in fields if name == "payload"]
        if not payload:
            return
        document = _json_object(payload[0], "the payload field")
    if not document:
        raise Refused(400, "the JSON object is empty")


def _json_object(text: str, what: str) -> dict:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise Refused(400, f"{what} is not JSON") from exc
    if not isinstance(document, dict):
        raise Refused(400, f"{what} is not a JSON object")
    return document


def _one_line(text: str) -> str:
    """A refusal's reason may quote a header anyone can send: one line, short, control characters inert."""
    return safe_text.terminal(" ".join(text.split())[:LOGGED_DETAIL])


def _answer(start_response: Callable, status: int, body: str, kind: str = "application/json") -> list[bytes]:
    data = body.encode()
    start_response(
        f"{status} {_REASONS.get(status, 'Error')}",
        [("Content-Type", f"{kind}; charset=utf-8"), ("Content-Length", str(len(data)))],
    )
    return [data]


def _bolt_answer(start_response: Callable, response: BoltResponse) -> list[bytes]:
    data = (response.body or "").encode()
    headers = [
        (name, value)
        for name, values in response.headers.items()
        if name.lower() != "content-length"
        for value in values
    ]
    start_response(
        f"{response.status} {_REASONS.get(response.status, 'Error')}",
        [*headers, ("Content-Length", str(len(data)))],
    )
    return [data]


class HttpServer:
    """A waitress server on a thread of its own, so tests and the demo can start and stop it."""

    def __init__(self, application: Callable, host: str = "0.0.0.0", port: int = 3000, threads: int = 16):
        self._server = waitress.create_server(
            application,
            host=host,
            port=port,
            threads=threads,
            ident="fanvue-slack",
            clear_untrusted_proxy_headers=True,
            asyncore_loop_timeout=0.2,
            # waitress answers 413 itself from the Content-Length (or once a chunked body passes the limit),
            # before the body is received; it refuses a body of this size or more, hence the + 1.
            max_request_body_size=MAX_BODY + 1,
            inbuf_overflow=IN_MEMORY_BODY,
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.effective_port

    def serve_forever(self) -> None:
        logger.info("Listening for Slack on port %s%s", self.port, EVENTS_PATH)
        self._server.run()

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Finish requests in progress, then close every connection, kept-alive ones included."""
        self._server.task_dispatcher.shutdown(timeout=5)
        # Closing sockets from this thread would race the loop's select(); the loop closes them itself.
        try:
            self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
        except OSError:  # the loop already ended and closed its sockets, the trigger's pipe with them
            wasyncore.close_all(self._server._map)
        if self._thread is not None:
            self._thread.join(timeout=5)
