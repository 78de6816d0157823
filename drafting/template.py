"""A drafter that needs no setup: short, friendly replies chosen by what the fan sent."""

from __future__ import annotations

import hashlib

from drafting.base import Conversation, Drafted, Turn

_MEDIA_WORDS = {"image": "pic", "photo": "pic", "video": "video", "audio": "voice note", "gif": "gif"}

_OPENERS = ("Hey {name}", "Hi {name}", "Hey there {name}", "Aww {name}")
_THANKS_TIP = (
    "thank you so much for the tip, that really made my day 💕",
    "you're too sweet, thank you for the tip 🥰",
)
_MEDIA = (
    "thanks for the {media}, I love that you shared it with me 😊",
    "just saw your {media}, thank you for sending it 💕",
)
_QUESTION = (
    "great question! Let me get back to you on that properly very soon 😘",
    "love that you asked! I'll tell you more very soon 💕",
)
_CHAT = (
    "thanks so much for your message, it always makes me smile 😊",
    "so happy to hear from you! Thanks for writing 💕",
    "thank you for the lovely message, you're the best 🥰",
)


class TemplateDrafter:
    """Picks a reply from a few patterns; the same fan message always gets the same wording."""

    name = "template"

    def draft(self, conversation: Conversation) -> Drafted:
        waiting = conversation.unanswered() or conversation.turns[-1:]
        seed = _seed(conversation, waiting)
        opener = _pick(_OPENERS, seed).format(name=_first_name(conversation.fan_name))
        body = _pick(_body_choices(waiting), seed // 7).format(media=_media_word(waiting))
        return Drafted(text=f"{opener}, {body}", drafted_by=self.name)


def _body_choices(waiting: tuple[Turn, ...]) -> tuple[str, ...]:
    if any(_is_tip(turn) for turn in waiting):
        return _THANKS_TIP
    texts = [turn.text.strip() for turn in waiting if turn.text and turn.text.strip()]
    if not texts and any(turn.has_media or turn.media_type for turn in waiting):
        return _MEDIA
    if texts and texts[-1].endswith("?"):
        return _QUESTION
    return _CHAT


def _is_tip(turn: Turn) -> bool:
    return "TIP" in (turn.type or "").upper()


def _media_word(waiting: tuple[Turn, ...]) -> str:
    for turn in reversed(waiting):
        if turn.media_type:
            return _MEDIA_WORDS.get(turn.media_type.lower(), turn.media_type.lower())
    return "message"


def _first_name(name: str) -> str:
    words = name.split()
    return words[0] if words else "there"


def _seed(conversation: Conversation, waiting: tuple[Turn, ...]) -> int:
    key = "|".join([conversation.fan_handle, *(str(turn.sent_at) for turn in waiting)])
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def _pick(options: tuple[str, ...], seed: int) -> str:
    return options[seed % len(options)]
