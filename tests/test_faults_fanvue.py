"""Fanvue misbehaving: 429 storms, 5xx bursts, hangs, lost answers, expired tokens, chats that vanish."""

from __future__ import annotations

import json

import pytest

from drafting.template import TemplateDrafter
from fanvue import FanvueClient, StaticToken
from fanvue.errors import FanvueError
from inbox.services import Creator
from slack import blocks
from standins.fanvue import Sandbox
from store import audit, drafts
from tests.harness import Harness
from tests.pending_card import PendingCard, post_pending_card


def _card_text(msg) -> str:
    return json.dumps(msg.blocks, ensure_ascii=False)


def _actions(msg) -> list[str]:
    return [e["action_id"] for b in msg.blocks if b["type"] == "actions" for e in b["elements"]]


def _audit_actions(harness: Harness, draft_id: int) -> list[str]:
    return [row["action"] for row in audit.for_draft(harness.store.db, draft_id)]


def _waiting_fans(world) -> set[str]:
    """Fans whose chat is unread and whose last message is theirs: each should get exactly one card."""
    creator = world.creator["uuid"]
    return {
        f["uuid"]
        for f in world.fans()
        if not world.chat(f["uuid"])["isRead"]
        and (world.chat(f["uuid"])["lastMessage"] or {}).get("senderUuid") != creator
    }


def _carded_fans(harness: Harness) -> list[str]:
    return [r["fan_uuid"] for r in harness.store.db.query("SELECT fan_uuid FROM drafts WHERE ts IS NOT NULL")]


def _statuses(world, status: int) -> int:
    return sum(1 for r in world.requests if r.status == status)


def _use_client(harness: Harness, token_provider=None, sleeps: list[float] | None = None) -> FanvueClient:
    """Swap in a client whose sleeps are recorded (not slept) and whose token provider the test picks."""
    record = sleeps.append if sleeps is not None else (lambda _s: None)
    client = FanvueClient(
        harness.sandbox.url, token_provider or StaticToken(harness.sandbox.token), timeout=2.0, sleep=record
    )
    harness.fanvue.close()
    harness.fanvue = harness.svc.fanvue = client
    harness.svc.creator = Creator(client)
    return client


# --- 429 storms -------------------------------------------------------------------------------------------


def test_429_storm_slows_the_cycle_which_finishes_and_skips_no_chat(harness: Harness):
    world = harness.sandbox.world
    sleeps: list[float] = []
    _use_client(harness, sleeps=sleeps)
    expected = _waiting_fans(world)
    world.inject_fault("429", count=4, method="GET", path="/chats")
    world.inject_fault("429", count=4, method="POST", path="/chats/messages/batch")
    report = harness.cycle()
    assert _statuses(world, 429) == 8
    # Every 429 was waited out (Retry-After: 1) before the next request went.
    assert len([s for s in sleeps if s >= 0.9]) >= 8
    assert report.drafted == len(expected) and report.troubled == 0
    assert sorted(_carded_fans(harness)) == sorted(expected)
    assert len(harness.slack.messages()) == len(expected)


def test_429_storm_longer_than_the_retries_leaves_the_chats_for_the_next_cycle(harness: Harness):
    world = harness.sandbox.world
    _use_client(harness, sleeps=[])
    expected = _waiting_fans(world)
    world.inject_fault("429", count=6, method="POST", path="/chats/messages/batch")
    first = harness.cycle()
    assert first.drafted == 0 and first.troubled == len(expected)
    assert harness.slack.messages() == [] and world.sent_messages() == []
    second = harness.cycle()
    assert second.drafted == len(expected) and second.troubled == 0
    assert sorted(_carded_fans(harness)) == sorted(expected)
    harness.cycle()
    assert len(harness.slack.messages()) == len(expected)  # none doubled


# --- 5xx bursts -------------------------------------------------------------------------------------------


def test_5xx_bursts_on_reads_are_retried_and_the_cycle_completes(harness: Harness):
    world = harness.sandbox.world
    expected = _waiting_fans(world)
    world.inject_fault("500", count=3, method="GET", path="/chats")
    world.inject_fault("503", count=3, method="POST", path="/chats/messages/batch")
    report = harness.cycle()
    assert _statuses(world, 500) == 3 and _statuses(world, 503) == 3
    assert report.drafted == len(expected) and report.troubled == 0
    assert sorted(_carded_fans(harness)) == sorted(expected)


def test_5xx_burst_longer_than_the_retries_fails_the_cycle_and_the_next_one_catches_up(harness: Harness):
    world = harness.sandbox.world
    expected = _waiting_fans(world)
    world.inject_fault("500", count=4, method="GET", path="/chats")
    with pytest.raises(FanvueError):
        harness.cycle()
    assert harness.store.db["drafts"].count == 0 and harness.slack.messages() == []
    assert harness.cycle().drafted == len(expected)
    assert len(harness.slack.messages()) == len(expected)


