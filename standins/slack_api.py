"""A local HTTP stand-in for Slack's Web API and response URLs, for tests and the demo."""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from standins.slack_socket import APP_TOKEN, LINK_PATH, SocketMode
from standins.slack_state import (
    ApiError,
    Call,
    Failure,
    Msg,
    ResponseUrl,
    SlackState,
    decode_json_fields,
)

logger = logging.getLogger(__name__)

__all__ = ["SlackStandin", "Call", "Msg", "ApiError"]


class SlackStandin:
    """Slack's Web API on 127.0.0.1, answering slack_sdk's WebClient and Bolt's respond()."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        pace: bool = False,
        known_channels: set[str] | None = None,
        app_token: str = APP_TOKEN,
    ) -> None:
        self.state = SlackState(bot_token=bot_token, pace=pace)
        # Socket Mode: apps.connections.open takes `app_token` and hands out URLs on this same server.
        self.socket = SocketMode(app_token)
        self.state.app_token = app_token
        self.state.socket_url = self.socket.new_url
        self.state.known_channels = set(known_channels) if known_channels is not None else None
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def known_channels(self) -> set[str] | None:
        return self.state.known_channels

    @known_channels.setter
    def known_channels(self, channels: set[str] | None) -> None:
        with self.state.lock:
            self.state.known_channels = set(channels) if channels is not None else None

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> SlackStandin:
        """Bind a free port and serve on a daemon thread."""
        handler = type("BoundHandler", (StandinHandler,), {"state": self.state, "socket": self.socket})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="slack-standin", daemon=True
        )
        self.thread.start()
        self.socket.start(f"ws://127.0.0.1:{self.server.server_address[1]}")
        logger.info("Slack stand-in listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.socket.stop()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.server = None
        self.thread = None

    def __enter__(self) -> SlackStandin:
        return self.start() if self.server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError("the Slack stand-in is not started")
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def app_token(self) -> str:
        """The app-level token (xapp-) apps.connections.open accepts."""
        return self.socket.app_token

    # -- what reached it ------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every Web API request in arrival order, failed ones included."""
        with self.state.lock:
            return [c for c in self.state.call_log if method is None or c.method == method]

    def messages(self, channel: str | None = None) -> list[Msg]:
        """Messages as they stand now, in post order."""
        with self.state.lock:
            return [
                dataclasses.replace(m)
                for m in self.state.posted.values()
                if channel is None or m.channel == channel
            ]

    def message(self, channel: str, ts: str) -> Msg:
        """One message; KeyError when it was never posted or was deleted."""
        with self.state.lock:
            return dataclasses.replace(self.state.posted[(channel, ts)])

    def ephemerals(self, user: str | None = None) -> list[dict]:
        """chat.postEphemeral calls and ephemeral response_url posts."""
        with self.state.lock:
            return [dict(e) for e in self.state.ephemeral_log if user is None or e["user"] == user]

    def views(self) -> list[dict]:
        """Views opened, each {"view_id", "trigger_id", "view", "user", "updates"}."""
        with self.state.lock:
            return [dict(v) for v in self.state.opened_views.values()]

    def responses(self) -> list[dict]:
        """Decoded JSON bodies posted to response URLs, in order."""
        with self.state.lock:
            return list(self.state.response_log)

    # -- steering -------------------------------------------------------------------

    def fail(self, method: str, error: str = "ratelimited", count: int = 1, retry_after: int = 1) -> None:
        """Make the next `count` calls to `method` fail with `error`."""
        with self.state.lock:
            self.state.failures.setdefault(method, []).append(Failure(error, count, retry_after))

    def set_down(self, down: bool) -> None:
        """While down, every connection is closed without an answer."""
        with self.state.lock:
            self.state.down = down

    def new_response_url(
        self, *, channel: str | None = None, message_ts: str | None = None, user: str | None = None
    ) -> str:
        """A response_url; given channel and message_ts, replace/delete_original act on that message."""
        key = secrets.token_hex(8)
        with self.state.lock:
            self.state.response_urls[key] = ResponseUrl(channel=channel, message_ts=message_ts, user=user)
        return f"{self.url}/response/{key}"

    def new_trigger_id(self, user: str | None = None) -> str:
        """A trigger_id; views opened with it are attributed to `user`."""
        trigger_id = f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        if user is not None:
            with self.state.lock:
                self.state.trigger_users[trigger_id] = user
        return trigger_id


class StandinHandler(BaseHTTPRequestHandler):
    """Routes /api/<method>, /response/<id> and the Socket Mode WebSocket; the state is bound per server."""

    state: SlackState
    socket: SocketMode

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("stand-in %s", format % args)

    def do_GET(self) -> None:
        if urlsplit(self.path).path == LINK_PATH:
            self.close_connection = True
            with self.state.lock:
                down = self.state.down
            if not down:
                self.socket.serve(self.connection, self.rfile, self.path, self.headers)
            return
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def dispatch(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.state.lock:
            down = self.state.down
        if down:
            self.close_connection = True
            return
        path = urlsplit(self.path)
        if path.path.startswith("/api/"):
            self.answer_api(path.path[len("/api/") :], path.query, raw)
        elif path.path.startswith("/response/"):
            self.answer_response_url(path.path[len("/response/") :], raw)
        else:
            self.send_text(404, "not_found")

    def answer_api(self, method: str, query: str, raw: bytes) -> None:
        args = dict(parse_qsl(query))
        content_type = self.headers.get("Content-Type", "")
        try:
            if content_type.startswith("application/json"):
                args.update(json.loads(raw or b"{}"))
            else:
                args.update(parse_qsl(raw.decode("utf-8")))
        except (ValueError, TypeError):
            self.send_json(200, {}, {"ok": False, "error": "invalid_json"})
            return
        token = self.bearer_token() or args.pop("token", None)
        status, headers, body = self.state.handle(method, decode_json_fields(args), token)
        if status == 500:
            self.send_text(500, "Internal Server Error")
        else:
            self.send_json(status, headers, body)

    def bearer_token(self) -> str | None:
        value = self.headers.get("Authorization", "")
        return value[len("Bearer ") :] if value.startswith("Bearer ") else None

    def answer_response_url(self, key: str, raw: bytes) -> None:
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            self.send_text(400, "invalid_payload")
            return
        status, text = self.state.respond(key, body)
        self.send_text(status, text)

    def send_json(self, status: int, headers: dict, body: dict) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, status: int, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
