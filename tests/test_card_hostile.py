"""Cards under hostile sizes and text: within Slack's limits, showing exactly what Send delivers, unforgeable."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import ConfirmObject
from slack_sdk.models.views import View

from demo.render import mrkdwn_text
from slack import blocks, limits
from slack.attach_blocks import ATTACH, TEMPLATE
from slack.layout import pack
from slack.take_blocks import TAKE
from store import drafts
from tests.test_blocks import NOW, make_draft

HOSTILE = "&<>" * 1667  # 5001 characters, five times as long once escaped
FLAG = {"rule": "other-apps", "message": "moves the fan to another app or site", "match": "snapchat"}


def within_limits(message: dict[str, Any]) -> None:
    """What Slack and slack_sdk allow: each block valid, counts and sizes under the documented limits."""
    assert 0 < len(message["text"]) <= limits.MESSAGE_TEXT_MAX
    assert len(message["blocks"]) <= limits.MESSAGE_BLOCKS_MAX
    assert len(json.dumps(message["blocks"], ensure_ascii=False)) < limits.MESSAGE_BLOCKS_JSON_MAX
    for raw in message["blocks"]:
        Block.parse(raw).to_dict()  # raises on a limit slack_sdk knows
        if raw["type"] == "section":
            assert len(raw["text"]["text"]) <= limits.SECTION_TEXT_MAX
        if raw["type"] == "context":
            assert len(raw["elements"]) <= limits.CONTEXT_ELEMENTS_MAX
            assert all(len(e["text"]) <= limits.TEXT_OBJECT_MAX for e in raw["elements"])
        for element in raw.get("elements", []):
            if element.get("type") == "button":
                assert len(element["value"]) <= limits.BUTTON_VALUE_MAX
                if "confirm" in element:
                    assert len(element["confirm"]["text"]["text"]) <= limits.CONFIRM_TEXT_MAX


def has_send(message: dict[str, Any]) -> bool:
    return any(
        e["action_id"] == blocks.SEND
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    )


def shown_draft(message: dict[str, Any]) -> str:
    """The quoted text under the card's heading, as a reader sees it, sections joined."""
    after = message["blocks"][[b["type"] for b in message["blocks"]].index("divider") + 1 :]
    lines: list[str] = []
    for block in after:
        if block["type"] != "section" or (lines and not block["text"]["text"].startswith(">")):
            break
        lines += block["text"]["text"].split("\n")
    assert all(line.startswith(">") for line in lines[1:]), "every line of the draft is quoted"
    return mrkdwn_text("\n".join(line[2:] for line in lines[1:]))


def no_space(text: str) -> str:
    return re.sub(r"\s", "", text)


def test_the_limits_are_slacks_as_slack_sdk_knows_them():
    assert limits.SECTION_TEXT_MAX == SectionBlock.text_max_length
    assert limits.CONTEXT_ELEMENTS_MAX == ContextBlock.elements_max_length
    assert limits.HEADER_TEXT_MAX == HeaderBlock.text_max_length
    assert limits.BUTTON_TEXT_MAX == ButtonElement.text_max_length
    assert limits.BUTTON_VALUE_MAX == ButtonElement.value_max_length
    assert limits.CONFIRM_TITLE_MAX == ConfirmObject.title_max_length
    assert limits.CONFIRM_TEXT_MAX == ConfirmObject.text_max_length
    assert limits.CONFIRM_BUTTON_MAX == ConfirmObject.confirm_max_length
    assert limits.MODAL_TITLE_MAX == View.title_max_length
    assert limits.PRIVATE_METADATA_MAX == View.private_metadata_max_length
    assert limits.MODAL_BLOCKS_MAX == View.blocks_max_length
    assert ActionsBlock.elements_max_length >= 4  # the card's four buttons


@pytest.mark.parametrize(
    "draft_text",
    [
        "&" * 1500,  # 7500 once escaped: longer than a section, the old card cut it
        "<!channel> & <@U1> > " * 120,
        "line one\n" + "& " * 1400 + "\nline three\n\n> not a quote of ours",
        "x" * 4999,
        "\n".join(f"line {i} <b>" for i in range(300)),
    ],
)
def test_a_draft_that_fits_a_message_is_shown_whole_and_can_be_sent(draft_text):
    message = blocks.card(make_draft(draft_text=draft_text), NOW)
    within_limits(message)
    assert has_send(message)
    assert no_space(shown_draft(message)) == no_space(draft_text)
    assert "✂️" not in json.dumps(message["blocks"], ensure_ascii=False)


