"""Slack misbehaving: 429s on posting and updating, Slack unreachable for a cycle, a modal that cannot open."""

from __future__ import annotations

import json

import pytest

from slack import blocks
from store import drafts
from tests.harness import Harness
from tests.pending_card import PendingCard

pytestmark = pytest.mark.both_modes  # each Slack-facing test runs over HTTP and over Socket Mode


def _card_text(msg) -> str:
    return json.dumps(msg.blocks, ensure_ascii=False)


def _actions(msg) -> list[str]:
    return [e["action_id"] for b in msg.blocks if b["type"] == "actions" for e in b["elements"]]


def _posted_draft_ids(harness: Harness) -> list[int]:
    return [r["id"] for r in harness.store.db.query("SELECT id FROM drafts WHERE ts IS NOT NULL ORDER BY id")]


def _assert_one_card_per_draft(harness: Harness) -> None:
    """Every draft has exactly one Slack message, and every message belongs to one draft."""
    rows = list(harness.store.db.query("SELECT id, ts FROM drafts"))
    messages = harness.slack.messages()
    assert all(r["ts"] for r in rows)
    assert sorted(r["ts"] for r in rows) == sorted(m.ts for m in messages)


def test_429_on_post_message_is_waited_out_and_every_card_posted_once(harness: Harness):
    harness.slack.fail("chat.postMessage", error="ratelimited", count=2, retry_after=0)
    report = harness.cycle()
    posts = harness.slack.calls("chat.postMessage")
    assert [c.status for c in posts[:2]] == [429, 429]
    assert report.cards.posted == report.drafted and report.cards.failed == 0
    assert len(posts) == report.drafted + 2
    _assert_one_card_per_draft(harness)


def test_429_on_post_message_beyond_the_retries_defers_the_cards_to_the_next_cycle(harness: Harness):
    harness.slack.fail("chat.postMessage", error="ratelimited", count=4, retry_after=0)
    first = harness.cycle()
    assert first.drafted > 1 and first.cards.posted == 0 and first.cards.failed == 1
    assert harness.slack.messages() == []
    assert harness.store.db["drafts"].count == first.drafted  # nothing lost: the drafts wait in the database
    second = harness.cycle()
    assert second.cards.posted == first.drafted
    harness.cycle()
    _assert_one_card_per_draft(harness)


def test_429_on_update_beyond_the_retries_leaves_the_card_due_until_the_next_cycle(pending_card: PendingCard):
    harness, fan, draft = pending_card
    world = harness.sandbox.world
    old_card = harness.card(draft)
    harness.slack.fail("chat.update", error="ratelimited", count=4, retry_after=0)
    harness.click(draft, blocks.SEND, user="U0ALICE")
    assert [m["text"] for m in world.sent_messages(fan["uuid"])] == [draft.draft_text]
    sent = harness.draft_for(fan["uuid"])
    assert sent.status == drafts.SENT and sent.card_synced_rev < sent.card_rev
    assert {blocks.SEND, blocks.EDIT, blocks.SKIP} <= set(
        _actions(harness.card(draft))
    )  # Slack still shows the old card
    # A teammate clicking that stale card is told, and nothing goes out twice.
    harness.click(draft, blocks.SEND, user="U0BOB", message=old_card)
    assert any("Already sent by <@U0ALICE>" in t for t in harness.ephemerals("U0BOB"))
    report = harness.cycle()
    assert report.cards.updated >= 1
    card = harness.card(draft)
    assert "Sent by <@U0ALICE>" in _card_text(card) and _actions(card) == []
    assert len(world.sent_messages(fan["uuid"])) == 1


def test_slack_unreachable_for_a_whole_cycle_loses_and_doubles_no_card(harness: Harness):
    world = harness.sandbox.world
    harness.slack.set_down(True)
    down = harness.cycle()
    assert down.drafted > 0 and down.cards.posted == 0
    assert harness.slack.messages() == []
    harness.slack.set_down(False)
    back = harness.cycle()
    assert back.drafted == 0 and back.cards.posted == down.drafted
    harness.cycle()
    _assert_one_card_per_draft(harness)
    assert world.sent_messages() == []


def test_slack_unreachable_after_a_click_the_send_happens_once_and_the_card_catches_up(
    pending_card: PendingCard,
):
    harness, fan, draft = pending_card
    world = harness.sandbox.world
    card = harness.card(draft)
    other = next(d for d in drafts.with_status(harness.store.db, drafts.PENDING) if d.id != draft.id)
    # Bolt checks the bot token with Slack on its first request: a click before Slack went away.
    harness.click(other, blocks.SKIP, user="U0CAROL")
    # The click reaches us, but the Web API and response URLs do not answer until the next cycle.
    harness.slack.set_down(True)
    harness.click(draft, blocks.SEND, user="U0ALICE", message=card)
    assert len(world.sent_messages(fan["uuid"])) == 1
    assert harness.draft_for(fan["uuid"]).status == drafts.SENT
    harness.slack.set_down(False)
    assert _actions(harness.card(draft)) != []  # the card could not be updated yet
    harness.cycle()
    assert "Sent by <@U0ALICE>" in _card_text(harness.card(draft))
    assert len(world.sent_messages(fan["uuid"])) == 1
    _assert_one_card_per_draft(harness)


def test_views_open_failing_tells_the_teammate_and_changes_nothing(pending_card: PendingCard):
    harness, fan, draft = pending_card
    world = harness.sandbox.world
    harness.slack.fail("views.open", error="expired_trigger_id", count=1)
    harness.click(draft, blocks.EDIT, user="U0BOB")
    assert harness.slack.views() == []
    told = harness.ephemerals("U0BOB")
    assert len(told) == 1 and "editor" in told[0].lower()
    assert harness.draft_for(fan["uuid"]).status == drafts.PENDING
    assert {blocks.SEND, blocks.EDIT, blocks.SKIP} <= set(_actions(harness.card(draft)))
    assert world.sent_messages() == []
    harness.click(draft, blocks.EDIT, user="U0BOB")  # a second try opens it
    assert len(harness.slack.views()) == 1
