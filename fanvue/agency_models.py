"""Parsed objects of Fanvue's agency routes: the creators a member manages and their chat rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fanvue.models import Chat, LastMessage, User, _extra, _obj, _optional, _required, _time


@dataclass(frozen=True)
class Creator:
    """A creator the agency manages, as `GET /creators` lists it."""

    uuid: str
    handle: str
    display_name: str
    nickname: str | None
    avatar_url: str | None
    registered_at: datetime | None
    role: str | None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.display_name or self.nickname or self.handle

    @classmethod
    def from_api(cls, d: object, where: str = "creator") -> Creator:
        d = _obj(d, where)
        known = {"uuid", "handle", "displayName", "nickname", "avatarUrl", "registeredAt", "role"}
        return cls(
            uuid=_required(d, "uuid", str, where),
            handle=_required(d, "handle", str, where),
            display_name=_optional(d, "displayName", str, where) or "",
            nickname=_optional(d, "nickname", str, where),
            avatar_url=_optional(d, "avatarUrl", str, where),
            registered_at=_time(d, "registeredAt", where),
            role=_optional(d, "role", str, where),
            extra=_extra(d, known),
        )


@dataclass(frozen=True)
class CreatorChat:
    """One chat row of a managed creator; agency routes carry no unread filter, so rows say what waits."""

    creator_uuid: str
    chat: Chat
    created_at: datetime | None

    @property
    def fan(self) -> User:
        return self.chat.user

    @property
    def unread_messages_count(self) -> int:
        return self.chat.unread_messages_count

    @property
    def is_read(self) -> bool:
        return self.chat.is_read

    @property
    def is_muted(self) -> bool:
        return self.chat.is_muted

    @property
    def is_top_spender(self) -> bool:
        return self.chat.user.is_top_spender

    @property
    def last_message(self) -> LastMessage | None:
        return self.chat.last_message

    @property
    def last_message_at(self) -> datetime | None:
        return self.chat.last_message_at

    @property
    def fan_spoke_last(self) -> bool:
        """The newest message is the fan's: the chat may wait for a reply."""
        last = self.chat.last_message
        return last is not None and last.sender_uuid == self.chat.user.uuid

    @classmethod
    def from_api(cls, d: object, where: str = "chat", creator_uuid: str | None = None) -> CreatorChat:
        """A row of `/creators/{creator}/chats` (pass `creator_uuid`) or of `/agencies/chats` (tagged)."""
        d = _obj(d, where)
        tagged = _required(d, "creatorUuid", str, where) if creator_uuid is None else creator_uuid
        return cls(creator_uuid=tagged, chat=Chat.from_api(d, where), created_at=_time(d, "createdAt", where))
