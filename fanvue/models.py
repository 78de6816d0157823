"""Parsed Fanvue API objects: users, chats, messages and counts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fanvue.errors import MalformedResponse

logger = logging.getLogger(__name__)


def _extra(d: dict, known: set[str]) -> dict:
    return {k: v for k, v in d.items() if k not in known}


def _obj(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise MalformedResponse(f"Fanvue answered an unexpected shape: {where} should be an object")
    return value


def _required(d: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d or d[key] is None:
        raise MalformedResponse(f"Fanvue answered an unexpected shape: {where}.{key} is missing")
    return _check(d[key], kind, f"{where}.{key}")


def _optional(d: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = d.get(key)
    return None if value is None else _check(value, kind, f"{where}.{key}")


def _check(value: object, kind: type | tuple[type, ...], where: str) -> Any:
    # bool is an int subclass; a count or price that is true/false is a wrong shape.
    wrong_bool = isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))
    if wrong_bool or not isinstance(value, kind):
        raise MalformedResponse(
            f"Fanvue answered an unexpected shape: {where} is {type(value).__name__}, not {_kind_name(kind)}"
        )
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _number(d: dict, key: str, where: str) -> int:
    return int(_required(d, key, (int, float), where))


def parse_time(value: str, where: str = "timestamp") -> datetime:
    """Parse an ISO-8601 timestamp such as 2024-01-15T00:00:00.000Z into an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise MalformedResponse(f"Fanvue answered an unexpected shape: {where} is not a timestamp") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _time(d: dict, key: str, where: str) -> datetime | None:
    value = _optional(d, key, str, where)
    return None if value is None else parse_time(value, f"{where}.{key}")


def _required_time(d: dict, key: str, where: str) -> datetime:
    return parse_time(_required(d, key, str, where), f"{where}.{key}")


@dataclass(frozen=True)
class User:
    """A fan (or any chat counterpart) as Fanvue shows it in a chat row."""

    uuid: str
    handle: str
    display_name: str | None
    nickname: str | None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.display_name or self.nickname or self.handle

    @property
    def is_top_spender(self) -> bool:
        return self.extra.get("isTopSpender") is True

    @classmethod
    def from_api(cls, d: object, where: str = "user") -> User:
        d = _obj(d, where)
        return cls(
            uuid=_required(d, "uuid", str, where),
            handle=_required(d, "handle", str, where),
            display_name=_optional(d, "displayName", str, where),
            nickname=_optional(d, "nickname", str, where),
            extra=_extra(d, {"uuid", "handle", "displayName", "nickname"}),
        )


@dataclass(frozen=True)
class Me:
    """The authenticated creator."""

    uuid: str
    handle: str
    display_name: str | None
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, d: object, where: str = "me") -> Me:
        d = _obj(d, where)
        return cls(
            uuid=_required(d, "uuid", str, where),
            handle=_required(d, "handle", str, where),
            display_name=_optional(d, "displayName", str, where),
            extra=_extra(d, {"uuid", "handle", "displayName"}),
        )


@dataclass(frozen=True)
class LastMessage:
    """The summary of a chat's newest message shown in the chat list."""

    uuid: str | None
    sender_uuid: str | None
    text: str | None
    sent_at: datetime | None
    type: str | None
    has_media: bool
    media_type: str | None
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, d: object, where: str = "lastMessage") -> LastMessage:
        d = _obj(d, where)
        return cls(
            uuid=_optional(d, "uuid", str, where),
            sender_uuid=_optional(d, "senderUuid", str, where),
            text=_optional(d, "text", str, where),
            sent_at=_time(d, "sentAt", where),
            type=_optional(d, "type", str, where),
            has_media=bool(_optional(d, "hasMedia", bool, where)),
            media_type=_optional(d, "mediaType", str, where),
            extra=_extra(d, {"uuid", "senderUuid", "text", "sentAt", "type", "hasMedia", "mediaType"}),
        )


