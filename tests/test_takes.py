"""Taking a card over real HTTP: Take, refusals that name the taker, take over, Edit takes, lapsed takes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from slack_sdk.models.blocks import Block

from slack import blocks, command_blocks
from slack.take_blocks import TAKE, TAKE_OVER
from store import audit, clock, drafts, queries, report
from tests.harness import Harness
from tests.pending_card import PendingCard

pytestmark = pytest.mark.both_modes  # each Slack-facing test runs over HTTP and over Socket Mode


def _audit(harness: Harness, draft_id: int) -> list[dict]:
    return audit.for_draft(harness.store.db, draft_id)


def _sent(harness: Harness, fan: dict) -> list[str]:
    return [m["text"] for m in harness.sandbox.world.sent_messages(fan["uuid"])]


def _buttons(msg) -> dict[str, dict]:
    return {e["action_id"]: e for b in msg.blocks if b["type"] == "actions" for e in b["elements"]}


def test_take_assigns_the_card_and_the_card_says_who(pending_card: PendingCard):
    harness, _fan, draft = pending_card
    assert TAKE in _buttons(harness.card(draft))
    assert harness.click(draft, TAKE, user="U0ALICE").status_code == 200
    taken = drafts.get(harness.store.db, draft.id)
    assert taken.taker == "U0ALICE" and taken.taken_at and taken.status == drafts.PENDING
    card = harness.card(draft)
    assert "<@U0ALICE> has this card since <!date^" in json.dumps(card.blocks)
    assert TAKE_OVER in _buttons(card) and TAKE not in _buttons(card)
    assert "confirm" in _buttons(card)[TAKE_OVER]  # Slack asks before taking a card over
    for block in card.blocks:
        Block.parse(block).to_dict()  # slack_sdk validates Block Kit limits (the confirm dialog's too)
    [row] = [r for r in _audit(harness, draft.id) if r["action"] == "taken"]
    assert row["actor"] == "U0ALICE"


def test_another_teammates_send_is_refused_naming_the_taker(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, TAKE, user="U0ALICE")
    for action in (blocks.SEND, blocks.REGENERATE, blocks.EDIT):
        harness.click(draft, action, user="U0BOB")
    assert _sent(harness, fan) == []
    assert harness.slack.views() == []  # no editor opened for Bob
    told = harness.ephemerals("U0BOB")
    assert len(told) == 3 and all("<@U0ALICE> has this card" in t and "Take over" in t for t in told)
    current = drafts.get(harness.store.db, draft.id)
    assert current.status == drafts.PENDING and current.version == draft.version
    assert current.taker == "U0ALICE"


def test_take_over_is_audited_with_both_names_then_send_works(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, TAKE, user="U0ALICE")
    harness.click(draft, TAKE_OVER, user="U0BOB")
    assert drafts.get(harness.store.db, draft.id).taker == "U0BOB"
    [row] = [r for r in _audit(harness, draft.id) if r["action"] == "taken-over"]
    assert row["actor"] == "U0BOB" and row["details"]["from"] == "U0ALICE" and row["details"]["to"] == "U0BOB"
    harness.click(draft, blocks.SEND, user="U0ALICE")  # Alice no longer has it
    assert _sent(harness, fan) == []
    harness.click(draft, blocks.SEND, user="U0BOB")
    assert _sent(harness, fan) == [draft.draft_text]
    assert drafts.get(harness.store.db, draft.id).status == drafts.SENT


def test_the_taker_sends(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, TAKE, user="U0ALICE")
    harness.click(draft, blocks.SEND, user="U0ALICE")
    assert _sent(harness, fan) == [draft.draft_text]


def test_skip_keeps_its_rules_on_a_taken_card(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, TAKE, user="U0ALICE")
    harness.click(draft, blocks.SKIP, user="U0BOB")  # leaving the fan to the creator sends nothing
    assert drafts.get(harness.store.db, draft.id).status == drafts.SKIPPED
    assert _sent(harness, fan) == []


def test_edit_on_a_free_card_takes_it_and_an_edit_from_someone_else_is_refused(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, blocks.EDIT, user="U0ALICE")
    [opened] = harness.slack.views()
    assert drafts.get(harness.store.db, draft.id).taker == "U0ALICE"
    # Bob had opened the editor too (before Alice's take reached the card) and submits: refused in the modal.
    response = harness.submit_edit(opened["view"], "hello from bob", user="U0BOB")
    assert response.json()["response_action"] == "errors"
    assert "<@U0ALICE> has this card" in json.dumps(response.json())
    harness.submit_edit(opened["view"], "hello from alice", user="U0ALICE")
    assert _sent(harness, fan) == ["hello from alice"]


def test_a_take_nobody_acts_on_lapses_and_the_cycle_frees_the_card(
    pending_card: PendingCard, monkeypatch: pytest.MonkeyPatch
):
    harness, fan, draft = pending_card
    harness.click(draft, TAKE, user="U0ALICE")
    harness.cycle()
    assert drafts.get(harness.store.db, draft.id).taker == "U0ALICE"  # not yet
    later = clock.utcnow() + timedelta(minutes=harness.svc.take_minutes + 1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    harness.cycle()
    freed = drafts.get(harness.store.db, draft.id)
    assert freed.taker is None and freed.status == drafts.PENDING
    [row] = [r for r in _audit(harness, draft.id) if r["action"] == "released"]
    assert row["details"]["taker"] == "U0ALICE" and row["actor"] == audit.SCHEDULER
    card = json.dumps(harness.card(draft).blocks)
    assert "Free again" in card and "has this card" not in card
    harness.click(draft, blocks.SEND, user="U0BOB")
    assert _sent(harness, fan) == [draft.draft_text]


def test_the_takers_action_keeps_the_take_alive(pending_card: PendingCard, monkeypatch: pytest.MonkeyPatch):
    harness, _fan, draft = pending_card
    harness.click(draft, TAKE, user="U0ALICE")
    start = clock.utcnow()
    monkeypatch.setattr(clock, "utcnow", lambda: start + timedelta(minutes=harness.svc.take_minutes - 1))
    harness.click(draft, blocks.EDIT, user="U0ALICE")  # an action: the take runs from now
    monkeypatch.setattr(clock, "utcnow", lambda: start + timedelta(minutes=harness.svc.take_minutes + 1))
    harness.cycle()
    assert drafts.get(harness.store.db, draft.id).taker == "U0ALICE"


def test_a_new_version_keeps_the_taker(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, TAKE, user="U0ALICE")
    harness.sandbox.world.add_fan_message(fan["uuid"], "are you there?")
    harness.cycle()
    updated = drafts.get(harness.store.db, draft.id)
    assert updated.version == draft.version + 1 and updated.taker == "U0ALICE"
    assert "<@U0ALICE> has this card" in json.dumps(harness.card(draft).blocks)
    harness.click(updated, blocks.SEND, user="U0BOB")
    assert _sent(harness, fan) == []
    assert "<@U0ALICE> has this card" in harness.ephemerals("U0BOB")[-1]


def test_stats_give_each_teammate_median_times_to_take_and_to_decide(
    pending_card: PendingCard, monkeypatch: pytest.MonkeyPatch
):
    harness, fan, draft = pending_card
    [posted] = [r for r in _audit(harness, draft.id) if r["action"] == "posted"]
    at = clock.from_iso(posted["at"])
    monkeypatch.setattr(clock, "utcnow", lambda: at + timedelta(seconds=90))
    harness.click(draft, TAKE, user="U0ALICE")
    monkeypatch.setattr(clock, "utcnow", lambda: at + timedelta(seconds=90 + 240))
    harness.click(draft, blocks.SEND, user="U0ALICE")
    assert _sent(harness, fan) == [draft.draft_text]
    team = queries.decision_stats(harness.store.db, clock.to_iso(at - timedelta(hours=1)))
    [alice] = team.teammates
    assert (alice.actor, alice.sent, alice.median_to_take_seconds, alice.median_take_to_decision_seconds) == (
        "U0ALICE",
        1,
        90.0,
        240.0,
    )
    text = report.stats_text(team, "csv").splitlines()
    assert text == [
        "actor,sent,edited,skipped,median_to_take_s,median_take_to_decision_s,sla_on_time,sla_replies",
        "U0ALICE,1,0,0,90.0,240.0,1,1",
    ]
    answer = command_blocks.stats(team, "1h")
    assert "took cards 1 min 30 s after they were posted and decided 4 min after taking (medians)" in str(
        answer
    )
