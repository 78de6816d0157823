"""In-memory records of the sandbox and their JSON shapes as Fanvue's API returns them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

CREATOR_ROLE = "creator"
FAN_ROLE = "fan"


@dataclass
class Person:
    """A Fanvue account: the creator or one of the fans."""

    uuid: str
    handle: str
    display_name: str
    avatar_url: str | None
    registered_at: datetime
    is_top_spender: bool = False
    contactable: bool = True


@dataclass
class Message:
    """One chat message; `seq` orders every message of the world by the time it was sent."""

    uuid: str
    seq: int
    sender_uuid: str
    recipient_uuid: str
    text: str | None
    sent_at: datetime
    type: str = "SINGLE_RECIPIENT"
    media_type: str | None = None
    media_uuids: list[str] = field(default_factory=list)
    price: int | None = None
    purchased_at: datetime | None = None
    is_read: bool = False
    # Fields Fanvue may add without notice; served as they are, beside the known ones.
    extra: dict = field(default_factory=dict)


@dataclass
class Chat:
    """The conversation between the creator and one fan; messages are kept oldest first."""

    fan: Person
    created_at: datetime
    messages: list[Message] = field(default_factory=list)
    is_read: bool = True
    is_muted: bool = False
    nickname: str | None = None
    unread_count: int = 0
    removed: bool = False
    batch_error: str | None = None

    @property
    def last_message(self) -> Message | None:
        return self.messages[-1] if self.messages else None


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds, the way Fanvue writes timestamps."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def user_json(person: Person, nickname: str | None = None) -> dict:
    return {
        "uuid": person.uuid,
        "handle": person.handle,
        "displayName": person.display_name,
        "nickname": nickname,
        "isTopSpender": person.is_top_spender,
        "avatarUrl": person.avatar_url,
        "registeredAt": iso(person.registered_at),
    }


def message_json(message: Message, user_of: Callable[[str], dict]) -> dict:
    return {
        "uuid": message.uuid,
        "text": message.text,
        "sentAt": iso(message.sent_at),
        "sender": user_of(message.sender_uuid),
        "recipient": user_of(message.recipient_uuid),
        "hasMedia": bool(message.media_uuids),
        "mediaType": message.media_type,
        "mediaUuids": list(message.media_uuids),
        "type": message.type,
        "pricing": {"USD": {"price": message.price}} if message.price is not None else None,
        "purchasedAt": iso(message.purchased_at),
        "sentByUserId": None,
        "isRead": message.is_read,
        **message.extra,
    }


def last_message_json(message: Message | None) -> dict | None:
    if message is None:
        return None
    return {
        "uuid": message.uuid,
        "senderUuid": message.sender_uuid,
        "text": message.text,
        "sentAt": iso(message.sent_at),
        "type": message.type,
        "hasMedia": bool(message.media_uuids),
        "mediaType": message.media_type,
        "sentByUserId": None,
        **message.extra,
    }


def chat_json(chat: Chat) -> dict:
    last = chat.last_message
    return {
        "user": user_json(chat.fan, chat.nickname),
        "createdAt": iso(chat.created_at),
        "lastMessageAt": iso(last.sent_at) if last else None,
        "isRead": chat.is_read,
        "isMuted": chat.is_muted,
        "unreadMessagesCount": chat.unread_count,
        "lastMessage": last_message_json(last),
    }


def creator_json(creator: Person, stats: dict) -> dict:
    """The body of GET /users/me."""
    return {
        "uuid": creator.uuid,
        "email": f"{creator.handle}@example.com",
        "handle": creator.handle,
        "bio": "Photographer and travel creator. New sets every Friday.",
        "displayName": creator.display_name,
        "isCreator": True,
        "createdAt": iso(creator.registered_at),
        "updatedAt": iso(creator.registered_at),
        "avatarUrl": creator.avatar_url,
        "bannerUrl": None,
        "likesCount": stats["likesCount"],
        "fanCounts": {
            "followersCount": stats["followersCount"],
            "subscribersCount": stats["subscribersCount"],
        },
        "contentCounts": {
            "imageCount": stats["imageCount"],
            "videoCount": stats["videoCount"],
            "audioCount": stats["audioCount"],
            "postCount": stats["postCount"],
            "payToViewPostCount": stats["payToViewPostCount"],
        },
    }
