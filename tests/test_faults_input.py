"""Bad input: forged and stale signatures, malformed payloads, unknown actions and drafts, odd text, odd Fanvue data."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
from slack_sdk.models.blocks import Block

from slack import blocks
from standins.slack_requests import block_action_body, sign_request
from store import audit, drafts
from tests.harness import SECRET, Harness
from tests.pending_card import PendingCard

pytestmark = pytest.mark.both_modes  # each Slack-facing test runs over HTTP and over Socket Mode


def _card_text(msg) -> str:
    return json.dumps(msg.blocks, ensure_ascii=False)


def _actions(msg) -> list[str]:
    return [e["action_id"] for b in msg.blocks if b["type"] == "actions" for e in b["elements"]]


def _audit_rows(harness: Harness) -> int:
    return harness.store.db["audit"].count


def _click_body(
    harness: Harness, draft, action_id: str = blocks.SEND, *, value: str | None = None, user: str = "U0ALICE"
) -> str:
    msg = harness.card(draft)
    button = next(
        e
        for b in msg.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"]
        == (action_id if action_id in (blocks.SEND, blocks.EDIT, blocks.SKIP) else blocks.SEND)
    )
    return block_action_body(
        user_id=user,
        user_name=user.lower(),
        action_id=action_id,
        value=button["value"] if value is None else value,
        channel_id=msg.channel,
        message_ts=msg.ts,
        message=msg.to_dict(),
        trigger_id=harness.slack.new_trigger_id(user),
        response_url=harness.slack.new_response_url(channel=msg.channel, message_ts=msg.ts, user=user),
        block_id="decide",
    )


def _assert_untouched(harness: Harness, draft, audit_rows: int) -> None:
    assert harness.sandbox.world.sent_messages() == []
    assert (
        harness.sandbox.world.request_count(method="POST", path_prefix=f"/chats/{draft.fan_uuid}/message")
        == 0
    )
    now = drafts.get(harness.store.db, draft.id)
    assert now.status == drafts.PENDING and now.version == draft.version and now.error is None
    assert _audit_rows(harness) == audit_rows
    card = harness.card(draft)
    assert card.updates == 0 and {blocks.SEND, blocks.EDIT, blocks.SKIP} <= set(_actions(card))


# --- signatures -------------------------------------------------------------------------------------------------


@pytest.mark.http_only
def test_forged_stale_future_missing_and_tampered_signatures_get_401_and_change_nothing(
    pending_card: PendingCard,
):
    harness, _, draft = pending_card
    rows = _audit_rows(harness)
    body = _click_body(harness, draft)
    now = int(time.time())
    tampered = body.replace(quote(f"{draft.id}:{draft.version}"), quote(f"{draft.id}:{draft.version + 1}"))
    assert tampered != body
    attempts = {
        "forged": (body, sign_request("not-the-secret", body)),
        "stale": (body, sign_request(SECRET, body, timestamp=now - 600)),
        "future": (body, sign_request(SECRET, body, timestamp=now + 600)),
        "missing": (body, {"Content-Type": "application/x-www-form-urlencoded"}),
        "tampered": (tampered, sign_request(SECRET, body)),
    }
    for name, (sent_body, headers) in attempts.items():
        assert harness.post(sent_body, headers=headers).status_code == 401, name
    harness.settle()
    _assert_untouched(harness, draft, rows)
    assert harness.ephemerals() == []
    # The same body, signed properly, is a valid click: the refusals above were about the signature alone.
    assert harness.post(body).status_code == 200
    harness.settle()
    assert [m["text"] for m in harness.sandbox.world.sent_messages()] == [draft.draft_text]


# --- malformed payloads, unknown actions ---------------------------------------------------------------------------


@pytest.mark.http_only
def test_malformed_interaction_payloads_change_nothing_and_the_app_keeps_serving(pending_card: PendingCard):
    harness, _, draft = pending_card
    rows = _audit_rows(harness)
    value = f"{draft.id}:{draft.version}"
    refused = [
        "payload=not-json",
        "payload=" + quote(json.dumps([1, 2])),
        "payload=" + quote("{}"),
        "payload=" + quote(json.dumps({"type": "block_actions"})),
        "",
        "garbage",
        "payload=" + quote(json.dumps({"type": "surprise", "user": {"id": "U0ALICE"}})),
    ]
    refused.append("payload=" + quote(json.dumps({"type": "block_actions", "actions": [{"value": value}]})))
    no_user = {"type": "block_actions", "actions": [{"action_id": blocks.SEND, "value": value}]}
    refused.append("payload=" + quote(json.dumps(no_user)))
    for body in refused:
        assert harness.post(body).status_code in (400, 404), body
    # Shaped enough for Bolt to route and acknowledge, but missing the button's value: nothing is done.
    acknowledged = [
        {"type": "block_actions", "user": {"id": "U0ALICE"}, "actions": [{"action_id": blocks.SEND}]},
        {
            "type": "block_actions",
            "user": {"id": "U0ALICE"},
            "actions": [{"action_id": blocks.SKIP, "value": None}],
        },
    ]
    for payload in acknowledged:
        assert harness.post("payload=" + quote(json.dumps(payload))).status_code == 200
    harness.settle()
    _assert_untouched(harness, draft, rows)
    harness.click(draft, blocks.SKIP, user="U0ALICE")
    assert harness.draft_for(draft.fan_uuid).status == drafts.SKIPPED


def test_unknown_action_ids_are_not_handled_and_change_nothing(pending_card: PendingCard):
    harness, _, draft = pending_card
    rows = _audit_rows(harness)
    for action_id in ("draft_delete", "draft_send_all", "", "x" * 255):
        response = harness.post(_click_body(harness, draft, action_id))
        # 404 over HTTP; over Socket Mode the envelope is acknowledged (else Slack would deliver it again).
        assert response.status_code == (404 if harness.mode == "http" else 200), action_id
    harness.settle()
    _assert_untouched(harness, draft, rows)
    assert harness.ephemerals() == []


# --- drafts that do not exist ---------------------------------------------------------------------------------------


def test_clicks_and_edits_for_drafts_that_do_not_exist_are_refused_and_change_nothing(
    pending_card: PendingCard,
):
    harness, _, draft = pending_card
    rows = _audit_rows(harness)
    for action_id in (blocks.SEND, blocks.SKIP, blocks.EDIT):
        assert harness.post(_click_body(harness, draft, action_id, value="99999:1")).status_code == 200
    for value in ("-1:1", "1:2:3", f"{draft.id}:", ":", "0x10:1", "9" * 400 + ":1"):
        harness.post(_click_body(harness, draft, blocks.SEND, value=value))
    harness.settle()
    told = harness.ephemerals("U0ALICE")
    assert len([t for t in told if "not in the database" in t]) == 3
    assert len([t for t in told if "not one of this app's cards" in t]) == 6
    assert harness.slack.views() == []
    for metadata in (
        json.dumps({"draft_id": 99999, "version": 1}),
        json.dumps({"draft_id": 10**30, "version": 1}),
        "not json",
        json.dumps({"draft_id": "x"}),
        json.dumps([draft.id, draft.version]),
    ):
        view = {**blocks.edit_modal(draft), "private_metadata": metadata}
        answer = harness.submit_edit(view, "a reply for nobody").json()
        assert answer["response_action"] == "errors" and blocks.EDIT_BLOCK in answer["errors"]
    _assert_untouched(harness, draft, rows)


def test_a_click_with_an_old_version_of_an_existing_draft_is_refused(pending_card: PendingCard):
    harness, _, draft = pending_card
    harness.post(_click_body(harness, draft, blocks.SEND, value=f"{draft.id}:{draft.version + 5}"))
    harness.settle()
    assert harness.sandbox.world.sent_messages() == []
    assert any("updated since you saw it" in t for t in harness.ephemerals("U0ALICE"))
    assert harness.draft_for(draft.fan_uuid).status == drafts.PENDING


# --- edits around the modal's limit, odd text ----------------------------------------------------------------------


def _open_editor(harness: Harness, draft) -> dict:
    harness.click(draft, blocks.EDIT, user="U0BOB")
    return harness.slack.views()[-1]["view"]


def test_an_edit_of_3001_characters_is_refused_in_the_modal_and_3000_are_sent(pending_card: PendingCard):
    harness, _, draft = pending_card
    view = _open_editor(harness, draft)
    too_long = "a" * 3000 + "b"
    answer = harness.submit_edit(view, too_long, user="U0BOB").json()
    assert answer["response_action"] == "errors" and "3001 characters" in answer["errors"][blocks.EDIT_BLOCK]
    assert harness.sandbox.world.sent_messages() == []
    assert harness.draft_for(draft.fan_uuid).status == drafts.PENDING
    longest = "a" * 2999 + "b"
    assert harness.submit_edit(view, longest, user="U0BOB").status_code == 200
    assert [m["text"] for m in harness.sandbox.world.sent_messages()] == [longest]
    done = harness.draft_for(draft.fan_uuid)
    assert done.status == drafts.SENT and done.final_text == longest
    card = harness.card(draft)
    assert "Sent by <@U0BOB>" in _card_text(card)
    for block in card.blocks:
        Block.parse(block).to_dict()  # within Slack's limits although the reply is as long as allowed


def test_control_characters_and_slack_markup_in_an_edit_are_sent_as_written_and_shown_inert(
    pending_card: PendingCard,
):
    harness, _, draft = pending_card
    view = _open_editor(harness, draft)
    text = "Hi\x00 there\x07 \u202egnp.exe <!channel> & <@U0BOSS> <#C0GENERAL> \u200b\ufeff ok"
    harness.submit_edit(view, f"  {text}\n", user="U0BOB")
    assert [m["text"] for m in harness.sandbox.world.sent_messages()] == [text]
    assert harness.draft_for(draft.fan_uuid).final_text == text
    row = [r for r in audit.for_draft(harness.store.db, draft.id) if r["action"] == "edited-and-sent"][0]
    assert row["details"]["text"] == text
    shown = _card_text(harness.card(draft))
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown and "<@U0BOSS>" not in shown


def test_very_long_unicode_edit_is_sent_whole_and_the_card_stays_within_slack_limits(
    pending_card: PendingCard,
):
    harness, _, draft = pending_card
    view = _open_editor(harness, draft)
    text = ("😀👩‍👩‍👧‍👦🇵🇱" * 500)[:3000]  # astral characters and joiners: 3000 code points
    harness.submit_edit(view, text, user="U0BOB")
    assert [m["text"] for m in harness.sandbox.world.sent_messages()] == [text]
    card = harness.card(draft)
    assert "Sent by <@U0BOB>" in _card_text(card)
    for block in card.blocks:
        Block.parse(block).to_dict()


def test_a_fan_message_of_5000_odd_characters_gets_a_card_within_slack_limits(harness: Harness):
    world = harness.sandbox.world
    fan = harness.unread_fan_with_text()
    text = ("\x01\x1b[31m 𝕳𝖊𝖑𝖑𝖔 ﷽ <script> & " * 400)[:5000]
    world.add_fan_message(fan["uuid"], text)
    harness.cycle()
    draft = harness.draft_for(fan["uuid"])
    assert draft.status == drafts.PENDING and draft.context[-1]["text"] == text
    card = harness.card(draft)
    for block in card.blocks:
        Block.parse(block).to_dict()
    assert len(json.dumps(card.blocks, ensure_ascii=False)) < 12_000
    assert "<script>" not in _card_text(card)
    harness.click(draft, blocks.SEND)
    assert [m["text"] for m in world.sent_messages(fan["uuid"])] == [draft.draft_text]


# --- what Fanvue may add without notice -------------------------------------------------------------------------


def test_unknown_message_types_and_fields_from_fanvue_are_carded_and_answered(harness: Harness):
    world = harness.sandbox.world
    fan = harness.unread_fan_with_text()
    other = next(f for f in world.fans() if f["uuid"] != fan["uuid"] and "blocked" not in f["handle"])
    extra = {
        "reactions": [{"emoji": "🔥", "count": 2}],
        "storyUuid": "0b8f3f9e-5d0b-4f3e-9a51-2d6b1c0f7a10",
        "translation": {"lang": "pl", "text": "cześć"},
        "isDeletedForEveryone": None,
    }
    world.add_fan_message(fan["uuid"], "replying to your story!", message_type="STORY_REPLY", extra=extra)
    world.add_fan_message(
        other["uuid"],
        None,
        media_type="hologram",
        message_type="HOLOGRAM_CALL",
        extra={"durationSeconds": 12},
    )
    report = harness.cycle()
    assert report.troubled == 0
    story = harness.draft_for(fan["uuid"])
    assert (
        story.context[-1]["type"] == "STORY_REPLY" and story.context[-1]["text"] == "replying to your story!"
    )
    hologram = harness.draft_for(other["uuid"])
    assert hologram.context[-1]["type"] == "HOLOGRAM_CALL"
    assert "media" in _card_text(harness.card(hologram))
    harness.click(story, blocks.SEND)
    assert [m["text"] for m in world.sent_messages(fan["uuid"])] == [story.draft_text]
    assert harness.draft_for(fan["uuid"]).status == drafts.SENT
