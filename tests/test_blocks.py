"""The card and modal builders: pure functions checked by inspection and by slack_sdk's own validation."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from slack import blocks, limits
from slack.attach_blocks import ATTACH, TEMPLATE
from slack.take_blocks import TAKE
from store import drafts
from store.drafts import Draft

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


def make_draft(**changes: Any) -> Draft:
    base = Draft(
        id=7,
        creator_uuid="creator-1",
        fan_uuid="fan-1",
        fan_handle="amy",
        fan_name="Amy",
        fan_message_uuid="msg-1",
        fan_message_at="2025-07-01T10:55:00.000Z",
        waiting_since="2025-07-01T10:55:00.000Z",
        unread_count=2,
        context=[
            {"from_fan": False, "text": "Thanks for subscribing!", "type": "TEXT"},
            {"from_fan": True, "text": "Hi there", "type": "TEXT"},
        ],
        draft_text="Hey Amy, lovely to hear from you!",
        drafted_by="template",
        version=3,
        final_text=None,
        status=drafts.PENDING,
        channel="C1",
        ts="111.222",
        card_rev=1,
        card_synced_rev=0,
        fanvue_message_uuid=None,
        decided_by=None,
        decided_at=None,
        error=None,
        notice=None,
        created_at="2025-07-01T10:56:00.000Z",
        updated_at="2025-07-01T10:56:00.000Z",
    )
    return dataclasses.replace(base, **changes)


def validated(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Each block through slack_sdk's model, which raises on Block Kit limits when serialised."""
    out = []
    for raw in message["blocks"]:
        block = Block.parse(raw)
        assert block is not None, f"unknown block {raw}"
        out.append(block.to_dict())
    return out


def texts(message: dict[str, Any]) -> list[str]:
    """Every string the reader sees, the fallback included."""
    found: list[str] = [message["text"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message["blocks"])
    return found


def actions_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in message["blocks"] if b["type"] == "actions"]


# --- the pending card


def test_pending_card_offers_send_edit_regenerate_skip_with_the_version_in_each_value():
    message = blocks.card(make_draft(), NOW)
    assert [b["type"] for b in message["blocks"]] == ["section", "section", "divider", "section", "actions"]
    [actions] = actions_of(message)
    buttons = actions["elements"]
    assert [(b["action_id"], b["text"]["text"], b.get("style")) for b in buttons] == [
        (blocks.SEND, "Send", "primary"),
        (blocks.EDIT, "Edit", None),
        (blocks.REGENERATE, "Regenerate", None),
        (blocks.SKIP, "Skip", None),
        (blocks.NOTE, "Note", None),
        (ATTACH, "Attach", None),
        (TEMPLATE, "Template", None),
        (TAKE, "I'll take it", None),
    ]
    assert "confirm" not in buttons[0]  # nothing flagged: one click sends
    assert {b["value"] for b in buttons} == {"7:3"}
    assert blocks.parse_button_value(buttons[0]["value"]) == (7, 3)
    validated(message)


def test_pending_card_header_context_and_draft():
    message = blocks.card(make_draft(), NOW)
    header, context, _, draft = (b.get("text", {}).get("text") for b in message["blocks"][:4])
    assert header == "💬 *Amy* (@amy) · 2 unread · waiting 1 h 5 min"
    assert context == "*You:* Thanks for subscribing!\n> *Amy:* Hi there"
    assert draft == "*Draft reply* (v3):\n> Hey Amy, lovely to hear from you!"
    assert message["text"] == "Draft reply for Amy (@amy): Hey Amy, lovely to hear from you!"


@pytest.mark.parametrize(
    "waited, shown",
    [
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=5), "5 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(days=3, hours=1), "3 days"),
        (timedelta(minutes=-5), "under a minute"),
    ],
)
def test_header_says_how_long_the_fan_has_waited(waited, shown):
    since = (NOW - waited).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    header = blocks.card(make_draft(waiting_since=since, unread_count=0), NOW)["blocks"][0]["text"]["text"]
    assert header.endswith(f"· no unread · waiting {shown}")


def test_no_context_section_when_there_is_no_history():
    message = blocks.card(make_draft(context=[]), NOW)
    assert [b["type"] for b in message["blocks"]] == ["section", "divider", "section", "actions"]


def test_pending_card_shows_notice_and_error_beside_the_buttons():
    message = blocks.card(make_draft(notice="The fan wrote again", error="Fanvue was down"), NOW)
    context = [b for b in message["blocks"] if b["type"] == "context"]
    assert [e["text"] for e in context[0]["elements"]] == ["The fan wrote again", "⚠️ Fanvue was down"]
    assert message["blocks"][-1]["type"] == "actions"
    validated(message)


