"""HTTP layer of the sandbox: routing, bearer auth, API version, rate limit, latency and faults."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import agency_api, api, earnings, insights, vault_api
from .agency import Agency
from .agency_controls import handle_agency_control
from .controls import PREFIX, handle_control
from .oauth import AUTHORIZE_PATH, TOKEN_PATH
from .ratelimit import TokenBucketLimiter
from .webhook_controls import handle_webhook_control
from .webhooks import WebhookSender
from .world import RequestRecord, World

logger = logging.getLogger(__name__)

API_VERSION = "2025-06-26"
NO_RESPONSE = 0


@dataclass
class ServerContext:
    """What every request handler shares."""

    world: World
    limiter: TokenBucketLimiter
    stopping: threading.Event = field(default_factory=threading.Event)
    hang_seconds: float = 30.0
    # Every creator served and the agency members; `world` is its first creator.
    agency: Agency | None = None
    webhooks: WebhookSender = field(default_factory=WebhookSender)

    def __post_init__(self) -> None:
        if self.agency is None:
            self.agency = Agency([self.world])


class SandboxHTTPServer(ThreadingHTTPServer):
    """Threaded server that can cut every open connection when the sandbox stops."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], context: ServerContext) -> None:
        super().__init__(address, SandboxHandler)
        self.context = context
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def version_error(version: str | None) -> tuple[int, dict] | None:
    """The 400/410 answer for a missing, unknown or retired X-Fanvue-API-Version, else None."""
    if version == API_VERSION:
        return None
    if version and re.fullmatch(r"\d{4}-\d{2}-\d{2}", version) and version < API_VERSION:
        return 410, {
            "error": "API version sunset",
            "message": f"API version {version} is no longer supported; use {API_VERSION}",
            "nextVersion": API_VERSION,
        }
    shown = repr(version) if version else "missing"
    return 400, {
        "error": "Unsupported API version",
        "message": f"X-Fanvue-API-Version {shown} is not supported; send {API_VERSION}",
    }


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class SandboxHandler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive like the real API."""

    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; with Nagle on, a kept-alive connection would wait ~40 ms for
        # the client's delayed ACK before the body, adding a latency Fanvue does not have.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _dispatch(self) -> None:
        # The one edge handler: a bug in the sandbox answers 500 and is logged instead of killing the socket.
        try:
            self._route()
        except Exception:
            logger.exception("sandbox failed on %s %s", self.command, urlsplit(self.path).path)
            self.close_connection = True
            self._write(500, {"error": "Internal Server Error"}, {})

    def _route(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            self.close_connection = True
            self._write(400, {"errors": ["Content-Length must be a whole number"]}, {})
            return
        body = self.rfile.read(int(length)) if int(length) > 0 else b""
        if parts.path == PREFIX or parts.path.startswith(PREFIX + "/"):
            context = self.server.context
            reply = (
                handle_webhook_control(context.webhooks, self.command, parts.path, body)
                or handle_agency_control(context.agency, self.command, parts.path, query, body)
                or handle_control(context.world, self.command, parts.path, query, body)
            )
            self._write(reply.status, reply.body, {})
            return
        if parts.path in (AUTHORIZE_PATH, TOKEN_PATH):
            self._serve_oauth(parts.path, query, body)
            return
        self._serve_api(parts.path, query, body)

    def _serve_oauth(self, path: str, query: dict[str, list[str]], body: bytes) -> None:
        """The authorization server shares the port; it is outside the API's rate limit and request log."""
        oauth = self.server.context.world.oauth
        if (self.command, path) == ("GET", AUTHORIZE_PATH):
            reply = oauth.authorize(query)
        elif (self.command, path) == ("POST", TOKEN_PATH):
            reply, fault = oauth.token(
                self.headers.get("Authorization"), self.headers.get("Content-Type"), body
            )
            if fault == "hang":
                self.server.context.stopping.wait(self.server.context.hang_seconds)
                self._drop()
                return
            if fault == "drop_response":
                self._drop()
                return
        else:
            self._write(
                405, {"error": "method_not_allowed"}, {"Allow": "GET" if path == AUTHORIZE_PATH else "POST"}
            )
            return
        self._write(reply.status, reply.body, reply.headers)

    def _serve_api(self, path: str, query: dict[str, list[str]], body: bytes) -> None:
        context = self.server.context
        world = context.world
        if world.latency_ms:
            context.stopping.wait(world.latency_ms / 1000)
        token = bearer_token(self.headers.get("Authorization"))
        who = context.agency.principal(token)
        token_ok = who is not None
        own = who.world if who is not None else None
        if own is not None and own is not world and own.latency_ms:
            context.stopping.wait(own.latency_ms / 1000)  # a second creator's own latency, for its token
        decision = context.limiter.take(context.agency.rate_key(token or "", path))
        headers = decision.headers()

        def answer(status: int, payload: dict | None, extra: dict | None = None) -> None:
            world.record_request(RequestRecord(self.command, path, _flat(query), status, token_ok))
            if status != NO_RESPONSE:
                self._write(status, payload, {**headers, **(extra or {})})

        if not decision.allowed:
            answer(429, {"error": "Too many requests, retry later"})
            return
        found = (
            api.route(self.command, path)
            or agency_api.route(self.command, path)
            or insights.route(self.command, path)
            or vault_api.route(self.command, path)
            or earnings.route(self.command, path)
        )
        if found is None:
            answer(404, {"message": f"Cannot {self.command} {path}"})
            return
        if not token_ok:
            answer(401, {"error": "Unauthorized"})
            return
        refused = version_error(self.headers.get("X-Fanvue-API-Version"))
        if refused:
            answer(*refused)
            return
        fault = world.faults.take(self.command, path)
        if fault in ("404", "500", "503", "429"):
            self._answer_fault(fault, answer)
            return
        if fault == "hang":
            answer(NO_RESPONSE, None)
            context.stopping.wait(context.hang_seconds)
            self._drop()
            return
        handler, params = found
        request = api.ApiRequest(self.command, path, query, body, params)
        if handler in insights.HANDLERS:
            reply = insights.handle(who, handler, request)
        elif handler in vault_api.HANDLERS:
            reply = vault_api.handle(who, handler, request)
        elif handler in earnings.HANDLERS:
            reply = earnings.handle(who, handler, request)
        elif handler in agency_api.HANDLERS:
            reply = agency_api.handle(context.agency, who, handler, request)
        elif who.world is None:
            reply = agency_api.own_account(context.agency, who, handler, request)
        else:
            reply = api.handle(who.world, handler, request)
        if fault in ("drop_response", "store_then_hang"):
            answer(NO_RESPONSE, None)
            if fault == "store_then_hang":
                context.stopping.wait(context.hang_seconds)
            self._drop()
            return
        answer(reply.status, reply.body)

    def _answer_fault(self, fault: str, answer: Callable[..., None]) -> None:
        if fault == "429":
            answer(
                429,
                {"error": "Too many requests, retry later"},
                {"Retry-After": "1", "X-RateLimit-Remaining": "0"},
            )
        elif fault == "503":
            answer(503, {"error": "Service Unavailable"}, {"Retry-After": "1"})
        elif fault == "404":
            answer(404, {"message": "Not Found"})
        else:
            answer(500, {"error": "Internal Server Error"})

    def _drop(self) -> None:
        """Close the connection without a byte of response, as a crashed proxy would."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _write(self, status: int, payload: dict | None, headers: dict[str, str]) -> None:
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("X-Request-Id", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)


def _flat(query: dict[str, list[str]]) -> dict:
    return {key: values[0] if len(values) == 1 else list(values) for key, values in query.items()}
