"""A local OpenAI-compatible Chat Completions server for tests, the demo and benchmarks."""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_TEXT = "Thank you so much for your message, it made my day!"


@dataclass(frozen=True)
class Reply:
    """One scripted answer. `kind`: "text", "error" (HTTP `status`), "malformed" (not JSON), "empty"
    (no choices), "trickle" (the text's answer, one byte every `interval` seconds after prompt headers,
    or the headers too when `trickle_headers`)
    or "huge" (an answer of `size` bytes, sent as fast as the client reads, with a Content-Length only
    when `declare_size`); `delay` seconds pass before it is sent."""

    text: str = DEFAULT_TEXT
    kind: str = "text"
    status: int = 500
    delay: float = 0.0
    model: str | None = None
    error_message: str = "scripted failure"
    interval: float = 0.02
    trickle_headers: bool = False
    size: int = 32 * 1024 * 1024
    declare_size: bool = False


@dataclass
class Delivery:
    """How much of one answer's body went out: `served` of `total` bytes (the first `head` of them the
    status line and headers, when those were trickled too); `closed_early` when the client hung up before
    the end. `finished` is set once the stand-in stopped sending."""

    kind: str
    total: int
    head: int = 0
    served: int = 0
    closed_early: bool = False
    finished: threading.Event = field(default_factory=threading.Event)


@dataclass
class Request:
    """What reached the stand-in: the JSON body and the headers."""

    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    @property
    def system(self) -> str:
        return next((m["content"] for m in self.messages if m.get("role") == "system"), "")

    def contents(self, role: str) -> list[str]:
        return [m["content"] for m in self.messages if m.get("role") == role]


@dataclass
class _State:
    script: deque[Reply] = field(default_factory=deque)
    responder: Callable[[Request], Reply] | None = None
    default_delay: float = 0.0
    model: str = "standin-model"
    requests: list[Request] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    closing: threading.Event = field(default_factory=threading.Event)


