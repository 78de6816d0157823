"""The approval loop end to end: sandbox Fanvue, Slack stand-in, signed requests into Bolt over HTTP."""

from __future__ import annotations

import json
import threading
import time

import pytest
from slack_sdk.models.blocks import Block

from inbox.reconcile import reconcile_in_flight
from slack import blocks
from slack.attach_blocks import ATTACH, TEMPLATE
from slack.take_blocks import TAKE, TAKE_OVER
from standins.slack_requests import sign_request
from store import audit, drafts
from tests.harness import SECRET, Harness
from tests.pending_card import PendingCard, post_pending_card

pytestmark = pytest.mark.both_modes
SELL = [ATTACH, TEMPLATE]  # the card's selling buttons


def _actions(msg) -> list[str]:
    return [e["action_id"] for b in msg.blocks if b["type"] == "actions" for e in b["elements"]]


def _card_text(msg) -> str:
    return json.dumps(msg.blocks, ensure_ascii=False)


def _audit_actions(harness: Harness, draft_id: int) -> list[str]:
    return [row["action"] for row in audit.for_draft(harness.store.db, draft_id)]


def test_cycle_posts_one_card_per_unread_fan_chat(harness: Harness):
    report = harness.cycle()
    world = harness.sandbox.world
    creator = world.creator["uuid"]
    expected = {
        f["uuid"]
        for f in world.fans()
        if not world.chat(f["uuid"])["isRead"]
        and (world.chat(f["uuid"])["lastMessage"] or {}).get("senderUuid") != creator
    }
    posted = harness.slack.messages("C0CARDS")
    assert report.drafted == len(expected) == len(posted) == report.cards.posted
    assert {harness.draft_for(u).ts for u in expected} == {m.ts for m in posted}
    for msg in posted:
        assert _actions(msg) == [
            blocks.SEND,
            blocks.EDIT,
            blocks.REGENERATE,
            blocks.SKIP,
            blocks.NOTE,
            *SELL,
            TAKE,
        ]
        assert msg.text  # the notification fallback
        for block in msg.blocks:
            Block.parse(block).to_dict()  # slack_sdk validates Block Kit limits when serialising
    # Reading history never marked a chat read.
    assert all(not world.chat(u)["isRead"] for u in expected)


def test_send_delivers_the_draft_once_and_the_card_says_who(pending_card: PendingCard):
    harness, fan, draft = pending_card
    response = harness.click(draft, blocks.SEND, user="U0ALICE")
    assert response.status_code == 200
    sent = harness.sandbox.world.sent_messages(fan["uuid"])
    assert [m["text"] for m in sent] == [draft.draft_text]
    done = harness.draft_for(fan["uuid"])
    assert done.status == drafts.SENT and done.fanvue_message_uuid == sent[0]["uuid"]
    card = harness.card(draft)
    assert _actions(card) == []
    assert "Sent by <@U0ALICE>" in _card_text(card)
    assert _audit_actions(harness, draft.id) == ["drafted", "posted", "claimed", "sent"]


