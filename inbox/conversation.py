"""Reading a chat's history: who wrote last, what is new since a message, what a card shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drafting.base import Conversation, Turn, is_personal
from fanvue.models import Message
from store.clock import to_iso
from store.drafts import Draft

if TYPE_CHECKING:
    from inbox.services import Services

CARD_CONTEXT_TURNS = 5


def chronological(messages: Sequence[Message]) -> list[Message]:
    """Oldest first, each message once.

    Fanvue answers newest first, so messages that share a timestamp (a tip and its text) keep that order
    reversed; every reading of the chat below agrees on which of them is the latest.
    """
    seen: set[str] = set()
    unique = []
    for message in reversed(messages):
        if message.uuid not in seen:
            seen.add(message.uuid)
            unique.append(message)
    return sorted(unique, key=lambda m: m.sent_at)


def to_turns(messages: Sequence[Message], creator_uuid: str) -> tuple[Turn, ...]:
    """Fanvue answers newest first; drafters and cards read oldest first."""
    ordered = chronological(messages)
    return tuple(
        Turn(
            from_fan=message.sender_uuid != creator_uuid,
            text=message.text,
            sent_at=message.sent_at,
            type=message.type,
            media_type=message.media_type,
            has_media=message.has_media,
            price_cents=message.price_cents,
        )
        for message in ordered
    )


def conversation(creator_name: str, fan_name: str, fan_handle: str, turns: tuple[Turn, ...]) -> Conversation:
    return Conversation(creator_name=creator_name, fan_name=fan_name, fan_handle=fan_handle, turns=turns)


def latest_fan_message(messages: Sequence[Message], creator_uuid: str) -> Message | None:
    fans = [m for m in chronological(messages) if m.sender_uuid != creator_uuid]
    return fans[-1] if fans else None


def newer_than(messages: Sequence[Message], message_uuid: str, message_at: str) -> list[Message]:
    """Messages after the given one, oldest first; by position when it is in the list, else by time."""
    ordered = chronological(messages)
    for index, message in enumerate(ordered):
        if message.uuid == message_uuid:
            return ordered[index + 1 :]
    return [m for m in ordered if to_iso(m.sent_at) > message_at]


def waiting_since(turns: tuple[Turn, ...]) -> str:
    """When the oldest fan message that nobody has answered yet was sent."""
    unanswered = conversation("", "", "", turns).unanswered()
    first = unanswered[0] if unanswered else turns[-1]
    return to_iso(first.sent_at)


def card_context(turns: tuple[Turn, ...], limit: int = CARD_CONTEXT_TURNS) -> list[dict[str, Any]]:
    """The last few turns as the card shows them, stored with the draft."""
    return [
        {
            "from_fan": turn.from_fan,
            "text": turn.text,
            "media_type": turn.media_type,
            "has_media": turn.has_media,
            "type": turn.type,
            "price_cents": turn.price_cents,
            "at": to_iso(turn.sent_at),
        }
        for turn in turns[-limit:]
    ]


def creator_answered(messages: Sequence[Message], creator_uuid: str) -> bool:
    """The creator wrote to this fan in person (a broadcast or an automatic message is no answer)."""
    return any(m.sender_uuid == creator_uuid and is_personal(m.type) for m in messages)


def fan_wrote(messages: Sequence[Message], creator_uuid: str) -> bool:
    return any(m.sender_uuid != creator_uuid for m in messages)


@dataclass(frozen=True)
class ChatSince:
    """A chat as it is now, seen from a draft: the page read, and what came after the draft's fan message."""

    creator_uuid: str
    history: list[Message]  # as Fanvue answered: newest first
    newer: list[Message]  # after the message the draft answers, oldest first

    @property
    def creator_answered(self) -> bool:
        return creator_answered(self.newer, self.creator_uuid)

    @property
    def fan_wrote(self) -> bool:
        return fan_wrote(self.newer, self.creator_uuid)


def since(draft: Draft, history: Sequence[Message], creator_uuid: str) -> ChatSince:
    """What the chat says after the fan message `draft` answers."""
    newer = newer_than(history, draft.fan_message_uuid, draft.fan_message_at)
    return ChatSince(creator_uuid=creator_uuid, history=list(history), newer=newer)


def read_since(svc: Services, draft: Draft) -> ChatSince:
    """Read the draft's chat from Fanvue (never marking it read); Fanvue's errors reach the caller."""
    inbox = svc.inbox_for(draft.creator_uuid)  # the creator's own login, or the agency's view of it
    return since(draft, inbox.client.messages(draft.fan_uuid, size=svc.history_size), inbox.uuid)
