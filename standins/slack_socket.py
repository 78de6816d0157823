"""Slack's Socket Mode on the stand-in: WebSocket URLs, the hello, envelopes, acknowledgements and redelivery."""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

from standins.slack_envelopes import ACCEPTS_RESPONSE, Envelope, Link, event_callback
from standins.slack_state import APP_ID
from standins.ws_frames import OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, ClosedError, WsPeer, handshake_response

logger = logging.getLogger(__name__)

APP_TOKEN = "xapp-test"
LINK_PATH = "/link/"
# Slack expects an acknowledgement within 3 seconds; after that it delivers the envelope again.
ACK_TIMEOUT = 3.0
# Slack delivers an unacknowledged envelope again this many times, then gives up on it.
MAX_RETRIES = 3
# After a "disconnect" message Slack closes the old connection itself if the client has not.
REFRESH_GRACE = 10.0
# How often redeliveries and the refresh grace are checked.
TICK = 0.02


class SocketMode:
    """Socket Mode connections to the stand-in; every public method is safe from any thread.

    Envelopes go to the open connections in turn (Slack picks one at random). One not acknowledged within
    `ack_timeout`, or whose connection closed before its acknowledgement arrived, is delivered again with
    `retry_attempt` one higher, as soon as a connection is open, up to `max_retries` times.
    """

    def __init__(
        self, app_token: str = APP_TOKEN, *, ack_timeout: float = ACK_TIMEOUT, max_retries: int = MAX_RETRIES
    ) -> None:
        self.app_token = app_token
        self.ack_timeout = ack_timeout
        self.max_retries = max_retries
        self.cond = threading.Condition()
        self.tickets: set[str] = set()
        self.links: list[Link] = []
        self.envelopes: dict[str, Envelope] = {}
        self.ack_log: dict[str, list[dict]] = {}
        self.lost_acks = 0
        self.connects = 0
        self.turn = 0
        self.base_url: str | None = None
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    # -- lifecycle and wiring ----------------------------------------------------

    def start(self, base_url: str) -> None:
        """Serve WebSocket URLs under `base_url` (ws://host:port) and start redelivering."""
        self.base_url = base_url
        self.stopping.clear()
        self.thread = threading.Thread(target=self._tick, name="slack-socket", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.thread = None
        with self.cond:
            for link in self.links:
                link.peer.abort()

    def new_url(self) -> str:
        """A one-time WebSocket URL, as apps.connections.open hands out."""
        if self.base_url is None:
            raise RuntimeError("Socket Mode is not started")
        ticket = secrets.token_hex(16)
        with self.cond:
            self.tickets.add(ticket)
        return f"{self.base_url}{LINK_PATH}?ticket={ticket}&app_id={APP_ID}"

    def serve(self, sock: socket.socket, rfile: BinaryIO, path: str, headers: Any) -> None:
        """Run one WebSocket on the calling (HTTP handler) thread until it closes."""
        ticket = (parse_qs(urlsplit(path).query).get("ticket") or [""])[0]
        with self.cond:
            valid = ticket in self.tickets
            self.tickets.discard(ticket)
        key = headers.get("Sec-WebSocket-Key")
        if not valid or not key or (headers.get("Upgrade") or "").lower() != "websocket":
            sock.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        sock.sendall(handshake_response(key))
        link = self._open(WsPeer(sock, rfile))
        try:
            while True:
                opcode, data = link.peer.read_frame()
                if opcode == OP_TEXT:
                    self._received(link, data.decode("utf-8", errors="replace"))
                elif opcode == OP_PING:
                    link.peer.send(OP_PONG, data)
                elif opcode == OP_CLOSE:
                    link.peer.close()
                    break
        except ClosedError:
            pass
        finally:
            self._closed(link)

    # -- what tests and the demo use ---------------------------------------------

    @property
    def connections(self) -> int:
        """Open connections that still receive envelopes."""
        with self.cond:
            return len(self._live())

    def deliver(
        self,
        type: str,
        payload: dict,
        *,
        accepts_response_payload: bool | None = None,
        lose_ack: bool = False,
    ) -> str:
        """Queue an envelope and send it to one open connection; its envelope_id.

        With `lose_ack`, the connection breaks as the first acknowledgement arrives, so Slack never sees it.
        """
        if accepts_response_payload is None:
            accepts_response_payload = type in ACCEPTS_RESPONSE or payload.get("type") in ACCEPTS_RESPONSE
        envelope = Envelope(str(uuid.uuid4()), type, payload, accepts_response_payload, lose_ack=lose_ack)
        with self.cond:
            self.envelopes[envelope.envelope_id] = envelope
            self._send(envelope, time.monotonic())
        return envelope.envelope_id

    def deliver_interactive(self, payload: dict, *, lose_ack: bool = False) -> str:
        """A block_actions, view_submission or other interaction payload."""
        return self.deliver("interactive", payload, lose_ack=lose_ack)

    def deliver_command(self, fields: dict, *, lose_ack: bool = False) -> str:
        """A slash command: the same fields Slack posts as a form in HTTP mode."""
        return self.deliver("slash_commands", fields, lose_ack=lose_ack)

    def deliver_event(self, event: dict, *, lose_ack: bool = False) -> str:
        """A bot event such as app_home_opened, wrapped as Slack's Events API does."""
        return self.deliver("events_api", event_callback(event), lose_ack=lose_ack)

    def acks(self, envelope_id: str) -> list[dict]:
        """Every acknowledgement received for the envelope, as the app sent it."""
        with self.cond:
            return [dict(a) for a in self.ack_log.get(envelope_id, [])]

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict:
        """The first acknowledgement of the envelope; TimeoutError if none came (or Slack gave up)."""
        with self.cond:
            envelope = self.envelopes[envelope_id]
            self.cond.wait_for(lambda: self.ack_log.get(envelope_id) or envelope.given_up, timeout=timeout)
            if not self.ack_log.get(envelope_id):
                raise TimeoutError(f"no acknowledgement of {envelope.summary()}")
            return dict(self.ack_log[envelope_id][0])

    def envelope(self, envelope_id: str) -> dict:
        """How the envelope fared: deliveries, retry_attempt, acked, given_up, and the connection (numbered
        from 1 in connect order) it last went to."""
        with self.cond:
            return self.envelopes[envelope_id].summary()

    def wait_until(
        self, condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
    ) -> None:
        """Wait until `condition()` holds: re-checked when a connection or acknowledgement changes here, and
        every TICK for conditions on the client's side."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{what} did not happen within {timeout}s")
                self.cond.wait(min(left, TICK))

    def drop_connections(self, *, close_frame: bool = False) -> int:
        """Break every connection (a network failure; with `close_frame`, a clean close); how many."""
        with self.cond:
            links = list(self.links)
        for link in links:
            link.peer.close() if close_frame else link.peer.abort()
        return len(links)

    def request_refresh(self, reason: str = "refresh_requested") -> int:
        """Tell every connection to reconnect, as Slack does before it retires a server; how many."""
        message = json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "standin"}})
        with self.cond:
            links = self._live()
            now = time.monotonic()
            for link in links:
                link.retiring_since = now
                link.peer.send_text(message)
            self.cond.notify_all()
            return len(links)

    # -- internals (the caller holds self.cond where noted) ------------------------

    def _live(self) -> list[Link]:
        return [link for link in self.links if link.retiring_since is None and not link.peer.closed]

    def _open(self, peer: WsPeer) -> Link:
        with self.cond:
            self.connects += 1
            link = Link(self.connects, peer)
            self.links.append(link)
            hello = {
                "type": "hello",
                "num_connections": len(self.links),
                "debug_info": {"host": "standin", "build_number": 1, "approximate_connection_time": 3600},
                "connection_info": {"app_id": APP_ID},
            }
            peer.send_text(json.dumps(hello))
            self.cond.notify_all()
        return link

    def _closed(self, link: Link) -> None:
        link.peer.abort()
        with self.cond:
            if link in self.links:
                self.links.remove(link)
            for envelope in self.envelopes.values():
                if envelope.link is link and not envelope.acked:
                    envelope.link = None  # delivered on a dead connection: due again at once
            self.cond.notify_all()

    def _send(self, envelope: Envelope, now: float) -> None:
        """Holds self.cond. Without an open connection the envelope waits for one."""
        live = self._live()
        if not live:
            envelope.link = None
            return
        link = live[self.turn % len(live)]
        self.turn += 1
        if envelope.deliveries:
            envelope.retry_attempt += 1
        envelope.deliveries += 1
        envelope.link, envelope.sent_at = link, now
        link.peer.send_text(json.dumps(envelope.message()))

    def _received(self, link: Link, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            logger.warning("Socket Mode stand-in: a message that is not JSON: %.200s", text)
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        with self.cond:
            envelope = self.envelopes.get(str(envelope_id))
            if envelope is None:
                logger.warning("Socket Mode stand-in: acknowledgement of unknown envelope %r", envelope_id)
                return
            if envelope.lose_ack:
                envelope.lose_ack = False
                self.lost_acks += 1
                link.peer.abort()
                return
            envelope.acked = True
            self.ack_log.setdefault(envelope.envelope_id, []).append(message)
            self.cond.notify_all()

    def _tick(self) -> None:
        while not self.stopping.wait(TICK):
            with self.cond:
                now = time.monotonic()
                for envelope in self.envelopes.values():
                    if envelope.acked or envelope.given_up:
                        continue
                    if envelope.link is not None and now - envelope.sent_at < self.ack_timeout:
                        continue
                    if envelope.deliveries > self.max_retries:
                        envelope.given_up = True
                        self.cond.notify_all()
                    else:
                        self._send(envelope, now)
                for link in self.links:
                    if link.retiring_since is not None and now - link.retiring_since >= REFRESH_GRACE:
                        link.peer.abort()
