"""The template drafter: the fan's name, media and tips, the persona's habits, varied wording, no flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drafting.base import Conversation, StyleExample, Turn
from drafting.guardrails import Guardrails
from drafting.persona import Persona
from drafting.template import TemplateDrafter
from standins.fanvue.seed import FAN_TEXTS, NAMES

T0 = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


def chat(*turns: Turn, fan_name: str = "Chloe B", handle: str = "chloe.b", variant: int = 0) -> Conversation:
    return Conversation(
        creator_name="Mia", fan_name=fan_name, fan_handle=handle, turns=turns, variant=variant
    )


def fan(text: str | None, minutes: int = 0, **kwargs) -> Turn:
    return Turn(from_fan=True, text=text, sent_at=T0 + timedelta(minutes=minutes), **kwargs)


def test_uses_the_fans_first_name():
    text = TemplateDrafter().draft(chat(fan("how was your weekend"), fan_name="Chloe Bennett")).text
    assert "Chloe" in text and "Bennett" not in text
    assert "how was your weekend" not in text  # not an echo


def test_a_name_made_of_emoji_and_letters_keeps_the_letters():
    text = TemplateDrafter().draft(chat(fan("hi"), fan_name="✨ Łukasz ✨", handle="lukasz")).text
    assert "Łukasz" in text


@pytest.mark.parametrize(
    ("media_type", "word"), [("image", "pic"), ("video", "video"), ("audio", "voice note")]
)
def test_media_only_messages_are_thanked_for_what_they_are(media_type, word):
    drafted = TemplateDrafter().draft(chat(fan(None, media_type=media_type, has_media=True)))
    assert word in drafted.text and drafted.drafted_by == "template"


def test_tips_are_thanked_for():
    for minute in range(6):
        text = TemplateDrafter().draft(chat(fan(None, minute, type="TIP", price_cents=500))).text
        assert "tip" in text


def test_questions_are_not_answered_with_invented_facts():
    text = TemplateDrafter().draft(chat(fan("where was that beach?"))).text
    assert "beach" not in text and ("question" in text or "asked" in text or "get back" in text)


def test_sign_off_and_emoji_habits_follow_the_persona():
    plain = TemplateDrafter(Persona(name="Mia", emoji="none", sign_off="xx Mia"))
    lots = TemplateDrafter(Persona(name="Mia", emoji="lots", favourite_emoji=("🌶️",)))
    for minute in range(8):
        conversation = chat(fan("good morning", minute))
        no_emoji = plain.draft(conversation).text
        assert no_emoji.endswith("xx Mia")
        assert not any(ord(ch) > 0x2000 for ch in no_emoji)
        assert "🌶️🌶️" in lots.draft(conversation).text


def test_pet_names_are_used_some_of_the_time():
    drafter = TemplateDrafter(Persona(name="Mia", pet_names=("hun",)))
    texts = [drafter.draft(chat(fan("hey", minute))).text for minute in range(30)]
    assert any("hun" in t for t in texts) and any("hun" not in t for t in texts)


def test_wording_varies_between_fans_and_with_regenerate_but_not_by_chance():
    drafter = TemplateDrafter()
    texts = {
        drafter.draft(chat(fan("thanks for the chat", m), handle=f"fan{m}", fan_name="Sam")).text
        for m in range(20)
    }
    assert len(texts) >= 5
    first = chat(fan("thanks for the chat"))
    assert drafter.draft(first).text == drafter.draft(first).text
    variants = {drafter.draft(chat(fan("thanks for the chat"), variant=v)).text for v in range(6)}
    assert len(variants) >= 3


def test_style_examples_are_ignored():
    conversation = chat(fan("hey"))
    with_examples = Conversation(**{**conversation.__dict__, "style_examples": (StyleExample("a", "b"),)})
    assert TemplateDrafter().draft(with_examples).text == TemplateDrafter().draft(conversation).text


def test_no_template_reply_breaks_a_guardrail():
    guard = Guardrails()
    drafter = TemplateDrafter(Persona(name="Mia", pet_names=("babe",), sign_off="xx Mia", length="medium"))
    kinds = [{"text": text} for text in FAN_TEXTS] + [
        {"text": None, "media_type": "image", "has_media": True},
        {"text": None, "type": "TIP", "price_cents": 1000},
    ]
    for index, kind in enumerate(kinds):
        name, handle = NAMES[index % len(NAMES)]
        for variant in range(3):
            text = drafter.draft(chat(fan(**kind), fan_name=name, handle=handle, variant=variant)).text
            assert guard.check(text) == [], text
