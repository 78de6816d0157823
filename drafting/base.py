"""What a drafter sees and returns: a conversation in, one proposed reply out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Turn:
    """One message of the chat, told from the creator's side."""

    from_fan: bool
    text: str | None
    sent_at: datetime
    type: str = "SINGLE_RECIPIENT"
    media_type: str | None = None
    has_media: bool = False
    price_cents: int | None = None


@dataclass(frozen=True)
class Conversation:
    """The chat a reply is drafted for, oldest turn first."""

    creator_name: str
    fan_name: str
    fan_handle: str
    turns: tuple[Turn, ...]

    def unanswered(self) -> tuple[Turn, ...]:
        """The fan's turns since the creator last wrote."""
        tail: list[Turn] = []
        for turn in reversed(self.turns):
            if not turn.from_fan:
                break
            tail.append(turn)
        return tuple(reversed(tail))


@dataclass(frozen=True)
class Drafted:
    text: str
    drafted_by: str


class Drafter(Protocol):
    def draft(self, conversation: Conversation) -> Drafted: ...
