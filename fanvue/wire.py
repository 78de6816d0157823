"""What the Fanvue clients check and read around a request: the message, the path, the failure, headers."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import requests
from urllib3.exceptions import NewConnectionError

from fanvue.errors import InvalidMessage
from fanvue.message_text import price_problem, text_problem


def check_message(
    text: str,
    price_cents: int | None,
    media_uuids: Sequence[str] = (),
    max_price_cents: int | None = None,
) -> None:
    """Refuse a message Fanvue would refuse, before it costs a request: its text, its media and its price."""
    if isinstance(media_uuids, str) or not all(isinstance(m, str) and m for m in media_uuids):
        raise InvalidMessage("media_uuids must be a sequence of media uuids, not one string")
    problem = text_problem(text) or price_problem(price_cents, media_uuids, max_price_cents)
    if problem:
        raise InvalidMessage(problem)


def segment(user_uuid: str) -> str:
    """A uuid as one escaped path segment."""
    if not isinstance(user_uuid, str) or not user_uuid:
        raise ValueError("user_uuid must be a non-empty string")
    return quote(user_uuid, safe="")


def never_sent(exc: BaseException) -> bool:
    """True when the request certainly never left: the connection itself could not be made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, NewConnectionError):
            return True
        inner = getattr(seen, "reason", None)
        if not isinstance(inner, BaseException) and seen.args and isinstance(seen.args[0], BaseException):
            inner = seen.args[0]
        seen = inner if isinstance(inner, BaseException) else seen.__cause__
    return False


def header_number(resp: requests.Response, name: str) -> float | None:
    value = resp.headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