# --- decided cards


@pytest.mark.parametrize(
    "status, changes, expected, fallback",
    [
        (
            drafts.SENT,
            {"decided_by": "U123", "final_text": "Edited reply"},
            "✅ *Sent by <@U123> at ",
            "Sent for",
        ),
        (drafts.SKIPPED, {"decided_by": "U123"}, "⏭️ *Skipped by <@U123> at ", "Skipped for"),
        (drafts.SUPERSEDED, {}, "↩️ *Answered in Fanvue* (", "Answered in Fanvue for"),
        (
            drafts.FAILED,
            {"decided_by": "U123", "error": "fan blocked you"},
            "❌ *Not sent* (<@U123> at ",
            "Not sent for",
        ),
        (drafts.SENDING, {"decided_by": "U123"}, "⏳ *Sending…* (<@U123>)", "Sending for"),
        (
            drafts.UNKNOWN,
            {"decided_by": "U123"},
            "❓ *Checking whether the reply reached Fanvue* (<@U123>)",
            "Sending for",
        ),
    ],
)
def test_decided_cards_have_no_buttons_and_say_who_and_what(status, changes, expected, fallback):
    draft = make_draft(status=status, decided_at="2025-07-01T11:30:00.000Z", **changes)
    message = blocks.card(draft, NOW)
    assert actions_of(message) == []
    outcome = message["blocks"][-1]["text"]["text"]
    assert outcome.startswith(expected)
    assert message["text"].startswith(fallback)
    validated(message)


def test_sent_card_shows_the_text_that_went_out_and_the_time_in_each_readers_zone():
    draft = make_draft(
        status=drafts.SENT,
        decided_by="U123",
        decided_at="2025-07-01T11:30:00.000Z",
        final_text="What was sent",
    )
    outcome = blocks.card(draft, NOW)["blocks"][-1]["text"]["text"]
    stamp = int(datetime(2025, 7, 1, 11, 30, tzinfo=UTC).timestamp())
    assert outcome == f"✅ *Sent by <@U123> at <!date^{stamp}^{{time}}|11:30 UTC>*\n> What was sent"


def test_failed_card_gives_the_reason_and_skipped_says_the_chat_stays_unread():
    failed = blocks.card(
        make_draft(
            status=drafts.FAILED,
            decided_by="U1",
            decided_at="2025-07-01T11:30:00.000Z",
            error="This fan cannot be messaged",
        ),
        NOW,
    )
    assert "This fan cannot be messaged" in failed["blocks"][-1]["text"]["text"]
    skipped = blocks.card(
        make_draft(status=drafts.SKIPPED, decided_by="U1", decided_at="2025-07-01T11:30:00.000Z"), NOW
    )
    assert "stays unread" in skipped["blocks"][-1]["text"]["text"]


# --- what the fan wrote is shown, never interpreted


def test_fan_text_is_escaped_everywhere():
    hostile = "<!channel> <@U999> <https://evil.example|click> a > b & c"
    draft = make_draft(
        fan_name="<!here> & Co",
        fan_handle="x<y",
        context=[{"from_fan": True, "text": hostile, "type": "TEXT"}],
        draft_text=f"Replying to: {hostile}",
        error="Amy <!channel> wrote again; nothing was sent.",
    )
    for message in (
        blocks.card(draft, NOW),
        blocks.card(dataclasses.replace(draft, status=drafts.FAILED, decided_by="U1"), NOW),
    ):
        everything = texts(message)
        joined = "\n".join(everything)
        for raw in ("<!channel>", "<!here>", "<@U999>", "<https://evil", "x<y"):
            assert raw not in joined
        assert "&lt;!channel&gt;" in joined
        assert "a &gt; b &amp; c" in joined
        assert "&lt;!here&gt; &amp; Co" in message["text"]
        validated(message)
    modal_text = json.dumps(blocks.edit_modal(draft)["blocks"][0])
    assert "<!here>" not in modal_text


def test_long_context_message_is_cut():
    draft = make_draft(context=[{"from_fan": True, "text": "word " * 400, "type": "TEXT"}])
    line = blocks.card(draft, NOW)["blocks"][1]["text"]["text"]
    assert line.startswith("> *Amy:* word word")
    assert line.endswith("… _(cut)_")
    assert len(line) <= len("> *Amy:* ") + blocks.CONTEXT_TEXT_MAX