@dataclass(frozen=True)
class Chat:
    """One row of the chat list."""

    user: User
    unread_messages_count: int
    is_read: bool
    is_muted: bool
    last_message: LastMessage | None
    last_message_at: datetime | None
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, d: object, where: str = "chat") -> Chat:
        d = _obj(d, where)
        last = d.get("lastMessage")
        return cls(
            user=User.from_api(_required(d, "user", dict, where), f"{where}.user"),
            unread_messages_count=_number(d, "unreadMessagesCount", where),
            is_read=_required(d, "isRead", bool, where),
            is_muted=_required(d, "isMuted", bool, where),
            last_message=None if last is None else LastMessage.from_api(last, f"{where}.lastMessage"),
            last_message_at=_time(d, "lastMessageAt", where),
            extra=_extra(
                d, {"user", "unreadMessagesCount", "isRead", "isMuted", "lastMessage", "lastMessageAt"}
            ),
        )


@dataclass(frozen=True)
class Message:
    """One message of a chat; `type` is an open set and `text` is None for media-only messages."""

    uuid: str
    text: str | None
    sent_at: datetime
    sender_uuid: str
    recipient_uuid: str | None
    type: str
    has_media: bool
    media_type: str | None
    is_read: bool | None
    price_cents: int | None
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, d: object, where: str = "message") -> Message:
        d = _obj(d, where)
        sender = _obj(_required(d, "sender", dict, where), f"{where}.sender")
        recipient = _optional(d, "recipient", dict, where) or {}
        return cls(
            uuid=_required(d, "uuid", str, where),
            text=_optional(d, "text", str, where),
            sent_at=_required_time(d, "sentAt", where),
            sender_uuid=_required(sender, "uuid", str, f"{where}.sender"),
            recipient_uuid=_optional(recipient, "uuid", str, f"{where}.recipient"),
            type=_required(d, "type", str, where),
            has_media=bool(_optional(d, "hasMedia", bool, where)),
            media_type=_optional(d, "mediaType", str, where),
            is_read=_optional(d, "isRead", bool, where),
            price_cents=_price_cents(d.get("pricing"), f"{where}.pricing"),
            extra=_extra(
                d,
                {
                    "uuid",
                    "text",
                    "sentAt",
                    "sender",
                    "recipient",
                    "type",
                    "hasMedia",
                    "mediaType",
                    "isRead",
                    "pricing",
                },
            ),
        )


def _price_cents(pricing: object, where: str) -> int | None:
    if pricing is None:
        return None
    usd = _optional(_obj(pricing, where), "USD", dict, where)
    if usd is None:
        return None
    price = _optional(usd, "price", (int, float), f"{where}.USD")
    return None if price is None else round(price)


@dataclass(frozen=True)
class UnreadCounts:
    """How many chats and messages are unread."""

    chats: int
    messages: int

    @classmethod
    def from_api(cls, d: object, where: str = "unread") -> UnreadCounts:
        d = _obj(d, where)
        return cls(
            chats=_number(d, "unreadChatsCount", where), messages=_number(d, "unreadMessagesCount", where)
        )


@dataclass(frozen=True)
class ChatMessages:
    """One chat's part of a batch answer; on `error` ("forbidden", "not_found", ...) messages is empty."""

    user_uuid: str
    messages: list[Message]
    has_more: bool
    error: str | None

    @classmethod
    def from_api(cls, d: object, user_uuid: str, where: str = "byChat") -> ChatMessages:
        where = f"{where}[{user_uuid}]"
        d = _obj(d, where)
        if d.get("error") is not None:
            return cls(user_uuid=user_uuid, messages=[], has_more=False, error=str(d["error"]))
        items = _required(d, "messages", list, where)
        return cls(
            user_uuid=user_uuid,
            messages=[Message.from_api(m, f"{where}.messages[{i}]") for i, m in enumerate(items)],
            has_more=_required(d, "hasMore", bool, where),
            error=None,
        )


def page_items(body: object, where: str = "page") -> tuple[list[dict], bool]:
    """Split a paginated answer `{data, pagination: {hasMore}}` into its items and whether more follow."""
    body = _obj(body, where)
    data = _required(body, "data", list, where)
    pagination = _obj(_required(body, "pagination", dict, where), f"{where}.pagination")
    return data, _required(pagination, "hasMore", bool, f"{where}.pagination")
