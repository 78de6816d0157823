"""A replayed or retried Slack request is acknowledged and acts no more: over HTTP, across processes, in Socket Mode."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from slack_bolt import BoltRequest

from slack import blocks
from standins.slack_requests import block_action_body, sign_request, view_submission_body
from store import audit, drafts, seen
from store.clock import utcnow
from tests.harness import SECRET, Harness

# Replays of signed HTTP requests are HTTP-only; their Socket Mode counterpart (an envelope delivered again
# with retry_attempt) is in test_socket_loop.py.
pytestmark = pytest.mark.both_modes

FLAGGED = "let's meet up irl this weekend 🍸"


def _send_body(harness: Harness, draft, user: str = "U0ALICE") -> str:
    msg = harness.card(draft)
    button = next(
        e
        for b in msg.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == blocks.SEND
    )
    return block_action_body(
        user_id=user,
        user_name=user.lower(),
        action_id=blocks.SEND,
        value=button["value"],
        channel_id=msg.channel,
        message_ts=msg.ts,
        message=msg.to_dict(),
        trigger_id=harness.slack.new_trigger_id(user),
        response_url=harness.slack.new_response_url(channel=msg.channel, message_ts=msg.ts, user=user),
        block_id="decide",
    )


def _replay(harness: Harness, body: str, headers: dict, *, retry: int | None = None) -> int:
    """Post the very bytes and headers of an earlier request again."""
    extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
    response = harness.http.post(harness.url, data=body.encode(), headers={**headers, **extra}, timeout=10)
    harness.settle()
    return response.status_code


def _edit_submission(harness: Harness, draft, text: str, user: str = "U0BOB") -> str:
    harness.click(draft, blocks.EDIT, user=user)
    view = harness.slack.views()[-1]["view"]
    values = {blocks.EDIT_BLOCK: {blocks.EDIT_INPUT: {"type": "plain_text_input", "value": text}}}
    return view_submission_body(user_id=user, user_name=user.lower(), view=view, values=values)


def _signed(harness: Harness, body: str) -> dict:
    return sign_request(SECRET, body)


def _payload(form_body: str) -> dict:
    """The interaction payload as Socket Mode delivers it: the JSON without the form around it."""
    return json.loads(parse_qs(form_body)["payload"][0])


def _guardrail_rows(harness: Harness, draft) -> list[str]:
    return [
        r["action"]
        for r in audit.for_draft(harness.store.db, draft.id)
        if r["action"].startswith("guardrail")
    ]


@pytest.mark.http_only
def test_a_replayed_flagged_edit_is_not_the_teammates_confirmation(harness: Harness, caplog):
    harness.cycle()
    fan = harness.unread_fan_with_text()
    draft = harness.draft_for(fan["uuid"])
    body = _edit_submission(harness, draft, FLAGGED)
    headers = _signed(harness, body)
    first = harness.http.post(harness.url, data=body.encode(), headers=headers, timeout=10)
    harness.settle()
    assert first.json()["response_action"] == "errors"
    assert _guardrail_rows(harness, draft) == ["guardrail-warned"]
    caplog.set_level(logging.INFO, logger="slack.replay")
    for copy in range(3):  # the captured submission again, as is and marked as Slack's retries
        assert _replay(harness, body, headers, retry=copy or None) == 200
    assert harness.sandbox.world.sent_messages() == []
    assert _guardrail_rows(harness, draft) == ["guardrail-warned"]
    assert harness.draft_for(fan["uuid"]).status == drafts.PENDING
    assert len([r for r in caplog.records if r.name == "slack.replay"]) == 3
    # The teammate submitting the same text again (a new submission) is the confirmation, as before.
    again = _edit_submission(harness, draft, FLAGGED)
    assert again != body
    assert harness.post(again).status_code == 200
    harness.settle()
    assert [m["text"] for m in harness.sandbox.world.sent_messages(fan["uuid"])] == [FLAGGED]
    assert _guardrail_rows(harness, draft) == ["guardrail-warned", "guardrail-confirmed"]


@pytest.mark.http_only
def test_a_replayed_send_after_a_refused_send_does_not_send(harness: Harness):
    harness.cycle()
    fan = harness.unread_fan_with_text()
    draft = harness.draft_for(fan["uuid"])
    world = harness.sandbox.world
    send_path = f"/chats/{fan['uuid']}/message"
    world.inject_fault("503", count=1, method="POST", path=send_path)
    body = _send_body(harness, draft)
    headers = _signed(harness, body)
    assert harness.http.post(harness.url, data=body.encode(), headers=headers, timeout=10).status_code == 200
    harness.settle()
    back = harness.draft_for(fan["uuid"])
    assert back.status == drafts.PENDING and world.sent_messages() == []
    assert world.request_count(method="POST", path_prefix=send_path) == 1
    assert _replay(harness, body, headers) == 200
    assert _replay(harness, body, headers, retry=1) == 200
    assert world.sent_messages() == []
    assert world.request_count(method="POST", path_prefix=send_path) == 1
    assert harness.draft_for(fan["uuid"]).status == drafts.PENDING
    # A new click by the teammate sends, once.
    harness.click(back, blocks.SEND)
    assert [m["text"] for m in world.sent_messages(fan["uuid"])] == [draft.draft_text]


def test_a_replay_reaching_another_process_on_the_same_database_is_not_acted_on(tmp_path, sandbox, slack):
    one = Harness(tmp_path / "shared.db", sandbox, slack)
    two = Harness(tmp_path / "shared.db", sandbox, slack)
    try:
        one.cycle()
        fan = one.unread_fan_with_text()
        draft = one.draft_for(fan["uuid"])
        body = _edit_submission(one, draft, FLAGGED)
        headers = _signed(one, body)
        assert one.http.post(one.url, data=body.encode(), headers=headers, timeout=10).json()["errors"]
        one.settle()
        # The same captured request, sent to the second process: it knows the request from the database.
        assert _replay(two, body, headers) == 200
        assert _guardrail_rows(one, draft) == ["guardrail-warned"]
        assert sandbox.world.sent_messages() == []
    finally:
        two.close()
        one.close()


def test_a_replayed_click_reaching_another_process_does_not_send(tmp_path, sandbox, slack):
    """A click is acknowledged on the process's memory alone; the database decides in the worker."""
    one = Harness(tmp_path / "shared.db", sandbox, slack)
    two = Harness(tmp_path / "shared.db", sandbox, slack)
    try:
        one.cycle()
        fan = one.unread_fan_with_text()
        draft = one.draft_for(fan["uuid"])
        send_path = f"/chats/{fan['uuid']}/message"
        sandbox.world.inject_fault("503", count=1, method="POST", path=send_path)
        body = _send_body(one, draft)
        headers = _signed(one, body)
        assert one.http.post(one.url, data=body.encode(), headers=headers, timeout=10).status_code == 200
        one.settle()
        assert one.draft_for(fan["uuid"]).status == drafts.PENDING  # the refused send released the card
        # The captured click, sent to the second process: acknowledged there, and nothing sent.
        assert _replay(two, body, headers) == 200
        assert sandbox.world.request_count(method="POST", path_prefix=send_path) == 1
        assert sandbox.world.sent_messages() == []
        assert two.draft_for(fan["uuid"]).status == drafts.PENDING
    finally:
        two.close()
        one.close()