def test_double_click_and_two_teammates_send_exactly_once(pending_card: PendingCard):
    harness, fan, draft = pending_card
    card = harness.card(draft)
    harness.sandbox.world.set_latency(150)  # keep the first send in flight while the others arrive
    users = ["U0ALICE", "U0ALICE", "U0BOB", "U0CAROL"]
    threads = [
        threading.Thread(
            target=harness.click, args=(draft, blocks.SEND, u), kwargs={"wait": False, "message": card}
        )
        for u in users
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    harness.settle()
    assert len(harness.sandbox.world.sent_messages(fan["uuid"])) == 1
    assert harness.draft_for(fan["uuid"]).status == drafts.SENT
    told = harness.ephemerals()
    assert len(told) == 3
    assert all("sent by" in t.lower() or "sending this reply" in t for t in told)


def test_send_racing_skip_has_one_winner(pending_card: PendingCard):
    harness, fan, draft = pending_card
    card = harness.card(draft)
    threads = [
        threading.Thread(
            target=harness.click, args=(draft, action, user), kwargs={"wait": False, "message": card}
        )
        for action, user in ((blocks.SEND, "U0ALICE"), (blocks.SKIP, "U0BOB"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    harness.settle()
    final = harness.draft_for(fan["uuid"])
    sent = harness.sandbox.world.sent_messages(fan["uuid"])
    assert final.status in (drafts.SENT, drafts.SKIPPED)
    assert len(sent) == (1 if final.status == drafts.SENT else 0)
    winner = "Sent by" if final.status == drafts.SENT else "Skipped by"
    assert winner in _card_text(harness.card(draft))
    assert len(harness.ephemerals()) == 1


def test_fan_wrote_again_before_the_click_sends_nothing_and_updates_the_card(pending_card: PendingCard):
    harness, fan, draft = pending_card
    old_card = harness.card(draft)
    newest = harness.sandbox.world.add_fan_message(fan["uuid"], "Wait, one more thing: are you there?")
    harness.click(draft, blocks.SEND, user="U0ALICE")
    assert harness.sandbox.world.sent_messages(fan["uuid"]) == []
    updated = harness.draft_for(fan["uuid"])
    assert updated.status == drafts.PENDING and updated.version == 2
    assert updated.fan_message_uuid == newest["uuid"]
    card = harness.card(draft)
    assert "are you there?" in _card_text(card) and card.updates >= 1
    assert any("wrote again" in t for t in harness.ephemerals("U0ALICE"))
    # The old card's buttons carry version 1: a click on them is refused, nothing is sent.
    harness.click(draft, blocks.SEND, user="U0BOB", message=old_card)
    assert harness.sandbox.world.sent_messages(fan["uuid"]) == []
    assert any("updated since you saw it" in t for t in harness.ephemerals("U0BOB"))
    # The new card sends the new draft.
    harness.click(draft, blocks.SEND, user="U0BOB")
    assert [m["text"] for m in harness.sandbox.world.sent_messages(fan["uuid"])] == [updated.draft_text]


def test_fan_who_cannot_be_messaged_fails_and_the_card_says_why(harness: Harness):
    harness.cycle()
    fan = next(f for f in harness.sandbox.world.fans() if "blocked" in f["handle"])
    draft = harness.draft_for(fan["uuid"])
    harness.click(draft, blocks.SEND)
    assert harness.sandbox.world.sent_messages(fan["uuid"]) == []
    failed = harness.draft_for(fan["uuid"])
    assert failed.status == drafts.FAILED and "refused" in failed.error
    card = harness.card(draft)
    assert _actions(card) == [] and "Not sent" in _card_text(card)
    assert "failed" in _audit_actions(harness, draft.id)


def test_ambiguous_send_that_arrived_is_recorded_as_sent_without_a_second_send(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.sandbox.world.inject_fault("drop_response", count=1, method="POST", path="/message")
    harness.click(draft, blocks.SEND)
    assert len(harness.sandbox.world.sent_messages(fan["uuid"])) == 1
    final = harness.draft_for(fan["uuid"])
    assert final.status == drafts.SENT
    assert final.fanvue_message_uuid == harness.sandbox.world.sent_messages(fan["uuid"])[0]["uuid"]
    assert ["unknown", "sent"] == [a for a in _audit_actions(harness, draft.id) if a in ("unknown", "sent")]


def test_ambiguous_send_that_did_not_arrive_goes_back_to_the_team(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.sandbox.world.inject_fault("500", count=1, method="POST", path="/message")
    harness.click(draft, blocks.SEND)
    assert harness.sandbox.world.sent_messages(fan["uuid"]) == []
    back = harness.draft_for(fan["uuid"])
    assert back.status == drafts.PENDING and back.error
    card = harness.card(draft)
    assert _actions(card) == [
        blocks.SEND,
        blocks.EDIT,
        blocks.REGENERATE,
        blocks.SKIP,
        blocks.NOTE,
        *SELL,
        TAKE,
    ] and "⚠️" in _card_text(card)
    harness.click(draft, blocks.SEND)
    assert len(harness.sandbox.world.sent_messages(fan["uuid"])) == 1


def test_restart_settles_drafts_a_crash_left_in_sending(harness: Harness):
    harness.cycle()
    world = harness.sandbox.world
    fan_a = harness.unread_fan_with_text()
    fan_b = next(
        f
        for f in world.fans()
        if f["uuid"] != fan_a["uuid"] and "blocked" not in f["handle"] and _has_pending(harness, f["uuid"])
    )
    a, b = harness.draft_for(fan_a["uuid"]), harness.draft_for(fan_b["uuid"])
    # Crash after the claim, before the send (a); crash after the send, before recording it (b).
    assert drafts.claim_for_send(harness.store.db, a, a.version, "U0ALICE", a.draft_text)
    assert drafts.claim_for_send(harness.store.db, b, b.version, "U0BOB", b.draft_text)
    harness.fanvue.send_message(fan_b["uuid"], b.draft_text)
    assert reconcile_in_flight(harness.svc, (drafts.SENDING, drafts.UNKNOWN)) == 2
    assert harness.draft_for(fan_a["uuid"]).status == drafts.PENDING
    assert harness.draft_for(fan_b["uuid"]).status == drafts.SENT
    assert world.sent_messages(fan_a["uuid"]) == [] and len(world.sent_messages(fan_b["uuid"])) == 1
    assert "Sent by <@U0BOB>" in _card_text(harness.card(b))


def _has_pending(harness: Harness, fan_uuid: str) -> bool:
    rows = list(
        harness.store.db.query("SELECT 1 FROM drafts WHERE fan_uuid = ? AND status = 'pending'", [fan_uuid])
    )
    return bool(rows)


@pytest.mark.http_only
def test_forged_and_stale_signatures_get_401_and_change_nothing(pending_card: PendingCard):
    harness, fan, draft = pending_card
    card = harness.card(draft)
    body = f"payload={json.dumps({'type': 'block_actions'})}"
    forged = harness.post(body, headers=sign_request("not-the-secret", body))
    stale = harness.post(body, headers=sign_request(SECRET, body, timestamp=int(time.time()) - 600))
    assert forged.status_code == 401 and stale.status_code == 401
    harness.settle()
    assert harness.sandbox.world.sent_messages() == []
    assert harness.draft_for(fan["uuid"]).status == drafts.PENDING
    assert harness.slack.message(card.channel, card.ts).updates == 0


def test_only_approvers_may_decide(tmp_path, sandbox, slack, slack_mode):
    harness = Harness(
        tmp_path / "bridge.db", sandbox, slack, approvers=frozenset({"U0BOSS"}), mode=slack_mode
    )
    try:
        _, fan, draft = post_pending_card(harness)
        harness.click(draft, blocks.SEND, user="U0INTERN")
        harness.click(draft, blocks.SKIP, user="U0INTERN")
        assert sandbox.world.sent_messages() == []
        assert harness.draft_for(fan["uuid"]).status == drafts.PENDING
        assert len([t for t in harness.ephemerals("U0INTERN") if "approvers" in t]) == 2
        denied = [r for r in audit.for_draft(harness.store.db, draft.id) if r["action"] == "denied"]
        assert [r["actor"] for r in denied] == ["U0INTERN", "U0INTERN"]
        harness.click(draft, blocks.SEND, user="U0BOSS")
        assert len(sandbox.world.sent_messages(fan["uuid"])) == 1
    finally:
        harness.close()


def test_edit_opens_a_modal_and_sends_the_edited_text(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, blocks.EDIT, user="U0BOB")
    opened = harness.slack.views()
    assert len(opened) == 1
    view = opened[0]["view"]
    field = view["blocks"][1]["element"]
    assert field["initial_value"] == draft.draft_text and field["max_length"] == 3000
    response = harness.submit_edit(view, "  Thank you, that means a lot! 💕  ", user="U0BOB")
    assert response.status_code == 200 and response.text in ("", "{}")
    assert [m["text"] for m in harness.sandbox.world.sent_messages(fan["uuid"])] == [
        "Thank you, that means a lot! 💕"
    ]
    row = [r for r in audit.for_draft(harness.store.db, draft.id) if r["action"] == "edited-and-sent"][0]
    assert row["details"]["draft"] == draft.draft_text
    assert row["details"]["text"] == "Thank you, that means a lot! 💕"
    assert row["actor"] == "U0BOB"


def test_empty_edit_shows_an_error_in_the_modal_and_sends_nothing(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, blocks.EDIT)
    view = harness.slack.views()[0]["view"]
    for text in ("", "   \n\t "):
        response = harness.submit_edit(view, text)
        answer = response.json()
        assert answer["response_action"] == "errors" and blocks.EDIT_BLOCK in answer["errors"]
    assert harness.sandbox.world.sent_messages() == []
    assert harness.draft_for(fan["uuid"]).status == drafts.PENDING


def test_edit_submitted_after_someone_else_sent_is_refused_in_the_modal(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, blocks.EDIT, user="U0BOB")
    view = harness.slack.views()[0]["view"]
    harness.click(draft, TAKE_OVER, user="U0ALICE")  # opening the editor took the card for Bob
    harness.click(draft, blocks.SEND, user="U0ALICE")
    answer = harness.submit_edit(view, "My own words", user="U0BOB").json()
    assert "Already sent by <@U0ALICE>" in answer["errors"][blocks.EDIT_BLOCK]
    assert [m["text"] for m in harness.sandbox.world.sent_messages(fan["uuid"])] == [draft.draft_text]


def test_skip_leaves_the_chat_unread_and_the_next_fan_message_gets_a_new_card(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, blocks.SKIP, user="U0CAROL")
    assert harness.draft_for(fan["uuid"]).status == drafts.SKIPPED
    assert "Skipped by <@U0CAROL>" in _card_text(harness.card(draft))
    assert harness.sandbox.world.chat(fan["uuid"])["isRead"] is False
    posts_before = len(harness.slack.messages())
    harness.cycle()
    assert len(harness.slack.messages()) == posts_before  # a skipped message never gets a second card
    harness.sandbox.world.add_fan_message(fan["uuid"], "Hello again!")
    harness.cycle()
    assert len(harness.slack.messages()) == posts_before + 1
    assert harness.draft_for(fan["uuid"]).id != draft.id


def test_second_poll_posts_nothing_and_reads_no_history(harness: Harness):
    harness.cycle()
    posts = len(harness.slack.messages())
    harness.sandbox.world.clear_requests()
    report = harness.cycle()
    assert report.drafted == 0 and report.known == report.unread_chats  # every chat unchanged
    assert len(harness.slack.messages()) == posts
    world = harness.sandbox.world
    assert world.request_count(method="POST", path_prefix="/chats/messages/batch") == 0
    assert len([r for r in world.requests if r.path.endswith("/messages")]) == 0


@pytest.mark.run_once
def test_slack_unreachable_during_a_cycle_posts_the_cards_on_the_next(harness: Harness):
    harness.slack.set_down(True)
    report = harness.cycle()
    assert report.drafted > 0 and report.cards.posted == 0
    harness.slack.set_down(False)
    assert harness.slack.messages() == []
    report = harness.cycle()
    assert report.drafted == 0 and report.cards.posted == len(harness.slack.messages()) > 0
    harness.cycle()
    assert len(harness.slack.messages()) == report.cards.posted  # none doubled


def test_cards_are_capped_per_cycle_oldest_wait_first(harness: Harness):
    first = harness.cycle(max_posts=2)
    assert first.cards.posted == 2 and first.cards.deferred == first.drafted - 2
    rows = list(harness.store.db.query("SELECT ts, waiting_since FROM drafts ORDER BY waiting_since"))
    assert [r["ts"] is not None for r in rows][:2] == [True, True]
    assert all(r["ts"] is None for r in rows[2:])
    harness.cycle(max_posts=30)
    assert len(harness.slack.messages()) == first.drafted


def test_creator_answering_in_fanvue_supersedes_the_card(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.sandbox.world.add_creator_message(fan["uuid"], "Answered from my phone!")
    report = harness.cycle()
    assert report.superseded == 1
    assert harness.draft_for(fan["uuid"]).status == drafts.SUPERSEDED
    card = harness.card(draft)
    assert _actions(card) == [] and "Answered in Fanvue" in _card_text(card)


def test_pending_card_is_updated_when_the_fan_writes_again(pending_card: PendingCard):
    harness, fan, draft = pending_card
    posts = len(harness.slack.messages())
    harness.sandbox.world.add_fan_message(fan["uuid"], "did you see my last message??")
    report = harness.cycle()
    assert report.redrafted == 1 and len(harness.slack.messages()) == posts
    updated = harness.draft_for(fan["uuid"])
    assert updated.id == draft.id and updated.version == 2
    card = harness.card(draft)
    assert "did you see my last message??" in _card_text(card)
    assert blocks.parse_button_value(card.blocks[-1]["elements"][0]["value"]) == (draft.id, 2)


def test_one_troubled_chat_does_not_stop_the_cycle(harness: Harness):
    world = harness.sandbox.world
    fan = harness.unread_fan_with_text()
    world.set_batch_error(fan["uuid"], "not_found")
    report = harness.cycle()
    assert report.troubled == 1 and report.drafted >= 1
    world.set_batch_error(fan["uuid"], None)
    assert harness.cycle().drafted == 1


def test_slack_rate_limit_on_update_is_waited_out(pending_card: PendingCard):
    harness, _, draft = pending_card
    harness.slack.fail("chat.update", error="ratelimited", count=1, retry_after=0)
    harness.click(draft, blocks.SKIP)
    assert "Skipped by" in _card_text(harness.card(draft))
    assert len(harness.slack.calls("chat.update")) == 2


def test_a_button_value_that_is_not_ours_changes_nothing(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, blocks.SEND, value="drop table drafts")
    harness.click(draft, blocks.SEND, value="99999:1")
    assert harness.sandbox.world.sent_messages() == []
    assert harness.draft_for(fan["uuid"]).status == drafts.PENDING
    assert len(harness.ephemerals()) == 2


def test_a_card_slack_refuses_does_not_hold_back_the_others(harness: Harness):
    harness.slack.fail("chat.postMessage", error="invalid_blocks", count=1)
    report = harness.cycle()
    assert report.cards.failed == 1 and report.cards.posted == report.drafted - 1
    again = harness.cycle()
    assert again.cards.posted == 1
    assert len(harness.slack.messages()) == report.drafted


def test_fanvue_down_at_the_click_puts_the_card_back_with_the_reason(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.svc.creator._me = None  # as after a restart: the creator's account is read again
    harness.sandbox.world.inject_fault("500", count=20)
    harness.click(draft, blocks.SEND)
    back = harness.draft_for(fan["uuid"])
    assert back.status == drafts.PENDING and "nothing was sent" in back.error
    assert harness.sandbox.world.sent_messages() == []
    assert any("nothing was sent" in t for t in harness.ephemerals())


def test_an_internal_error_mid_send_leaves_no_card_stuck_in_sending(pending_card: PendingCard):
    harness, fan, draft = pending_card

    class BrokenDrafter:
        def draft(self, conversation):
            raise RuntimeError("drafter broke")

    harness.svc.drafter = BrokenDrafter()
    harness.sandbox.world.add_fan_message(fan["uuid"], "one more")  # the send path must redraft
    harness.click(draft, blocks.SEND)
    assert harness.draft_for(fan["uuid"]).status == drafts.UNKNOWN
    assert harness.sandbox.world.sent_messages() == []
    reconcile_in_flight(harness.svc)
    assert harness.draft_for(fan["uuid"]).status == drafts.PENDING


def test_a_cycle_settles_a_send_stuck_in_sending_only_once_it_is_old(pending_card: PendingCard):
    harness, fan, draft = pending_card
    assert drafts.claim_for_send(harness.store.db, draft, draft.version, "U0ALICE", draft.draft_text)
    harness.cycle()
    assert harness.draft_for(fan["uuid"]).status == drafts.SENDING  # may be another process's send in flight
    harness.store.db.execute(
        "UPDATE drafts SET decided_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", [draft.id]
    )
    harness.cycle()
    assert harness.draft_for(fan["uuid"]).status == drafts.PENDING
    assert harness.sandbox.world.sent_messages() == []


def test_a_click_is_served_when_slack_api_is_away_at_the_first_request(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.slack.set_down(True)  # auth.test, the card update and the reply to the clicker all fail
    response = harness.click(draft, blocks.SEND)
    harness.slack.set_down(False)
    assert response.status_code == 200
    assert len(harness.sandbox.world.sent_messages(fan["uuid"])) == 1
    assert "Sent by" not in _card_text(harness.card(draft))
    harness.cycle()  # the card catches up once Slack is back
    assert "Sent by" in _card_text(harness.card(draft))


def test_a_server_without_the_batch_endpoint_is_read_chat_by_chat(harness: Harness):
    world = harness.sandbox.world
    world.inject_fault("404", count=1, method="POST", path="/chats/messages/batch")
    report = harness.cycle()
    assert report.drafted > 0 and report.troubled == 0
    reads = [r for r in world.requests if r.method == "GET" and r.path.endswith("/messages")]
    assert len(reads) == report.drafted
    assert all(r.query.get("markAsRead") == "false" for r in reads)
    assert all(
        not world.chat(d.fan_uuid)["isRead"] for d in drafts.with_status(harness.store.db, drafts.PENDING)
    )


def test_without_a_response_url_the_clicker_is_told_in_an_ephemeral_message(pending_card: PendingCard):
    harness, _, draft = pending_card
    card = harness.card(draft)
    harness.click(draft, blocks.SKIP, user="U0ALICE")
    harness.click(draft, blocks.SEND, user="U0BOB", response_url="", message=card)
    assert harness.slack.responses() == []
    told = [e for e in harness.slack.ephemerals("U0BOB") if e.get("via") == "chat.postEphemeral"]
    assert len(told) == 1 and "Already skipped by <@U0ALICE>" in told[0]["text"]
    assert harness.sandbox.world.sent_messages() == []


def test_a_broadcast_is_no_answer_the_card_stays_and_send_still_sends(pending_card: PendingCard):
    harness, fan, draft = pending_card
    world = harness.sandbox.world
    world.add_creator_message(fan["uuid"], "New set out now for everyone! 🔥", message_type="BROADCAST")
    world.clear_requests()
    report = harness.cycle()
    assert report.superseded == 0 and harness.draft_for(fan["uuid"]).status == drafts.PENDING
    assert report.troubled == 0 and harness.draft_for(fan["uuid"]).version == draft.version
    harness.cycle()  # once handled, the unchanged chat is not read again
    assert len([r for r in world.requests if r.path == "/chats/messages/batch"]) == 1
    harness.click(draft, blocks.SEND)
    assert [m["text"] for m in world.sent_messages(fan["uuid"])] == [draft.draft_text]


def test_an_unread_chat_ending_in_a_broadcast_gets_a_card_for_the_fans_message(harness: Harness):
    world = harness.sandbox.world
    fan = harness.unread_fan_with_text()
    waiting = world.add_fan_message(fan["uuid"], "are you there?")
    world.add_creator_message(
        fan["uuid"], "Weekend sale on all sets!", message_type="AUTOMATED_NEW_SUBSCRIBER"
    )
    harness.cycle()
    draft = harness.draft_for(fan["uuid"])
    assert draft.status == drafts.PENDING and draft.fan_message_uuid == waiting["uuid"]
    posts = len(harness.slack.messages())
    world.clear_requests()
    report = harness.cycle()
    assert report.drafted == 0 and len(harness.slack.messages()) == posts
    assert world.request_count(method="POST", path_prefix="/chats/messages/batch") == 0


def test_a_send_whose_check_took_too_long_goes_back_to_the_team(harness: Harness, monkeypatch):
    from inbox import sending

    _, fan, draft = post_pending_card(harness)
    monkeypatch.setattr(sending, "CHECK_DEADLINE", 0.05)
    harness.sandbox.world.set_latency(120)  # the freshness read alone outlasts the deadline
    harness.click(draft, blocks.SEND)
    assert harness.sandbox.world.sent_messages() == []
    back = harness.draft_for(fan["uuid"])
    assert back.status == drafts.PENDING and "took too long" in back.error


def test_a_send_whose_claim_was_settled_meanwhile_does_not_go_out(pending_card: PendingCard):
    harness, _, draft = pending_card
    real_read = harness.fanvue.messages

    def read_while_the_cycle_settles_the_claim(*args, **kwargs):
        history = real_read(*args, **kwargs)
        current = drafts.get(harness.store.db, draft.id)
        drafts.finish(
            harness.store.db,
            current,
            to_status=drafts.PENDING,
            from_statuses=(drafts.SENDING,),
            action="send-failed",
            actor="scheduler",
            error="settled as stuck",
        )
        return history

    harness.fanvue.messages = read_while_the_cycle_settles_the_claim
    harness.click(draft, blocks.SEND)
    assert harness.sandbox.world.sent_messages() == []


def test_a_card_deleted_in_slack_is_posted_again_while_it_waits(pending_card: PendingCard):
    harness, fan, draft = pending_card
    posts = len(harness.slack.messages())
    harness.slack.fail("chat.update", error="message_not_found", count=1)
    harness.sandbox.world.add_fan_message(fan["uuid"], "hello??")
    harness.cycle()
    again = harness.draft_for(fan["uuid"])
    assert again.ts is not None and again.ts != draft.ts and len(harness.slack.messages()) == posts + 1
    assert "hello??" in _card_text(harness.card(again))
    assert [r["action"] for r in audit.for_draft(harness.store.db, draft.id)].count("posted") == 2


def test_a_decided_card_deleted_in_slack_is_not_retried_for_ever(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.slack.fail("chat.update", error="message_not_found", count=1)
    harness.click(draft, blocks.SKIP)
    assert harness.draft_for(fan["uuid"]).status == drafts.SKIPPED
    updates = len(harness.slack.calls("chat.update"))
    harness.cycle()
    harness.cycle()
    assert len(harness.slack.calls("chat.update")) == updates
    assert len(harness.slack.messages()) == len({m.ts for m in harness.slack.messages()})


def test_a_card_update_slack_refuses_does_not_break_the_click(pending_card: PendingCard):
    harness, fan, draft = pending_card
    card = harness.card(draft)
    harness.slack.fail("chat.update", error="invalid_blocks", count=1)
    harness.click(draft, blocks.SEND, user="U0ALICE", message=card)
    harness.click(draft, blocks.SEND, user="U0BOB", message=card)
    assert len(harness.sandbox.world.sent_messages(fan["uuid"])) == 1
    assert any("Already sent by <@U0ALICE>" in t for t in harness.ephemerals("U0BOB"))
    harness.cycle()
    assert "Sent by" in _card_text(harness.card(draft))


def test_an_unknown_send_to_a_chat_that_vanished_is_closed_not_left_spinning(pending_card: PendingCard):
    harness, fan, draft = pending_card
    world = harness.sandbox.world
    world.inject_fault("500", count=1, method="POST", path="/message")
    real_send = harness.fanvue.send_message

    def send_then_fanvue_stays_down(*args, **kwargs):
        world.inject_fault("500", count=10, method="GET", path=f"/chats/{fan['uuid']}/messages")
        return real_send(*args, **kwargs)

    harness.fanvue.send_message = send_then_fanvue_stays_down
    harness.click(draft, blocks.SEND)
    assert harness.draft_for(fan["uuid"]).status == drafts.UNKNOWN
    while world.faults.pending():  # the outage ends
        world.faults.take("GET", f"/chats/{fan['uuid']}/messages")
    harness.sandbox.world.remove_chat(fan["uuid"])
    harness.cycle()
    closed = harness.draft_for(fan["uuid"])
    assert closed.status == drafts.FAILED and "cannot be checked" in closed.error
    assert _actions(harness.card(draft)) == []