def test_5xx_on_the_send_and_on_its_check_leaves_the_card_checking_until_a_cycle_settles_it(
    pending_card: PendingCard,
):
    harness, fan, draft = pending_card
    world = harness.sandbox.world
    path = f"/chats/{fan['uuid']}/messages"
    real_send = harness.fanvue.send_message

    def send_then_break_the_check(*args, **kwargs):
        try:
            return real_send(*args, **kwargs)
        finally:
            # The send answered 503; every read that would tell whether it arrived fails too.
            world.inject_fault("500", count=4, method="GET", path=path)

    harness.fanvue.send_message = send_then_break_the_check
    world.inject_fault("503", count=1, method="POST", path=f"/chats/{fan['uuid']}/message")
    harness.click(draft, blocks.SEND)
    assert world.sent_messages() == []
    assert harness.draft_for(fan["uuid"]).status == drafts.UNKNOWN
    card = harness.card(draft)
    assert _actions(card) == [] and "Checking whether the reply reached Fanvue" in _card_text(card)
    harness.cycle()  # Fanvue answers again: the reply is not in the chat, so the card goes back to the team
    back = harness.draft_for(fan["uuid"])
    assert back.status == drafts.PENDING and "not delivered" in back.error
    card = harness.card(draft)
    assert {blocks.SEND, blocks.EDIT, blocks.SKIP} <= set(_actions(card)) and "not delivered" in _card_text(
        card
    )
    harness.click(draft, blocks.SEND)
    assert [m["text"] for m in world.sent_messages(fan["uuid"])] == [draft.draft_text]
    assert harness.draft_for(fan["uuid"]).status == drafts.SENT


# --- hangs past the timeout ---------------------------------------------------------------------------------


@pytest.fixture
def impatient(tmp_path, sandbox, slack):
    sandbox.hang_seconds = 1.5
    h = Harness(tmp_path / "bridge.db", sandbox, slack, fanvue_timeout=0.4)
    yield h
    h.close()


def test_a_read_that_hangs_past_the_timeout_is_retried(impatient: Harness):
    world = impatient.sandbox.world
    expected = _waiting_fans(world)
    world.inject_fault("hang", count=1, method="POST", path="/chats/messages/batch")
    report = impatient.cycle()
    assert world.request_count(method="POST", path_prefix="/chats/messages/batch") == 2
    assert report.drafted == len(expected) and report.troubled == 0


def test_a_send_that_hangs_and_never_arrived_goes_back_to_the_team(impatient: Harness):
    _, fan, draft = post_pending_card(impatient)
    world = impatient.sandbox.world
    world.inject_fault("hang", count=1, method="POST", path=f"/chats/{fan['uuid']}/message")
    impatient.click(draft, blocks.SEND)
    assert world.sent_messages() == []
    back = impatient.draft_for(fan["uuid"])
    assert back.status == drafts.PENDING and "not delivered" in back.error
    assert _audit_actions(impatient, draft.id)[-3:] == ["claimed", "unknown", "send-failed"]
    card = impatient.card(draft)
    assert {blocks.SEND, blocks.EDIT, blocks.SKIP} <= set(_actions(card)) and "⚠️" in _card_text(card)
    impatient.click(draft, blocks.SEND)
    assert len(world.sent_messages(fan["uuid"])) == 1


# --- a send stored whose answer is lost -----------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["drop_response", "store_then_hang"])
def test_a_send_stored_whose_answer_is_lost_is_reconciled_as_sent_once(impatient: Harness, fault: str):
    _, fan, draft = post_pending_card(impatient)
    world = impatient.sandbox.world
    old_card = impatient.card(draft)
    world.inject_fault(fault, count=1, method="POST", path=f"/chats/{fan['uuid']}/message")
    impatient.click(draft, blocks.SEND, user="U0ALICE")
    sent = world.sent_messages(fan["uuid"])
    assert [m["text"] for m in sent] == [draft.draft_text]
    final = impatient.draft_for(fan["uuid"])
    assert final.status == drafts.SENT and final.fanvue_message_uuid == sent[0]["uuid"]
    reconciled = [r for r in audit.for_draft(impatient.store.db, draft.id) if r["action"] == "sent"]
    assert reconciled[0]["details"]["reconciled"] is True
    card = impatient.card(draft)
    assert "Sent by <@U0ALICE>" in _card_text(card) and _actions(card) == []
    impatient.click(draft, blocks.SEND, user="U0BOB", message=old_card)  # a teammate's stale view
    impatient.cycle()
    assert len(world.sent_messages(fan["uuid"])) == 1
    assert any("Already sent by <@U0ALICE>" in t for t in impatient.ephemerals("U0BOB"))