def test_line_breaks_survive_exactly_when_no_line_is_longer_than_a_section():
    draft_text = "\n".join(f"{i}: a & b < c" + " pad" * (i % 10) for i in range(150))
    message = blocks.card(make_draft(draft_text=draft_text), NOW)
    assert has_send(message)
    assert shown_draft(message) == draft_text


@pytest.mark.parametrize("draft_text", [HOSTILE[:5000], "<" * 3000, "&" * 2600 + "end"])
def test_a_draft_too_long_to_show_has_no_send_button_and_says_where_to_read_it(draft_text):
    draft = make_draft(draft_text=draft_text, flags=[FLAG])
    message = blocks.card(draft, NOW)
    within_limits(message)
    assert not has_send(message)
    actions = [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == [blocks.EDIT, blocks.REGENERATE, blocks.SKIP, blocks.NOTE, ATTACH, TEMPLATE, TAKE]
    cut_notice = next(b for b in message["blocks"] if "✂️" in b.get("text", {}).get("text", ""))
    assert f"({len(draft_text)} characters)" in cut_notice["text"]["text"]
    assert "Open *Edit*" in cut_notice["text"]["text"]
    shown = shown_draft(message)
    assert draft_text.startswith(shown.replace("\n", "")) and len(shown) < len(draft_text)
    modal = blocks.edit_modal(draft)
    View(**modal).to_dict()
    box = modal["blocks"][-1]["element"]["initial_value"]
    assert box == draft_text[: blocks.EDIT_MAX]
    if len(draft_text) > blocks.EDIT_MAX:
        assert f"holds its first {blocks.EDIT_MAX}" in json.dumps(modal["blocks"][0], ensure_ascii=False)


def test_a_sent_card_too_long_to_show_says_so_and_where_the_whole_text_is():
    sent = make_draft(status=drafts.SENT, final_text=HOSTILE[:5000], decided_by="U0BOB")
    message = blocks.card(sent, NOW)
    within_limits(message)
    assert "too long to show here in full" in message["blocks"][-1]["text"]["text"]


@pytest.mark.parametrize("status", [drafts.SENT, drafts.FAILED, drafts.SENDING, drafts.UNKNOWN])
def test_a_decided_card_shows_the_whole_text_that_went_out(status):
    text = "&" * 1200 + "\nthe end"
    message = blocks.card(make_draft(status=status, final_text=text, decided_by="U0BOB", error="x"), NOW)
    within_limits(message)
    assert no_space(shown_draft(message)) == no_space(text)


def test_hostile_names_many_messages_and_flags_stay_within_every_limit():
    history = [
        {"from_fan": i % 3 != 0, "text": HOSTILE[: 300 + i], "type": "TIP_MESSAGE", "price_cents": 99}
        for i in range(80)
    ]
    flags = [{**FLAG, "rule": f"rule-{i}" * 10, "match": HOSTILE[:400]} for i in range(12)]
    draft = make_draft(
        fan_name="N&<>\n" * 200,
        fan_handle="h<" * 500,
        context=history,
        draft_text=HOSTILE[:2000],
        flags=flags,
        notice="n" * 2000,
        error="<!channel>" * 300,
        model="m&" * 100,
        fallback_reason="r<" * 500,
        latency_ms=1,
    )
    for status in (drafts.PENDING, drafts.SENT, drafts.FAILED):
        message = blocks.card(dataclasses.replace(draft, status=status, decided_by="U0BOB"), NOW)
        within_limits(message)
        assert "<!channel>" not in json.dumps(message, ensure_ascii=False)
    View(**blocks.edit_modal(draft)).to_dict()


def test_the_history_keeps_the_newest_messages_and_counts_what_it_left_out():
    history = [{"from_fan": True, "text": f"message {i} " + "&" * 270, "type": "TEXT"} for i in range(40)]
    message = blocks.card(make_draft(context=history), NOW)
    within_limits(message)
    lines = message["blocks"][1]["text"]["text"].split("\n")
    assert re.fullmatch(r"_\((\d+) earlier messages not shown\)_", lines[0])
    left_out = int(re.search(r"\d+", lines[0]).group())
    assert left_out + len(lines) - 1 == 40
    assert "message 39 " in lines[-1]


# --- fan text cannot forge the card


def test_line_breaks_in_names_and_messages_cannot_fake_the_apps_lines():
    forged = "hi\n*You:* I will send you $500\n✅ *Sent by <@U0BOSS> at 10:00*\r\u2028x"
    draft = make_draft(
        fan_name="Amy\n*You:* free pics\u2029",
        fan_handle="amy\n✅ *Sent by",
        context=[
            {"from_fan": True, "text": forged, "type": "TEXT"},
            {"from_fan": False, "text": "thanks!", "type": "TEXT"},
            {"from_fan": True, "text": "ok\x0bfine\x85done", "type": "TEXT"},
        ],
        draft_text="Sure!\n✅ *Sent by <@U0BOSS>*",
    )
    message = blocks.card(draft, NOW)
    header, history = (b["text"]["text"] for b in message["blocks"][:2])
    assert "\n" not in header
    assert history.split("\n") == [
        "> *Amy *You:* free pics :* hi *You:* I will send you $500 ✅ *Sent by &lt;@U0BOSS&gt; at 10:00*  x",
        "*You:* thanks!",
        "> *Amy *You:* free pics :* ok fine done",
    ]
    assert shown_draft(message) == "Sure!\n✅ *Sent by <@U0BOSS>*"  # quoted line by line, as typed
    assert "\n" not in message["text"]
    sent = blocks.card(dataclasses.replace(draft, status=drafts.SENT, decided_by="U0ALICE"), NOW)
    outcome = sent["blocks"][-1]["text"]["text"].split("\n")
    assert outcome[0].startswith("✅ *Sent by <@U0ALICE>")
    assert all(line.startswith("> ") for line in outcome[1:])


def test_invisible_characters_in_a_draft_are_shown_before_it_is_sent():
    message = blocks.card(make_draft(draft_text="pay \u202eevil\u202c here\x07\x1b[2J"), NOW)
    assert shown_draft(message) == "pay ⟨U+202E⟩evil⟨U+202C⟩ here⟨U+0007⟩⟨U+001B⟩[2J"


def test_a_teammate_id_that_is_not_an_id_is_text_not_a_mention():
    message = blocks.card(make_draft(status=drafts.SKIPPED, decided_by="!channel"), NOW)
    assert "<!channel>" not in json.dumps(message) and "!channel" in message["blocks"][-1]["text"]["text"]


# --- the confirm dialog and the flags


def test_the_confirm_dialog_names_every_rule_or_points_to_the_card_never_cut():
    few = blocks.card(make_draft(flags=[FLAG, {**FLAG, "rule": "money"}]), NOW)
    many = blocks.card(
        make_draft(flags=[{**FLAG, "rule": f"rule-{i}", "match": "x" * 60} for i in range(30)]), NOW
    )
    for message, expected in ((few, "other-apps"), (many, "30 rules, listed on the card")):
        within_limits(message)
        confirm = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"])[
            "confirm"
        ]
        assert expected in confirm["text"]["text"]
        assert confirm["text"]["text"].endswith("Send it to Amy anyway?")


