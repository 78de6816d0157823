"""The sandbox's in-memory Fanvue account: creator, fans, chats, tokens, faults and the request log."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .fan_profiles import FanProfiles
from .faults import FaultPlan
from .model import Chat, Message, Person, chat_json, creator_json, message_json, user_json
from .oauth import OAuthAuthority
from .seed import build_seed


class ChatNotFound(KeyError):
    """No chat with that fan (unknown uuid or removed)."""


class NotContactable(Exception):
    """The fan cannot be messaged."""


class UnknownMessage(KeyError):
    """No message with that uuid."""


@dataclass(frozen=True)
class RequestRecord:
    """One API request as the sandbox saw it; status 0 means no response was written."""

    method: str
    path: str
    query: dict
    status: int
    token_ok: bool


@dataclass(frozen=True)
class MessagePage:
    """A slice of one chat, newest first."""

    messages: list[dict]
    has_more: bool


class World:
    """Thread-safe state behind the sandbox's API; every public method takes the lock."""

    def __init__(
        self,
        fans: int = 20,
        seed: int = 1,
        *,
        tokens: tuple[str, ...] = ("sandbox-token",),
        now: datetime | None = None,
        creator_index: int = 0,
    ) -> None:
        self._lock = threading.RLock()
        start = build_seed(fans, seed, now or datetime.now(UTC), creator_index)
        self._creator: Person = start.creator
        self._chats: dict[str, Chat] = {chat.fan.uuid: chat for chat in start.chats}
        self.fan_profiles = FanProfiles.seeded(
            (chat.fan for chat in start.chats), seed * 1009 + creator_index, now or datetime.now(UTC)
        )
        self._notifications = start.notifications
        self._stats = start.stats
        self._next_seq = start.next_seq
        self._last_sent_at = max(
            (m.sent_at for c in start.chats for m in c.messages), default=start.creator.registered_at
        )
        self._by_uuid: dict[str, tuple[str, Message]] = {
            m.uuid: (c.fan.uuid, m) for c in start.chats for m in c.messages
        }
        self._sent: list[tuple[str, Message]] = []
        self._tokens: set[str] = set(tokens)
        self.oauth = OAuthAuthority()
        self._requests: list[RequestRecord] = []
        self.faults = FaultPlan()
        self.latency_ms = 0
        # Told (under the lock) when a fan writes and when the creator's side reads a chat: the webhooks.
        self.observers: list[Callable[..., None]] = []

    # -- people -------------------------------------------------------------------------------------
    @property
    def creator(self) -> dict:
        with self._lock:
            return creator_json(self._creator, self._stats)

    def fans(self) -> list[dict]:
        with self._lock:
            return [self._fan_json(chat) for chat in self._chats.values()]

    def fan(self, uuid_or_handle: str) -> dict:
        with self._lock:
            return self._fan_json(self._chat_any(uuid_or_handle))

    def set_contactable(self, fan_uuid: str, contactable: bool) -> None:
        with self._lock:
            self._chat_any(fan_uuid).fan.contactable = contactable

    def rename_fan(self, fan_uuid: str, display_name: str) -> None:
        with self._lock:
            self._chat_any(fan_uuid).fan.display_name = display_name

    def remove_chat(self, fan_uuid: str) -> None:
        with self._lock:
            self._chat_any(fan_uuid).removed = True

    def set_batch_error(self, fan_uuid: str, error: str | None) -> None:
        """Make the batch endpoint answer {error} for this chat ("forbidden", "not_found", "internal")."""
        if error not in (None, "forbidden", "not_found", "internal"):
            raise ValueError(f"unknown batch error {error!r}")
        with self._lock:
            self._chat_any(fan_uuid).batch_error = error

    # -- messages -----------------------------------------------------------------------------------
    def add_fan_message(
        self,
        fan_uuid: str,
        text: str | None = None,
        *,
        media_type: str | None = None,
        message_type: str | None = None,
        extra: dict | None = None,
    ) -> dict:
        """A fan writes; `message_type` and `extra` imitate types and fields Fanvue adds without notice."""
        if text is None and media_type is None:
            raise ValueError("a fan message needs text or a media type")
        with self._lock:
            chat = self._chat_any(fan_uuid)
            chat.removed = False
            message = self._append(
                chat,
                from_fan=True,
                text=text,
                media_uuids=[str(uuid.uuid4())] if media_type else [],
                media_type=media_type,
            )
            if message_type is not None:
                message.type = message_type
            message.extra = dict(extra or {})
            chat.is_read = False
            chat.unread_count += 1
            self._tell("message.received", chat, message=message)
            return self._message_json(message)

    def add_creator_message(self, fan_uuid: str, text: str, *, message_type: str | None = None) -> dict:
        """The creator writes in Fanvue. A mass message (e.g. "BROADCAST") lands in the chat but, unlike a
        reply, leaves the fan's messages unread."""
        with self._lock:
            chat = self._chat_any(fan_uuid)
            message = self._append(chat, from_fan=False, text=text)
            if message_type is None:
                self._mark_read(chat)
            else:
                message.type = message_type
            return self._message_json(message)

    def sent_messages(self, fan_uuid: str | None = None) -> list[dict]:
        with self._lock:
            return [self._message_json(m) for fan, m in self._sent if fan_uuid in (None, fan)]

    def messages(self, fan_uuid: str) -> list[dict]:
        with self._lock:
            return [self._message_json(m) for m in reversed(self._chat_any(fan_uuid).messages)]

    def chat(self, fan_uuid: str) -> dict:
        with self._lock:
            return chat_json(self._chat_any(fan_uuid))

    # -- API operations -----------------------------------------------------------------------------
    def list_chats(self, filters: list[str], sort_by: str, search: str | None) -> list[dict]:
        with self._lock:
            chats = [c for c in self._chats.values() if not c.removed and self._passes(c, filters, search)]
            if sort_by == "most_unanswered_chats":
                chats.sort(
                    key=lambda c: (c.unread_count, c.last_message.seq if c.last_message else 0), reverse=True
                )
            else:
                chats.sort(key=lambda c: c.last_message.seq if c.last_message else 0, reverse=True)
            return [chat_json(c) for c in chats]

    def unread_counts(self) -> dict:
        with self._lock:
            live = [c for c in self._chats.values() if not c.removed]
            return {
                "unreadChatsCount": sum(1 for c in live if not c.is_read),
                "unreadMessagesCount": sum(c.unread_count for c in live),
                "unreadNotifications": dict(self._notifications),
            }

    def page_messages(self, fan_uuid: str, page: int, size: int, mark_read: bool) -> MessagePage:
        with self._lock:
            chat = self._live_chat(fan_uuid)
            if mark_read:
                self._mark_read(chat)
            newest_first = list(reversed(chat.messages))
            start = (page - 1) * size
            chunk = newest_first[start : start + size]
            return MessagePage([self._message_json(m) for m in chunk], start + size < len(newest_first))

    def batch_messages(self, chat_uuids: list[str], limit: int, since_uuid: str | None) -> dict:
        with self._lock:
            since_seq = 0
            if since_uuid is not None:
                if since_uuid not in self._by_uuid:
                    raise UnknownMessage(since_uuid)
                since_seq = self._by_uuid[since_uuid][1].seq
            return {chat_uuid: self._batch_entry(chat_uuid, limit, since_seq) for chat_uuid in chat_uuids}

    def send_message(
        self,
        fan_uuid: str,
        text: str | None,
        media_uuids: list[str],
        price: int | None,
        sent_by: str | None = None,
    ) -> dict:
        """The creator sends; `sent_by` is the agency member who sent it on the creator's behalf."""
        with self._lock:
            chat = self._live_chat(fan_uuid)
            if not chat.fan.contactable:
                raise NotContactable(fan_uuid)
            message = self._append(
                chat,
                from_fan=False,
                text=text,
                media_uuids=media_uuids,
                media_type="image" if media_uuids else None,
                price=price,
            )
            message.is_read = False
            if sent_by is not None:
                message.extra = {"sentByUserId": sent_by}
            self._mark_read(chat)
            self._sent.append((fan_uuid, message))
            return self._message_json(message)

    def read_chat(self, fan_uuid: str) -> None:
        """Someone reads the chat in Fanvue's own app: the fan's messages are marked read."""
        with self._lock:
            self._mark_read(self._chat_any(fan_uuid))

    def update_chat(
        self, fan_uuid: str, is_read: bool | None, is_muted: bool | None, nickname: str | None
    ) -> None:
        with self._lock:
            chat = self._live_chat(fan_uuid)
            if is_read is True:
                self._mark_read(chat)
            elif is_read is False:
                chat.is_read = False
            if is_muted is not None:
                chat.is_muted = is_muted
            if nickname is not None:
                chat.nickname = nickname or None

    # -- tokens, latency, faults, request log -------------------------------------------------------
    def token_valid(self, token: str | None) -> bool:
        with self._lock:
            if token is not None and token in self._tokens:
                return True
        return self.oauth.access_valid(token)

    def has_token(self, token: str | None) -> bool:
        """True for a bearer token this creator's account was given outright (not through OAuth)."""
        with self._lock:
            return token is not None and token in self._tokens

    def static_tokens(self) -> list[str]:
        with self._lock:
            return sorted(self._tokens)

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()
        self.oauth.expire_access()

    def add_token(self, token: str) -> None:
        with self._lock:
            self._tokens.add(token)

    def set_latency(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("latency cannot be negative")
        self.latency_ms = int(ms)

    def inject_fault(
        self, kind: str, count: int = 1, method: str | None = None, path: str | None = None
    ) -> None:
        self.faults.add(kind, count, method, path)

    def record_request(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def request_count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self._requests
                if (method is None or r.method == method.upper())
                and (path_prefix is None or r.path.startswith(path_prefix))
            )

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- internals ----------------------------------------------------------------------------------
    def _chat_any(self, uuid_or_handle: str) -> Chat:
        chat = self._chats.get(uuid_or_handle)
        if chat is None:
            chat = next((c for c in self._chats.values() if c.fan.handle == uuid_or_handle), None)
        if chat is None:
            raise ChatNotFound(uuid_or_handle)
        return chat

    def _live_chat(self, fan_uuid: str) -> Chat:
        chat = self._chats.get(fan_uuid)
        if chat is None or chat.removed:
            raise ChatNotFound(fan_uuid)
        return chat

    def _fan_json(self, chat: Chat) -> dict:
        return {**user_json(chat.fan, chat.nickname), "contactable": chat.fan.contactable}

    def _user_of(self, person_uuid: str) -> dict:
        if person_uuid == self._creator.uuid:
            return user_json(self._creator)
        chat = self._chats[person_uuid]
        return user_json(chat.fan, chat.nickname)

    def _message_json(self, message: Message) -> dict:
        return message_json(message, self._user_of)

    def _passes(self, chat: Chat, filters: list[str], search: str | None) -> bool:
        last = chat.last_message
        checks = {
            "unread": lambda: not chat.is_read,
            "not_muted": lambda: not chat.is_muted,
            "not_answered": lambda: last is not None and last.sender_uuid == chat.fan.uuid,
            "has_tipped": lambda: any(
                m.type == "TIP" and m.sender_uuid == chat.fan.uuid for m in chat.messages
            ),
            "spenders": lambda: chat.fan.is_top_spender,
            "spent_more_than_50": lambda: chat.fan.is_top_spender,
        }
        if any(name in checks and not checks[name]() for name in filters):
            return False
        if search:
            needle = search.casefold()
            return needle in chat.fan.handle.casefold() or needle in chat.fan.display_name.casefold()
        return True

    def _batch_entry(self, chat_uuid: str, limit: int, since_seq: int) -> dict:
        chat = self._chats.get(chat_uuid)
        if chat is None or chat.removed:
            return {"error": "not_found"}
        if chat.batch_error:
            return {"error": chat.batch_error}
        newer = [m for m in reversed(chat.messages) if m.seq > since_seq]
        chunk = newer[:limit]
        return {
            "messages": [self._message_json(m) for m in chunk],
            "hasMore": len(newer) > limit,
            "oldestMessageUuid": chunk[-1].uuid if chunk else None,
        }

    def _append(
        self,
        chat: Chat,
        *,
        from_fan: bool,
        text: str | None,
        media_uuids: list[str] | None = None,
        media_type: str | None = None,
        price: int | None = None,
    ) -> Message:
        # Timestamps never go backwards, so newest-first by time and by sequence always agree.
        sent_at = max(datetime.now(UTC), self._last_sent_at + timedelta(milliseconds=1))
        self._last_sent_at = sent_at
        fan, creator = chat.fan.uuid, self._creator.uuid
        message = Message(
            uuid=str(uuid.uuid4()),
            seq=self._next_seq,
            sender_uuid=fan if from_fan else creator,
            recipient_uuid=creator if from_fan else fan,
            text=text,
            sent_at=sent_at,
            media_type=media_type,
            media_uuids=list(media_uuids or []),
            price=price,
            is_read=False,
        )
        self._next_seq += 1
        chat.messages.append(message)
        self._by_uuid[message.uuid] = (fan, message)
        return message

    def _tell(self, kind: str, chat: Chat, **facts: object) -> None:
        for observer in list(self.observers):
            observer(kind, self._creator, chat, **facts)

    def _mark_read(self, chat: Chat) -> None:
        newly_read = sum(1 for m in chat.messages if m.sender_uuid == chat.fan.uuid and not m.is_read)
        if newly_read:
            self._tell("message.read", chat, count=newly_read)
        chat.is_read = True
        chat.unread_count = 0
        for message in chat.messages:
            if message.sender_uuid == chat.fan.uuid:
                message.is_read = True