# --- a token expiring mid-cycle ------------------------------------------------------------------------------


class _ExpiresAtFirstDraft:
    """A drafter that lets the access token expire once the first batch of histories is in."""

    def __init__(self, world):
        self.world = world
        self.inner = TemplateDrafter()
        self.expired = False

    def draft(self, conversation):
        if not self.expired:
            self.expired = True
            self.world.expire_tokens()
        return self.inner.draft(conversation)


class _RefreshingToken:
    """Stands for the OAuth provider: a 401 yields a new token that the sandbox then accepts."""

    def __init__(self, world, first: str):
        self.world = world
        self.current = first
        self.refreshes = 0

    def __call__(self, stale: str | None = None) -> str:
        if stale is not None and stale == self.current:
            self.refreshes += 1
            self.current = f"refreshed-{self.refreshes}"
            self.world.add_token(self.current)
        return self.current


@pytest.fixture
def busy(tmp_path, slack):
    """More than one batch of chats to read, so a cycle has a middle."""
    with Sandbox(fans=100, seed=11) as sb:
        h = Harness(tmp_path / "bridge.db", sb, slack)
        yield h
        h.close()


def test_a_token_expiring_mid_cycle_is_refreshed_and_no_chat_is_skipped(busy: Harness):
    world = busy.sandbox.world
    expected = _waiting_fans(world)
    assert len(expected) > 50
    provider = _RefreshingToken(world, busy.sandbox.token)
    _use_client(busy, token_provider=provider)
    busy.svc.drafter = _ExpiresAtFirstDraft(world)
    report = busy.cycle(max_posts=200)
    assert provider.refreshes == 1
    refused = [r for r in world.requests if r.status == 401]
    assert len(refused) == 1 and refused[0].path == "/chats/messages/batch"
    assert report.drafted == len(expected) and report.troubled == 0
    assert sorted(_carded_fans(busy)) == sorted(expected)


def test_a_token_expiring_mid_cycle_without_refresh_defers_the_rest_to_the_next_cycle(busy: Harness):
    world = busy.sandbox.world
    expected = _waiting_fans(world)
    busy.svc.drafter = _ExpiresAtFirstDraft(world)
    first = busy.cycle(max_posts=200)
    assert first.drafted == 50 and first.troubled == len(expected) - 50
    # Posting needs no Fanvue token: the drafts made before the expiry have their cards.
    assert len(busy.slack.messages()) == 50
    world.add_token(busy.sandbox.token)  # the creator logs in again
    second = busy.cycle(max_posts=200)
    assert second.drafted == len(expected) - 50 and second.troubled == 0
    assert sorted(_carded_fans(busy)) == sorted(expected)
    assert len(busy.slack.messages()) == len(expected)


# --- the chat vanishing between card and click ---------------------------------------------------------------


def test_chat_vanishing_before_the_click_sends_nothing_and_the_card_says_why(pending_card: PendingCard):
    harness, fan, draft = pending_card
    world = harness.sandbox.world
    world.remove_chat(fan["uuid"])
    harness.click(draft, blocks.SEND, user="U0ALICE")
    assert world.sent_messages() == []
    assert world.request_count(method="POST", path_prefix=f"/chats/{fan['uuid']}/message") == 0
    back = harness.draft_for(fan["uuid"])
    assert back.status == drafts.FAILED and "no longer exists" in back.error
    card = harness.card(draft)
    assert "no longer exists" in _card_text(card) and _actions(card) == []
    assert any("nothing was sent" in t for t in harness.ephemerals("U0ALICE"))
    harness.cycle()  # the vanished chat neither breaks the cycle nor gets a second card
    assert harness.draft_for(fan["uuid"]).id == draft.id
    assert len([m for m in harness.slack.messages() if m.ts == draft.ts]) == 1


def test_chat_vanishing_between_the_check_and_the_send_sends_nothing(pending_card: PendingCard):
    harness, fan, draft = pending_card
    world = harness.sandbox.world
    real_read = harness.fanvue.messages

    def read_then_vanish(*args, **kwargs):
        history = real_read(*args, **kwargs)
        world.remove_chat(fan["uuid"])
        return history

    harness.fanvue.messages = read_then_vanish
    harness.click(draft, blocks.SEND)
    assert world.sent_messages() == []
    assert [r.status for r in world.requests if r.method == "POST" and r.path.endswith("/message")] == [404]
    back = harness.draft_for(fan["uuid"])
    assert back.status == drafts.FAILED and "no longer exists" in back.error
    assert _actions(harness.card(draft)) == []