def test_many_long_turns_and_a_5000_character_draft_still_fit_slacks_limits():
    history = [{"from_fan": i % 2 == 0, "text": "&<>" * 200, "type": "TEXT"} for i in range(60)]
    draft = make_draft(
        context=history,
        draft_text="y" * 4000 + "&" * 1000,
        notice="The fan wrote again: new messages and a new draft.",
        error="e" * 1000,
        fan_name="N" * 300,
    )
    message = blocks.card(draft, NOW)
    for block in validated(message):
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= limits.SECTION_TEXT_MAX
    assert message["blocks"][3]["text"]["text"].startswith("*Draft reply* (v3):\n> yyyy")
    assert len(json.dumps(message["blocks"], ensure_ascii=False)) < 12_000
    assert len(message["text"]) < 1000


def test_media_only_and_tip_turns_are_described_in_words():
    draft = make_draft(
        context=[
            {"from_fan": True, "text": None, "type": "TEXT", "media_type": "image", "has_media": True},
            {"from_fan": True, "text": "", "type": "MEDIA", "media_type": None, "has_media": True},
            {"from_fan": True, "text": None, "type": "TIP", "price_cents": 500},
            {
                "from_fan": True,
                "text": "for you",
                "type": "TIP_MESSAGE",
                "price_cents": 1250,
                "media_type": "video",
            },
            {"from_fan": True, "text": "", "type": "TEXT"},
            {"from_fan": False, "text": "listen", "type": "TEXT", "media_type": "AUDIO"},
        ]
    )
    lines = blocks.card(draft, NOW)["blocks"][1]["text"]["text"].split("\n")
    assert lines == [
        "> *Amy:* [🖼️ photo]",
        "> *Amy:* [📎 media]",
        "> *Amy:* 💸 tip $5.00",
        "> *Amy:* 💸 tip $12.50 [🎬 video] for you",
        "> *Amy:* _(empty message)_",
        "*You:* [🎙️ voice note] listen",
    ]


def test_every_state_has_a_text_fallback():
    for status in (drafts.PENDING, *drafts.FINAL, *drafts.IN_FLIGHT):
        message = blocks.card(
            make_draft(status=status, decided_by="U1", decided_at="2025-07-01T11:00:00.000Z"), NOW
        )
        assert message["text"].endswith(": Hey Amy, lovely to hear from you!")
        assert "Amy (@amy)" in message["text"]


def test_fallback_text_is_cut():
    message = blocks.card(make_draft(draft_text="z" * 5000), NOW)
    assert message["text"] == "Draft reply for Amy (@amy): " + "z" * 199 + "…"


# --- the edit modal


def test_edit_modal_is_a_valid_view_carrying_the_draft_id_and_version():
    draft = make_draft(draft_text="Line one\nLine two")
    modal = blocks.edit_modal(draft)
    View(**modal).to_dict()
    assert modal["callback_id"] == blocks.EDIT_VIEW
    assert len(modal["title"]["text"]) <= 24 and len(modal["submit"]["text"]) <= 24
    assert len(modal["private_metadata"]) <= 3000
    assert blocks.parse_edit_metadata(modal["private_metadata"]) == (7, 3)
    [context, field] = modal["blocks"]
    assert context["type"] == "context"
    assert "*Amy* (@amy)" in context["elements"][0]["text"]
    assert field["block_id"] == blocks.EDIT_BLOCK
    element = field["element"]
    assert (element["type"], element["action_id"], element["multiline"]) == (
        "plain_text_input",
        blocks.EDIT_INPUT,
        True,
    )
    assert element["max_length"] == 3000
    assert element["initial_value"] == "Line one\nLine two"


def test_edit_modal_of_a_5000_character_draft_starts_within_the_input_limit():
    modal = blocks.edit_modal(make_draft(draft_text="q" * 5000, fan_name="<b>" * 100))
    View(**modal).to_dict()
    assert len(modal["blocks"][1]["element"]["initial_value"]) == 3000


@pytest.mark.parametrize(
    "metadata",
    [
        "",
        "nonsense",
        "{}",
        "[1, 2]",
        "null",
        '{"draft_id": 1}',
        '{"draft_id": "x", "version": 1}',
        '{"draft_id": null, "version": 1}',
    ],
)
def test_parse_edit_metadata_rejects_what_is_not_ours(metadata):
    with pytest.raises(ValueError):
        blocks.parse_edit_metadata(metadata)


# --- button values


def test_button_value_round_trips():
    draft = make_draft(id=123456, version=42)
    assert blocks.parse_button_value(blocks.button_value(draft)) == (123456, 42)


@pytest.mark.parametrize("value", ["", "abc", "7", "7:", ":3", "7:x", "x:3", "7:3:1", "7;3", "1.5:2"])
def test_parse_button_value_rejects_garbage(value):
    with pytest.raises(ValueError):
        blocks.parse_button_value(value)
