"""The Fanvue chat endpoints the sandbox serves, as functions from a parsed request to a reply."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import unquote

from .vault import vault_of
from .world import ChatNotFound, NotContactable, UnknownMessage, World

CHAT_FILTERS = {
    "unread",
    "subscribers",
    "followers",
    "online",
    "recent_subscribers",
    "not_answered",
    "spent_more_than_50",
    "on_free_trial",
    "has_tipped",
    "spenders",
    "exclude_creators",
    "subscribed_to",
    "not_muted",
    "archived",
}
CHAT_SORTS = {"most_recent_messages", "online_now", "most_unanswered_chats"}
MAX_TEXT = 5000
MIN_PRICE = 300
MAX_NICKNAME = 30


@dataclass(frozen=True)
class ApiRequest:
    """What a handler needs from the HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    params: dict[str, str]
    # The agency member sending on a creator's behalf (shown back as the message's sentByUserId).
    sent_by: str | None = None


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict | None = None


class BadRequest(Exception):
    """Validation failed; `body` is the 400 body to send."""

    def __init__(self, body: dict) -> None:
        super().__init__(body)
        self.body = body


def invalid(*errors: str) -> BadRequest:
    return BadRequest({"errors": list(errors)})


def is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def json_object(request: ApiRequest) -> dict:
    try:
        body = json.loads(request.body.decode("utf-8")) if request.body else None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid(f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object")
    return body


def _whole(name: str, raw: str, low: int, high: int | None) -> int:
    if not re.fullmatch(r"\d+", raw or ""):
        raise invalid(f"{name} must be an integer")
    value = int(raw)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid(f"{name} must be {bound}")
    return value


def paging(query: dict[str, list[str]]) -> tuple[int, int]:
    page = _whole("page", query["page"][-1], 1, None) if "page" in query else 1
    size = _whole("size", query["size"][-1], 1, 50) if "size" in query else 15
    return page, size


def _path_uuid(request: ApiRequest) -> str:
    fan_uuid = request.params["userUuid"]
    if not is_uuid(fan_uuid):
        raise BadRequest({"message": "Invalid UUID format for parameter userUuid"})
    return fan_uuid


def _not_found() -> Reply:
    return Reply(404, {"message": "Chat not found"})


def get_me(world: World, request: ApiRequest) -> Reply:
    return Reply(200, world.creator)


def list_chats(world: World, request: ApiRequest) -> Reply:
    page, size = paging(request.query)
    filters = request.query.get("filter", [])
    unknown = [f for f in filters if f not in CHAT_FILTERS]
    if unknown:
        raise invalid(f"filter must be one of {', '.join(sorted(CHAT_FILTERS))}")
    sort_by = request.query.get("sortBy", ["most_recent_messages"])[-1]
    if sort_by not in CHAT_SORTS:
        raise invalid(f"sortBy must be one of {', '.join(sorted(CHAT_SORTS))}")
    search = request.query.get("search", [None])[-1]
    if search is not None and len(search) > 100:
        raise invalid("search must be at most 100 characters")
    rows = world.list_chats(filters, sort_by, search)
    start = (page - 1) * size
    chunk = rows[start : start + size]
    return Reply(
        200,
        {
            "data": chunk,
            "pagination": {"page": page, "size": len(chunk), "hasMore": start + size < len(rows)},
        },
    )


def unread_counts(world: World, request: ApiRequest) -> Reply:
    return Reply(200, world.unread_counts())


def list_messages(world: World, request: ApiRequest) -> Reply:
    fan_uuid = _path_uuid(request)
    page, size = paging(request.query)
    mark = request.query.get("markAsRead", ["true"])[-1]
    if mark not in ("true", "false"):
        raise invalid("markAsRead must be one of true, false")
    try:
        result = world.page_messages(fan_uuid, page, size, mark_read=mark == "true")
    except ChatNotFound:
        return _not_found()
    return Reply(
        200,
        {
            "data": result.messages,
            "pagination": {"page": page, "size": len(result.messages), "hasMore": result.has_more},
        },
    )


def _batch_args(body: dict) -> tuple[list[str], int, str | None]:
    chat_uuids = body.get("chatUuids")
    if not isinstance(chat_uuids, list) or not 1 <= len(chat_uuids) <= 50:
        raise invalid("chatUuids must be an array of 1 to 50 UUIDs")
    if not all(is_uuid(u) for u in chat_uuids):
        raise invalid("each value in chatUuids must be a UUID")
    limit = body.get("limit", 20)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 50:
        raise invalid("limit must be an integer between 1 and 50")
    since = body.get("sinceMessageUuid")
    if since is not None and not is_uuid(since):
        raise invalid("sinceMessageUuid must be a UUID")
    return chat_uuids, limit, since


def batch_messages(world: World, request: ApiRequest) -> Reply:
    chat_uuids, limit, since = _batch_args(json_object(request))
    try:
        by_chat = world.batch_messages(chat_uuids, limit, since)
    except UnknownMessage as exc:
        raise invalid("sinceMessageUuid does not match any message") from exc
    return Reply(200, {"byChat": by_chat})


def _send_args(body: dict) -> tuple[str | None, list[str], int | None]:
    text = body.get("text")
    if text is not None and (not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT):
        raise invalid(f"text must be a string of 1 to {MAX_TEXT} characters")
    media = body.get("mediaUuids", [])
    if media is None:
        media = []
    if not isinstance(media, list) or not all(is_uuid(m) for m in media):
        raise invalid("mediaUuids must be an array of UUIDs")
    if text is None and not media:
        raise invalid("text or mediaUuids is required")
    price = body.get("price")
    if price is not None and (isinstance(price, bool) or not isinstance(price, int) or price < MIN_PRICE):
        raise invalid(f"price must be an integer number of cents, at least {MIN_PRICE}")
    template = body.get("templateUuid")
    if template is not None and not is_uuid(template):
        raise invalid("templateUuid must be a UUID")
    return text, media, price


def send_message(world: World, request: ApiRequest) -> Reply:
    fan_uuid = _path_uuid(request)
    try:
        text, media, price = _send_args(json_object(request))
    except BadRequest as exc:
        # The spec's 400 for this operation is {message}; keep Fanvue's {errors} list beside it.
        raise BadRequest({"message": "; ".join(exc.body["errors"]), **exc.body}) from exc
    refused = vault_of(world).send_problem(media)
    if refused:
        return Reply(400, {"message": refused})
    try:
        message = world.send_message(fan_uuid, text, media, price, sent_by=request.sent_by)
    except ChatNotFound:
        return _not_found()
    except NotContactable:
        return Reply(
            400, {"message": "This user cannot be messaged: they are not subscribed or have blocked you"}
        )
    return Reply(201, {"messageUuid": message["uuid"]})


def update_chat(world: World, request: ApiRequest) -> Reply:
    fan_uuid = _path_uuid(request)
    body = json_object(request)
    flags = {}
    for key in ("isRead", "isMuted"):
        if key in body and not isinstance(body[key], bool):
            raise invalid(f"{key} must be a boolean")
        flags[key] = body.get(key)
    nickname = body.get("nickname")
    if nickname is not None and (not isinstance(nickname, str) or len(nickname) > MAX_NICKNAME):
        raise invalid(f"nickname must be a string of at most {MAX_NICKNAME} characters")
    try:
        world.update_chat(fan_uuid, flags["isRead"], flags["isMuted"], nickname)
    except ChatNotFound:
        return _not_found()
    return Reply(204)


Handler = Callable[[World, ApiRequest], Reply]
H = TypeVar("H")
UUID_SEGMENT = r"(?P<userUuid>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/users/me"), get_me),
    ("GET", re.compile(r"/chats"), list_chats),
    ("GET", re.compile(r"/chats/unread"), unread_counts),
    ("POST", re.compile(r"/chats/messages/batch"), batch_messages),
    ("GET", re.compile(rf"/chats/{UUID_SEGMENT}/messages"), list_messages),
    ("POST", re.compile(rf"/chats/{UUID_SEGMENT}/message"), send_message),
    ("PATCH", re.compile(rf"/chats/{UUID_SEGMENT}"), update_chat),
]


def find_route(
    routes: Sequence[tuple[str, re.Pattern[str], H]], method: str, path: str, *, decode: bool = False
) -> tuple[H, dict[str, str]] | None:
    """The handler and path parameters (percent-decoded with `decode`) of the first of `routes` that serves
    the request, or None."""
    for route_method, pattern, handler in routes:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            params = match.groupdict()
            return handler, {k: unquote(v) for k, v in params.items()} if decode else params
    return None


def guarded(handler: Callable[..., Reply], *args: object) -> Reply:
    """The handler's reply; a request it finds malformed (BadRequest) answers 400 with the reason."""
    try:
        return handler(*args)
    except BadRequest as exc:
        return Reply(400, exc.body)


def route(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    """The handler and path parameters for a request, or None when nothing serves it."""
    return find_route(ROUTES, method, path)


def handle(world: World, handler: Handler, request: ApiRequest) -> Reply:
    return guarded(handler, world, request)
