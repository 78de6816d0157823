"""Guardrails: clean replies pass, and each kind of violation is flagged, in several scripts and with emoji."""

from __future__ import annotations

import pytest

from drafting.guardrails import Flag, Guardrails, describe
from drafting.persona import CustomRule, Offer, Persona, parse_persona

GUARD = Guardrails()
PRICED = Guardrails.for_persona(
    Persona(name="Mia", offers=(Offer("custom video", "$25"), Offer("voice note", "€5")))
)

CLEAN = [
    "Hey Łukasz, thanks so much for your message 😊",
    "aww thank you hun 💕 which one was your favourite?",
    "nice to meet you! 🥰",
    "you're too sweet, thank you for the $10 tip 💸",
    "Привет, Маша! Спасибо за сообщение 💋",
    "おはよう！メッセージありがとう 🌸",
    "مرحبا أحمد! شكرا على رسالتك ❤️",
    "李伟，谢谢你的留言 😘",
    "Hi Zoë, I shot it in Lisbon last year ✨",
    "Thanks for subscribing, I hope you enjoy the feed 🔥🔥",
    "good question! I'll answer you properly soon",
    "I miss chatting with you too 🥺",
    "Hey Kofi, thanks for the message!",  # a name, not the payment site
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_replies_are_not_flagged(text):
    assert GUARD.check(text) == []


VIOLATIONS = [
    ("add me on snapchat 👻", "other-apps"),
    ("message me on WhatsApp instead", "other-apps"),
    ("follow my insta 😘", "other-apps"),
    ("напиши мне в телеграм 💋", "other-apps"),
    ("インスタもフォローしてね", "other-apps"),
    ("加我微信吧", "other-apps"),
    ("راسلني على واتساب", "other-apps"),
    ("my number is +44 7700 900123 📱", "contact-details"),
    ("call me at ０７７００ ９００１２３", "contact-details"),
    ("text me babe", "contact-details"),
    ("write to mia.rose@example.com 💌", "contact-details"),
    ("мой номер телефона в профиле", "contact-details"),
    ("send it to my PayPal 💸", "outside-payment"),
    ("my Cash App is $mia", "outside-payment"),
    ("buy me a gift card 🎁", "outside-payment"),
    ("let's meet up this weekend 🍸", "meeting"),
    ("come over to my place tonight", "meeting"),
    ("давай встретимся 😉", "meeting"),
    ("今度会おうね", "meeting"),
    ("check out linktr.ee/mia ✨", "links"),
    ("https://example.org/pics", "links"),
    ("I'm online now babe 😘", "online-now"),
    ("I’m in bed right now 🛏️", "online-now"),
    ("just woke up and saw this", "online-now"),
    ("я сейчас онлайн", "online-now"),
    ("我现在在线", "online-now"),
    ("オンラインだよ", "online-now"),
    ("a private set is only $40 for you", "unlisted-price"),
    ("I'll send you a special video tonight", "content-promise"),
    ("free pics for my favourite fan", "content-promise"),
    ("s\u200bnapchat me", "other-apps"),  # an invisible character does not hide it
]


@pytest.mark.parametrize(("text", "rule"), VIOLATIONS)
def test_violations_are_flagged_with_their_rule(text, rule):
    flags = GUARD.check(text)
    assert rule in [f.rule for f in flags], (text, flags)
    flag = next(f for f in flags if f.rule == rule)
    assert flag.match and flag.message


def test_listed_prices_and_offers_pass_and_others_are_flagged():
    assert PRICED.check("a custom video is $25 💕") == []
    assert PRICED.check("a voice note is 5€") == []
    [flag] = PRICED.check("a custom video is $40 💕")
    assert flag.rule == "unlisted-price" and flag.match == "$40" and "custom video $25" in flag.message
    [flag] = PRICED.check("I'll send you a private set tonight")
    assert flag.rule == "content-promise" and "custom video" in flag.message
    assert PRICED.check("I'll make you a custom video 😘") == []


def test_without_offers_any_price_is_flagged():
    assert [f.rule for f in GUARD.check("that costs 30 dollars")] == ["unlisted-price"]


def test_persona_rules_extend_the_built_in_ones():
    persona = parse_persona(
        "name: Mia\nguardrails:\n"
        "  - name: no-real-name\n    message: names the creator\n    words: [Maria, Мария]\n"
        "  - name: no-drinking\n    patterns: ['\\bdrunk\\b']\n"
    )
    guard = Guardrails.for_persona(persona)
    assert [f.rule for f in guard.check("love, MARIA 💕")] == ["no-real-name"]
    assert [f.rule for f in guard.check("с любовью, Мария")] == ["no-real-name"]
    assert guard.check("Mariah Carey is on repeat") == []  # whole words only
    assert [f.rule for f in guard.check("I got so drunk lol")] == ["no-drinking"]
    assert [f.rule for f in guard.check("add my snapchat")] == ["other-apps"]  # built-ins still apply
    assert GUARD.check("love, Maria") == []


def test_several_rules_are_all_reported_and_described():
    flags = GUARD.check("I'm online now, add me on telegram and meet up irl")
    assert {f.rule for f in flags} == {"online-now", "other-apps", "meeting"}
    text = describe(flags)
    assert "other-apps" in text and "“telegram”" in text


def test_flags_round_trip_as_dicts():
    flag = Flag("links", "contains a link", "www.x.com")
    assert Flag.from_dict(flag.to_dict()) == flag


def test_custom_rule_dataclass_direct():
    guard = Guardrails([], ())
    assert guard.check("add me on snapchat") == []  # no rules, no flags
    custom = Guardrails.for_persona(Persona(rules=(CustomRule("x", "says x", words=("xyz",)),)))
    assert [f.rule for f in custom.check("XYZ!")] == ["x"]