def test_socket_mode_redeliveries_are_acknowledged_once_and_unseen_ones_handled(harness: Harness):
    """Socket Mode has no signatures; Bolt marks a redelivered envelope with x-slack-retry-num."""
    harness.cycle()
    fan = harness.unread_fan_with_text()
    draft = harness.draft_for(fan["uuid"])
    payload = _payload(_send_body(harness, draft))
    world = harness.sandbox.world
    world.inject_fault("503", count=1, method="POST", path=f"/chats/{fan['uuid']}/message")
    first = harness.bolt.dispatch(BoltRequest(mode="socket_mode", body=payload))
    harness.settle()
    assert first.status == 200 and harness.draft_for(fan["uuid"]).status == drafts.PENDING
    again = harness.bolt.dispatch(
        BoltRequest(mode="socket_mode", body=payload, headers={"x-slack-retry-num": "1"})
    )
    harness.settle()
    assert again.status == 200 and world.sent_messages() == []
    # A redelivery of an envelope this app never saw (the first delivery was lost) is handled.
    fresh = _payload(_send_body(harness, harness.draft_for(fan["uuid"])))
    retried = harness.bolt.dispatch(
        BoltRequest(mode="socket_mode", body=fresh, headers={"x-slack-retry-num": "2"})
    )
    harness.settle()
    assert retried.status == 200
    assert [m["text"] for m in world.sent_messages(fan["uuid"])] == [draft.draft_text]


def test_seen_requests_are_forgotten_after_the_window(harness: Harness):
    db = harness.store.db
    now = utcnow()
    assert seen.first_time(db, "signature:v0=abc", now)
    assert not seen.first_time(db, "signature:v0=abc", now + timedelta(minutes=1))
    later = now + seen.REMEMBER + timedelta(seconds=1)
    assert seen.first_time(db, "signature:v0=other", later)
    assert db["seen_requests"].count == 1  # the old key was pruned, so the table stays small
    assert seen.first_time(db, "signature:v0=abc", later)
