"""The approval loop over Socket Mode across dropped connections: no click lost, no reply sent twice."""

from __future__ import annotations

import json
import threading

import pytest
from slack_bolt import BoltRequest, BoltResponse

from slack import blocks
from standins.slack_requests import block_action_payload
from store import audit, drafts
from store.drafts import Draft
from tests.harness import SOCKET_WAIT, Harness
from tests.pending_card import PendingCard, post_pending_card

FLAGGED = "let's meet up irl this weekend 🍸"


@pytest.fixture
def slack_mode() -> str:
    return "socket"


def _sent(harness: Harness, fan: dict) -> list[str]:
    return [m["text"] for m in harness.sandbox.world.sent_messages(fan["uuid"])]


def _actions(harness: Harness, draft: Draft) -> list[str]:
    return [row["action"] for row in audit.for_draft(harness.store.db, draft.id)]


def _click_payload(harness: Harness, draft: Draft, action_id: str, user: str = "U0ALICE") -> dict:
    """The block_actions payload of a click on the card as it stands, as an envelope carries it."""
    msg = harness.card(draft)
    button = next(e for b in msg.blocks for e in b.get("elements", []) if e.get("action_id") == action_id)
    return block_action_payload(
        user_id=user,
        user_name=user.lower(),
        action_id=action_id,
        value=button["value"],
        channel_id=msg.channel,
        message_ts=msg.ts,
        message=msg.to_dict(),
        trigger_id=harness.slack.new_trigger_id(user),
        response_url=harness.slack.new_response_url(channel=msg.channel, message_ts=msg.ts, user=user),
        block_id="decide",
    )


def _redelivered(harness: Harness, envelope_id: str) -> None:
    """Delivered again with retry_attempt, and acknowledged (a slow machine may see a third delivery)."""
    summary = harness.socket.envelope(envelope_id)
    assert summary["deliveries"] >= 2 and summary["acked"], summary
    assert summary["retry_attempt"] == summary["deliveries"] - 1, summary


def _redelivery_acknowledged(harness: Harness) -> bool:
    return any(e.deliveries >= 2 and e.acked for e in harness.socket.envelopes.values())


def test_clicks_arrive_as_envelopes_and_the_app_serves_no_http(pending_card: PendingCard):
    harness, fan, draft = pending_card
    assert harness.server is None and harness.url is None
    response = harness.click(draft, blocks.SEND)
    assert response.status_code == 200 and response.ack == {"envelope_id": response.envelope_id}
    assert harness.socket.envelope(response.envelope_id)["deliveries"] == 1
    assert _sent(harness, fan) == [draft.draft_text]


def test_a_send_whose_ack_was_lost_is_redelivered_and_sent_once(pending_card: PendingCard):
    harness, fan, draft = pending_card
    response = harness.click(draft, blocks.SEND, lose_ack=True)
    assert harness.socket.lost_acks == 1 and harness.socket.connects >= 2  # the app reconnected
    _redelivered(harness, response.envelope_id)
    assert _sent(harness, fan) == [draft.draft_text]
    assert harness.draft_for(fan["uuid"]).status == drafts.SENT
    assert _actions(harness, draft).count("sent") == 1
    assert "Sent by <@U0ALICE>" in json.dumps(harness.card(draft).blocks)


def test_a_redelivery_while_the_send_is_still_in_flight_sends_nothing_more(pending_card: PendingCard):
    harness, fan, draft = pending_card
    real_send = harness.fanvue.send_message

    def send_once_the_redelivery_was_answered(*args, **kwargs):
        harness.socket.wait_until(lambda: _redelivery_acknowledged(harness), SOCKET_WAIT, "the redelivery")
        return real_send(*args, **kwargs)

    harness.fanvue.send_message = send_once_the_redelivery_was_answered
    response = harness.click(draft, blocks.SEND, lose_ack=True)
    _redelivered(harness, response.envelope_id)
    assert _sent(harness, fan) == [draft.draft_text]
    assert harness.draft_for(fan["uuid"]).status == drafts.SENT


