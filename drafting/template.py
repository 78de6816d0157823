"""A drafter that needs no setup: short replies chosen by what the fan sent, in the persona's habits."""

from __future__ import annotations

import hashlib
import re

from drafting.base import Conversation, Drafted, Turn
from drafting.persona import Persona

_MEDIA_WORDS = {"image": "pic", "photo": "pic", "video": "video", "audio": "voice note", "gif": "gif"}
_GREETING = re.compile(
    r"^\W*(hi|hey|hello|hiya|yo|good (morning|night|evening)|morning|gm|cześć|привет|"
    r"おはよう|こんにちは|مرحبا|hola|ciao|salut|hallo)\b",
    re.IGNORECASE,
)

# Openers carry no interjection of their own, so none doubles one the body starts with ("Aww Sven, aww").
_OPENERS = ("Hey {name}", "Hi {name}", "{name}")
_PET_OPENERS = ("Hey {pet}", "{name}, {pet}", "Hi {pet}")
_TIP = (
    "thank you so much for the tip, that really made my day",
    "you're too sweet, thank you for the tip",
    "wow, thank you for the tip! I really appreciate you",
    "that tip was such a lovely surprise, thank you",
)
_MEDIA = (
    "thanks for the {media}, I love that you shared it with me",
    "just saw your {media}, thank you for sending it",
    "ooh, thank you for the {media}! That was sweet of you",
)
_QUESTION = (
    "love that you asked! Let me think about it and I'll answer you properly soon",
    "good question! Give me a little time and I'll answer you properly",
    "ooh, good one. Let me get back to you on that",
)
_GREETINGS = (
    "so nice to hear from you",
    "hello to you too! Lovely to see your message",
    "you always brighten my day",
)
_CHAT = (
    "thanks so much for your message, it always makes me smile",
    "so happy to hear from you! Thanks for writing",
    "thank you for the lovely message, you're the best",
    "aww, reading this made me smile",
)
_CLOSERS = ("How's your day going?", "What are you up to today?", "Tell me more!", "How have you been?")


class TemplateDrafter:
    """Picks a reply from a few patterns; the same fan message always gets the same wording,
    and each Regenerate (a new `variant`) gets another."""

    name = "template"

    def __init__(self, persona: Persona | None = None):
        self.persona = persona or Persona()

    def draft(self, conversation: Conversation) -> Drafted:
        waiting = conversation.unanswered() or conversation.turns[-1:]
        seed = _seed(conversation, waiting)
        name = _first_name(conversation.fan_name)
        body = _pick(_body_choices(waiting), seed // 7).format(media=_media_word(waiting))
        parts = [f"{self._opener(name, seed)}, {body}{self._emoji(seed)}"]
        if self.persona.length != "short" or (seed // 11) % 3 == 0:
            parts.append(_pick(_CLOSERS, seed // 13))
        if self.persona.sign_off:
            parts.append(self.persona.sign_off)
        return Drafted(text=" ".join(parts), drafted_by=self.name)

    def _opener(self, name: str, seed: int) -> str:
        pets = self.persona.pet_names
        if pets and seed % 3 == 0:
            return _pick(_PET_OPENERS, seed // 3).format(name=name, pet=_pick(pets, seed // 5))
        return _pick(_OPENERS, seed).format(name=name).rstrip("!")

    def _emoji(self, seed: int) -> str:
        level, favourites = self.persona.emoji, self.persona.favourite_emoji
        if level == "none" or not favourites or (level == "few" and seed % 2):
            return ""
        count = 2 if level == "lots" else 1
        return " " + "".join(_pick(favourites, seed // 17 + i) for i in range(count))


def _body_choices(waiting: tuple[Turn, ...]) -> tuple[str, ...]:
    if any(_is_tip(turn) for turn in waiting):
        return _TIP
    texts = [turn.text.strip() for turn in waiting if turn.text and turn.text.strip()]
    if not texts and any(turn.has_media or turn.media_type for turn in waiting):
        return _MEDIA
    if texts and "?" in texts[-1]:
        return _QUESTION
    if texts and _GREETING.match(texts[-1]):
        return _GREETINGS
    return _CHAT


def _is_tip(turn: Turn) -> bool:
    return "TIP" in (turn.type or "").upper()


def _media_word(waiting: tuple[Turn, ...]) -> str:
    for turn in reversed(waiting):
        if turn.media_type:
            return _MEDIA_WORDS.get(turn.media_type.lower(), turn.media_type.lower())
    return "message"


def _first_name(name: str) -> str:
    words = [w for w in name.split() if any(ch.isalnum() for ch in w)]
    return words[0] if words else "there"


def _seed(conversation: Conversation, waiting: tuple[Turn, ...]) -> int:
    key = "|".join(
        [conversation.fan_handle, str(conversation.variant), *(str(turn.sent_at) for turn in waiting)]
    )
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def _pick(options: tuple[str, ...], seed: int) -> str:
    return options[seed % len(options)]
