"""The persona file: the shipped example loads, and every mistake is a clear error naming its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from drafting.persona import Offer, Persona, PersonaError, load_persona, parse_persona

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_example_loads_with_every_setting():
    persona = load_persona(ROOT / "persona.example.yml")
    assert persona.name == "Mia"
    assert persona.length == "short" and persona.emoji == "some"
    assert persona.favourite_emoji == ("💕", "😘", "✨") and persona.pet_names == ("babe", "hun")
    assert persona.sign_off == "xx Mia"
    assert Offer("custom video", "$25") in persona.offers
    assert persona.examples[0].fan == "good morning ☀️"
    assert persona.do and persona.dont
    assert [rule.name for rule in persona.rules] == ["no-real-name"]


def test_no_file_configured_is_the_default_voice():
    assert load_persona(None) == Persona()


def test_a_minimal_file_needs_only_a_name():
    persona = parse_persona("name: Ana\n")
    assert persona.name == "Ana" and persona.tone == Persona().tone and persona.offers == ()


def test_offers_may_be_plain_names():
    assert parse_persona("name: Ana\noffers: [shoutouts]\n").offers == (Offer("shoutouts"),)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(PersonaError, match=r"nope\.yml does not exist"):
        load_persona(tmp_path / "nope.yml")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("name: Mia\ntone: [unclosed\n", 3, "not valid YAML"),
        ("name: Mia\n  bad: indent\n", 2, "not valid YAML"),
        ("name: Mia\ntone: warm\nemojis: lots\n", 3, "emojis is not a persona setting"),
        ("tone: warm\n", 1, "name is missing"),
        ("name: Mia\nemoji: heaps\n", 2, "emoji should be one of none, few, some, lots"),
        ("name: Mia\nlength: 3\n", 2, "length should be one of short, medium, long"),
        ("name: Mia\ndo: {a: b}\n", 2, "do should be a list"),
        (
            "name: Mia\nexamples:\n  - fan: hi\n    reply: hey\n  - fan: hello\n",
            5,
            "examples.1.reply is missing",
        ),
        ("name: Mia\nexamples:\n  - fan: hi\n    answer: hey\n", 4, "examples.0.answer is not expected here"),
        (
            "name: Mia\nguardrails:\n  - name: x\n    patterns: ['(unclosed']\n",
            4,
            "not a valid regular expression",
        ),
        ("name: Mia\nguardrails:\n  - name: x\n    message: y\n", 3, "needs `words` or `patterns`"),
        ("- just\n- a list\n", 1, "should be a mapping"),
    ],
)
def test_mistakes_name_their_line(tmp_path, text, line, words):
    path = tmp_path / "persona.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    message = str(caught.value)
    assert message.startswith(f"{path} line {line}:"), message
    assert words in message


def test_an_empty_file_is_an_error():
    with pytest.raises(PersonaError, match="empty"):
        parse_persona("# only a comment\n", "persona.yml")