def test_the_flag_list_shows_five_and_counts_the_rest():
    message = blocks.card(make_draft(flags=[{**FLAG, "rule": f"r{i}"} for i in range(8)]), NOW)
    flags = next(b for b in message["blocks"] if "🚩" in b.get("text", {}).get("text", ""))
    lines = flags["text"]["text"].split("\n")
    assert len(lines) == 1 + 5 + 1 and lines[-1] == "…and 3 more."


def test_a_flag_at_the_end_of_a_long_draft_is_on_the_card():
    from drafting.guardrails import Guardrails

    text = "lovely to hear from you " * 150 + "add me on snapchat"
    flags = [f.to_dict() for f in Guardrails().check(text)]
    assert flags, "the guardrails read the whole text"
    message = blocks.card(make_draft(draft_text=text, flags=flags), NOW)
    assert has_send(message)
    assert "snapchat" in json.dumps(
        next(b for b in message["blocks"] if "🚩" in b.get("text", {}).get("text", ""))
    )


# --- packing text into sections


@pytest.mark.parametrize("line", ["&amp;" * 700, "a" * 7000, "word " * 1500, "&lt;&gt;x" * 800])
def test_packing_keeps_every_character_and_never_splits_an_entity(line):
    chunks = pack(["heading", "> " + line], 3000, prefix="> ")
    assert all(len(c) <= 3000 for c in chunks)
    pieces = "\n".join(chunks).split("\n")
    assert pieces[0] == "heading"
    assert "".join(p[2:] for p in pieces[1:]) == line
    for piece in pieces[1:]:
        assert re.fullmatch(r"> (?:[^&]|&(?:amp|lt|gt);)*", piece), piece[-10:]
