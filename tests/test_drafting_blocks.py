"""The card's drafting parts: small print, the flag warning, and Slack's confirm dialog on Send."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import Block

from slack import blocks
from store import drafts
from tests.test_blocks import NOW, make_draft

FLAG = {"rule": "other-apps", "message": "moves the fan to another app or site", "match": "snapchat"}


def _send_button(message: dict) -> dict:
    return next(
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == blocks.SEND
    )


def _validated(message: dict) -> None:
    for raw in message["blocks"]:
        Block.parse(raw).to_dict()  # slack_sdk raises on Block Kit limits (confirm text 300, title 100, …)


def test_an_llm_draft_shows_model_latency_and_tokens_in_small_print():
    message = blocks.card(
        make_draft(
            drafted_by="openai", model="gpt-4o-mini", latency_ms=1234, prompt_tokens=812, completion_tokens=41
        ),
        NOW,
    )
    context = [b for b in message["blocks"] if b["type"] == "context"]
    assert [e["text"] for e in context[0]["elements"]] == ["Drafted by gpt-4o-mini in 1.2 s · 812+41 tokens"]
    _validated(message)


def test_a_fallback_says_the_template_stood_in_and_why():
    message = blocks.card(
        make_draft(model="gpt-4o-mini", latency_ms=30000, fallback_reason="no answer within 30 s"), NOW
    )
    text = json.dumps(message["blocks"], ensure_ascii=False)
    assert (
        "gpt-4o-mini gave no usable draft in 30.0 s (no answer within 30 s): this is the template draft"
        in text
    )
    _validated(message)


def test_a_flagged_draft_warns_and_its_send_button_asks_to_confirm_naming_the_rule():
    message = blocks.card(make_draft(flags=[FLAG]), NOW)
    warning = [b for b in message["blocks"] if b["type"] == "section" and "🚩" in b["text"]["text"]]
    assert (
        len(warning) == 1
        and "other-apps" in warning[0]["text"]["text"]
        and "snapchat" in warning[0]["text"]["text"]
    )
    confirm = _send_button(message)["confirm"]
    assert confirm["title"]["text"] == "Flagged: other-apps"
    assert confirm["text"]["text"].startswith("This draft moves the fan to another app or site (other-apps")
    assert "Send it to Amy anyway?" in confirm["text"]["text"]
    assert confirm["confirm"]["text"] == "Send anyway" and confirm["style"] == "danger"
    _validated(message)


def test_many_long_flags_stay_within_slacks_limits():
    flags = [
        {"rule": f"rule-{i}-" + "x" * 40, "message": "m" * 200, "match": "<@U123> & more " * 10}
        for i in range(8)
    ]
    message = blocks.card(make_draft(flags=flags, fan_name="A" * 80), NOW)
    confirm = _send_button(message)["confirm"]
    assert len(confirm["text"]["text"]) <= 300 and len(confirm["title"]["text"]) <= 100
    assert "<@U123>" not in json.dumps(message["blocks"])  # a match cannot become a mention
    _validated(message)
    assert len(blocks.flagged_edit_error(flags)) <= blocks.NOTE_MAX


def test_decided_cards_show_no_flags_or_buttons():
    message = blocks.card(
        make_draft(
            flags=[FLAG],
            status=drafts.SENT,
            final_text="hi",
            decided_by="U1",
            decided_at="2025-07-01T11:00:00.000Z",
        ),
        NOW,
    )
    assert not [b for b in message["blocks"] if b["type"] == "actions"]
    assert "🚩" not in json.dumps(message["blocks"], ensure_ascii=False)
