"""The webhook URLs as WSGI applications, for the app's HTTP server to serve beside Slack's."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from fanvue.webhooks import Event
from inbox.webhook_intake import Answer, WebhookIntake

PATH_PREFIX = "/webhooks/fanvue/"
PATHS = {
    Event.MESSAGE_RECEIVED: PATH_PREFIX + "message-received",
    Event.MESSAGE_READ: PATH_PREFIX + "message-read",
}
# A message event is well under a kilobyte; anything near this is not one of Fanvue's.
MAX_BODY = 256 * 1024

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    405: "Method Not Allowed",
    413: "Content Too Large",
    503: "Service Unavailable",
}


class BodyRefused(Exception):
    """The body is refused before (or while) it is read; `status` says how."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


def webhook_routes(intake: WebhookIntake) -> dict[str, Callable]:
    """Path -> WSGI application, one per event: platform events carry no type, so the URL tells them apart."""
    return {path: endpoint(intake, event) for event, path in PATHS.items()}


def endpoint(intake: WebhookIntake, event: Event) -> Callable:
    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _Answered(start_response, Answer(405, {"error": "POST only"}), [("Allow", "POST")])
        try:
            raw = read_body(environ)
        except BodyRefused as refused:
            return _Answered(start_response, intake.refuse(refused.status, str(refused), event))
        answer = intake.receive(event, raw, environ.get("HTTP_X_FANVUE_SIGNATURE"))
        return _Answered(start_response, answer, on_close=intake.hand_on)

    return application


def read_body(environ: dict, limit: int = MAX_BODY) -> bytes:
    """At most `limit` bytes: a larger Content-Length is refused unread, a longer stream after limit + 1."""
    declared = environ.get("CONTENT_LENGTH") or ""
    stream = environ.get("wsgi.input")
    if declared:
        if not declared.isascii() or not declared.isdigit():
            raise BodyRefused(400, "Content-Length is not a number")
        length = int(declared)
        if length > limit:
            raise BodyRefused(413, f"the body would be {length} bytes; at most {limit} are read")
    elif environ.get("wsgi.input_terminated"):
        length = limit + 1
    else:
        return b""
    body = stream.read(length) if stream is not None and length else b""
    if len(body) > limit:
        raise BodyRefused(413, f"the body is over {limit} bytes")
    return body


class _Answered:
    """The response body; the WSGI server calls close() once it has written it, and only then is the stored
    event handed on, so the work it starts never delays Fanvue's answer."""

    def __init__(
        self,
        start_response: Callable,
        answer: Answer,
        headers: list[tuple[str, str]] | None = None,
        on_close: Callable[[int], None] | None = None,
    ):
        self._data = json.dumps(answer.body).encode()
        self._event_id = answer.event_id
        self._on_close = on_close
        start_response(
            f"{answer.status} {_REASONS.get(answer.status, 'Error')}",
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(self._data))),
                *(headers or []),
            ],
        )

    def __iter__(self) -> Iterator[bytes]:
        yield self._data

    def close(self) -> None:
        if self._on_close is not None and self._event_id is not None:
            self._on_close(self._event_id)
