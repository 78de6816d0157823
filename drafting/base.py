"""What a drafter sees and returns: a conversation in, one proposed reply out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

_MASS_TYPES = frozenset({"BROADCAST", "GHOST_PROMOTION"})


def is_personal(message_type: str | None) -> bool:
    """A message written to this one fan: not a mass message (broadcast, promotion) nor an automatic one."""
    kind = (message_type or "").upper()
    return kind not in _MASS_TYPES and not kind.startswith("AUTOMATED_")


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
class StyleExample:
    """A draft a teammate rewrote before sending: the voice the team wants is in `sent`."""

    draft: str
    sent: str


@dataclass(frozen=True)
class Conversation:
    """The chat a reply is drafted for, oldest turn first.

    `style_examples` are the team's recent rewrites for this creator; `variant` asks for different wording
    of the same reply (Regenerate).
    """

    creator_name: str
    fan_name: str
    fan_handle: str
    turns: tuple[Turn, ...]
    style_examples: tuple[StyleExample, ...] = ()
    variant: int = 0
    # What the creator's team knows about the fan (Fanvue's insights, the team's notes): facts, never orders.
    fan_facts: tuple[str, ...] = ()

    def unanswered(self) -> tuple[Turn, ...]:
        """The fan's turns since the creator last wrote to this fan (mass and automatic messages do not count)."""
        tail: list[Turn] = []
        for turn in reversed(self.turns):
            if not turn.from_fan:
                if is_personal(turn.type):
                    break
                continue
            tail.append(turn)
        return tuple(reversed(tail))


@dataclass(frozen=True)
class Drafted:
    """A proposed reply and how it was made; the metadata is None for drafters that have none."""

    text: str
    drafted_by: str
    model: str | None = None
    latency_ms: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    fallback_reason: str | None = None


class Drafter(Protocol):
    def draft(self, conversation: Conversation) -> Drafted: ...