def test_a_connection_dropped_while_the_app_handles_a_click_loses_nothing(pending_card: PendingCard):
    """The connection breaks after the app received the click and before its acknowledgement went out."""
    harness, fan, draft = pending_card
    dropped = threading.Event()

    def drop_once(req: BoltRequest, resp: BoltResponse, next):
        # Runs after the app took the click as new; the redelivery is handled while this one waits.
        if not dropped.is_set():
            dropped.set()
            socket = harness.socket
            socket.drop_connections()
            socket.wait_until(
                lambda: any(e.deliveries >= 2 for e in socket.envelopes.values()), SOCKET_WAIT, "redelivery"
            )
        return next()

    harness.bolt.use(drop_once)
    response = harness.click(draft, blocks.SEND)
    assert dropped.is_set()
    _redelivered(harness, response.envelope_id)
    assert _sent(harness, fan) == [draft.draft_text]
    assert _actions(harness, draft).count("sent") == 1


def test_an_edit_whose_ack_was_lost_sends_the_edited_text_once(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, blocks.EDIT, user="U0BOB")
    view = harness.slack.views()[-1]["view"]
    response = harness.submit_edit(view, "Thank you so much 💕", user="U0BOB", lose_ack=True)
    _redelivered(harness, response.envelope_id)
    assert _sent(harness, fan) == ["Thank you so much 💕"]
    assert _actions(harness, draft).count("edited-and-sent") == 1


def test_a_redelivered_send_after_fanvue_refused_it_does_not_send(pending_card: PendingCard):
    """Socket Mode's replay: the envelope again, with retry_attempt, is not a new click."""
    harness, fan, draft = pending_card
    world = harness.sandbox.world
    send_path = f"/chats/{fan['uuid']}/message"
    world.inject_fault("503", count=1, method="POST", path=send_path)
    response = harness.click(draft, blocks.SEND, lose_ack=True)
    _redelivered(harness, response.envelope_id)
    assert world.sent_messages() == [] and world.request_count(method="POST", path_prefix=send_path) == 1
    back = harness.draft_for(fan["uuid"])
    assert back.status == drafts.PENDING
    harness.click(back, blocks.SEND)  # a new click by the teammate sends, once
    assert _sent(harness, fan) == [draft.draft_text]


def test_a_redelivered_flagged_edit_is_not_the_teammates_confirmation(pending_card: PendingCard):
    harness, fan, draft = pending_card
    harness.click(draft, blocks.EDIT, user="U0BOB")
    view = harness.slack.views()[-1]["view"]
    response = harness.submit_edit(view, FLAGGED, user="U0BOB", lose_ack=True)
    _redelivered(harness, response.envelope_id)
    guardrail = [a for a in _actions(harness, draft) if a.startswith("guardrail")]
    assert guardrail == ["guardrail-warned"] and harness.sandbox.world.sent_messages() == []
    # Submitting the same text again (a new submission) is the confirmation.
    answer = harness.submit_edit(view, FLAGGED, user="U0BOB")
    assert answer.text in ("", "{}")
    assert _sent(harness, fan) == [FLAGGED]


def test_a_redelivery_reaching_another_process_is_not_acted_on(tmp_path, sandbox, slack):
    """Two processes on one database, each connected: the envelope may come back on either."""
    one = Harness(tmp_path / "shared.db", sandbox, slack, mode="socket")
    two = Harness(tmp_path / "shared.db", sandbox, slack, mode="socket")
    try:
        _, fan, draft = post_pending_card(one)
        response = one.click(draft, blocks.SEND, lose_ack=True)
        two.settle()
        _redelivered(one, response.envelope_id)
        assert _sent(one, fan) == [draft.draft_text]
        assert _actions(one, draft).count("sent") == 1
    finally:
        two.close()
        one.close()


def test_a_click_while_the_app_is_restarting_is_handled_by_the_new_process(tmp_path, sandbox, slack):
    before = Harness(tmp_path / "bridge.db", sandbox, slack, mode="socket")
    _, fan, draft = post_pending_card(before)
    payload = _click_payload(before, draft, blocks.SEND)
    before.close()
    assert slack.socket.connections == 0
    envelope = slack.socket.deliver_interactive(payload)  # Slack holds it until a connection opens
    after = Harness(tmp_path / "bridge.db", sandbox, slack, mode="socket")
    try:
        slack.socket.wait_ack(envelope, SOCKET_WAIT)
        after.settle()
        assert _sent(after, fan) == [draft.draft_text]
        assert after.draft_for(fan["uuid"]).status == drafts.SENT
    finally:
        after.close()