class LlmStandin:
    """`with LlmStandin() as llm:` serves `llm.base_url` (…/v1) until the block ends."""

    def __init__(self, *, delay: float = 0.0, model: str = "standin-model"):
        self._state = _State(default_delay=delay, model=model)
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> LlmStandin:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="llm-standin", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._state.closing.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> LlmStandin:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- controls

    def script(self, *replies: Reply | str) -> None:
        """Answers for the next requests, in order; after them the responder or the default text."""
        with self._state.lock:
            self._state.script.extend(Reply(text=r) if isinstance(r, str) else r for r in replies)

    def respond_with(self, responder: Callable[[Request], Reply] | None) -> None:
        """Answer each request (once the script is used up) with what `responder` makes of it."""
        self._state.responder = responder

    def set_delay(self, seconds: float) -> None:
        self._state.default_delay = seconds

    @property
    def requests(self) -> list[Request]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def deliveries(self) -> list[Delivery]:
        """The trickled and huge answers sent so far, oldest first."""
        with self._state.lock:
            return list(self._state.deliveries)

    @property
    def max_in_flight(self) -> int:
        return self._state.max_in_flight

    def reset(self) -> None:
        with self._state.lock:
            self._state.requests.clear()
            self._state.deliveries.clear()
            self._state.script.clear()
            self._state.max_in_flight = 0

    # --- the server

    def _next_reply(self, request: Request) -> Reply:
        state = self._state
        with state.lock:
            if state.script:
                return state.script.popleft()
        if state.responder is not None:
            return state.responder(request)
        return Reply(delay=state.default_delay)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("llm standin: " + format, *args)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    return self._send(
                        200, {"object": "list", "data": [{"id": standin._state.model, "object": "model"}]}
                    )
                self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._send(400, {"error": {"message": "body is not JSON"}})
                request = Request(body=body, headers=dict(self.headers.items()))
                standin._enter(request)
                try:
                    reply = standin._next_reply(request)
                    if reply.delay:
                        standin._state.closing.wait(reply.delay)
                    self._answer(reply, body)
                finally:
                    standin._leave()

            def _answer(self, reply: Reply, body: dict[str, Any]) -> None:
                if reply.kind == "error":
                    return self._send(
                        reply.status, {"error": {"message": reply.error_message, "type": "server_error"}}
                    )
                if reply.kind == "malformed":
                    return self._send_raw(200, b'{"choices": [{"message": {"content": "cut off')
                if reply.kind == "huge":
                    return self._send_huge(reply)
                model = reply.model or body.get("model") or standin._state.model
                choices = (
                    []
                    if reply.kind == "empty"
                    else [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": reply.text},
                        }
                    ]
                )
                prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
                send = self._send_trickle if reply.kind == "trickle" else self._send
                send(
                    200,
                    {
                        "id": f"chatcmpl-{next(standin._ids)}",
                        "object": "chat.completion",
                        "model": model,
                        "choices": choices,
                        "usage": {
                            "prompt_tokens": prompt_chars // 4,
                            "completion_tokens": len(reply.text) // 4,
                            "total_tokens": prompt_chars // 4 + len(reply.text) // 4,
                        },
                    },
                    **(
                        {"interval": reply.interval, "headers_too": reply.trickle_headers}
                        if reply.kind == "trickle"
                        else {}
                    ),
                )

            def _send_trickle(
                self, status: int, payload: dict[str, Any], *, interval: float, headers_too: bool
            ) -> None:
                data = json.dumps(payload).encode()
                padding = f"X-Padding: {'.' * 2000}\r\n" if headers_too else ""  # headers that take long
                head = (
                    f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n{padding}"
                    f"Content-Length: {len(data)}\r\n\r\n"
                ).encode()
                delivery = standin._delivery("trickle", len(data))
                if headers_too:
                    delivery.total, delivery.head = len(head) + len(data), len(head)
                    data, head = head + data, b""
                try:
                    self.wfile.write(head)
                    for index in range(len(data)):
                        if standin._state.closing.wait(interval):
                            break
                        self.wfile.write(data[index : index + 1])
                        delivery.served += 1
                except (BrokenPipeError, ConnectionResetError):
                    delivery.closed_early = True
                    self.close_connection = True
                finally:
                    delivery.finished.set()

            def _send_huge(self, reply: Reply) -> None:
                head = b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "'
                tail = b'"}, "finish_reason": "stop"}]}'
                block = b"ha" * 32 * 1024
                delivery = standin._delivery("huge", reply.size)
                self.close_connection = True  # without a Content-Length the end of the body is the close
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    if reply.declare_size:
                        self.send_header("Content-Length", str(reply.size))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(head)
                    delivery.served = len(head)
                    filler_end = reply.size - len(tail)
                    while delivery.served < filler_end and not standin._state.closing.is_set():
                        part = block[: filler_end - delivery.served]
                        self.wfile.write(part)
                        delivery.served += len(part)
                    self.wfile.write(tail)  # a well-formed answer: only its size is wrong
                    delivery.served += len(tail)
                except (BrokenPipeError, ConnectionResetError):
                    delivery.closed_early = True
                finally:
                    delivery.finished.set()

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                self._send_raw(status, json.dumps(payload).encode())

            def _send_raw(self, status: int, data: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (its timeout); nothing to answer

        return Handler

    def _delivery(self, kind: str, total: int) -> Delivery:
        delivery = Delivery(kind=kind, total=total)
        with self._state.lock:
            self._state.deliveries.append(delivery)
        return delivery

    def _enter(self, request: Request) -> None:
        with self._state.lock:
            self._state.requests.append(request)
            self._state.in_flight += 1
            self._state.max_in_flight = max(self._state.max_in_flight, self._state.in_flight)

    def _leave(self) -> None:
        with self._state.lock:
            self._state.in_flight -= 1
