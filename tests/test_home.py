"""The App Home tab, Take next and /fanvue mine|next over real HTTP, signed as Slack signs them."""

from __future__ import annotations

import json
import threading

import pytest
from slack_sdk.models.views import View

from slack import blocks
from slack.home_blocks import TAKE_NEXT
from slack.take_blocks import TAKE
from standins.slack_home import home_action_body, home_opened_body
from standins.slack_requests import slash_command_body
from store import drafts
from tests.harness import CHANNEL, Harness
from tests.pending_card import PendingCard

pytestmark = pytest.mark.both_modes  # each Slack-facing test runs over HTTP and over Socket Mode


def open_home(harness: Harness, user: str) -> dict:
    assert harness.post_event(home_opened_body(user)) == 200
    harness.settle()
    return harness.slack.state.home_views[user]


def _sections(view: dict) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b.get("text")]


def _part(view: dict, heading: str) -> str:
    """The text of the blocks under one heading of the Home tab, up to the next divider."""
    out, inside = [], False
    for block in view["blocks"]:
        text = (block.get("text") or {}).get("text", "")
        if text.startswith(heading):
            inside = True
            continue
        if inside and block["type"] == "divider":
            break
        if inside:
            out.append(text or json.dumps(block.get("elements", [])))
    return "\n".join(out)


def _waiting(harness: Harness) -> list[drafts.Draft]:
    return drafts.with_status(harness.store.db, drafts.PENDING)


def command(harness: Harness, text: str, user: str) -> dict:
    body = slash_command_body(
        command="/fanvue",
        text=text,
        user_id=user,
        user_name=user.lower(),
        channel_id=CHANNEL,
        response_url=harness.slack.new_response_url(user=user),
        trigger_id=harness.slack.new_trigger_id(user),
    )
    assert harness.post(body).status_code == 200
    harness.settle()
    return harness.slack.responses()[-1]


def test_home_tab_shows_each_teammate_their_own_cards_and_the_waiting_ones(pending_card: PendingCard):
    harness, fan, draft = pending_card
    waiting = _waiting(harness)
    assert len(waiting) >= 3
    harness.click(draft, TAKE, user="U0ALICE")
    alice, bob = open_home(harness, "U0ALICE"), open_home(harness, "U0BOB")
    View(**{k: v for k, v in alice.items() if k in ("type", "blocks")}).to_dict()  # legal Block Kit
    assert alice["type"] == "home"
    name = draft.fan_name
    assert name in _part(alice, "*Your cards* (1)") and "https://" in _part(alice, "*Your cards*")
    assert name not in _part(alice, "*Waiting for someone")
    assert "*Your cards* (0)" in _sections(bob) and name not in _part(bob, "*Waiting for someone")
    free = _part(bob, f"*Waiting for someone to take them* ({len(waiting) - 1})")
    assert free.count("open card") == len(waiting) - 1
    oldest_first = sorted((d for d in waiting if d.id != draft.id), key=lambda d: (d.waiting_since, d.id))
    positions = [free.index(d.fan_handle) for d in oldest_first]
    assert positions == sorted(positions)
    assert any(b.get("accessory", {}).get("action_id") == TAKE_NEXT for b in bob["blocks"])
    [today] = [t for t in _sections(bob) if t.startswith("*Today*")]
    # The harness's SLA is a week, so no card is overdue yet.
    assert today.endswith("0 sent · 0 skipped · no reply time yet · 0 overdue now")


def test_home_tab_counts_the_cards_overdue_now(harness: Harness):
    harness.cycle()
    waiting = [d for d in drafts.with_status(harness.store.db, drafts.PENDING) if d.ts]
    harness.runtime.services.sla.policy.minutes = 1  # the seed's fans wrote days ago
    open_home(harness, "U0BOB")
    [today] = [t for t in _sections(harness.slack.state.home_views["U0BOB"]) if t.startswith("*Today*")]
    assert today.endswith(f"· {len(waiting)} overdue now") and waiting


def test_home_tab_refreshes_after_the_teammates_decision(pending_card: PendingCard):
    harness, fan, draft = pending_card
    open_home(harness, "U0ALICE")
    harness.click(draft, blocks.SEND, user="U0ALICE")
    assert harness.sandbox.world.sent_messages(fan["uuid"])
    [today] = [t for t in _sections(harness.slack.state.home_views["U0ALICE"]) if t.startswith("*Today*")]
    assert "1 sent · 0 skipped · median reply time" in today


def test_take_next_by_two_teammates_at_once_gives_two_different_cards(pending_card: PendingCard):
    harness = pending_card.harness
    views = {user: open_home(harness, user) for user in ("U0ALICE", "U0BOB")}
    oldest = _waiting(harness)[:2]
    start = threading.Barrier(2)
    answers: dict[str, int] = {}

    def press(user: str) -> None:
        body = home_action_body(user, views[user], TAKE_NEXT)
        start.wait()
        answers[user] = harness.post(body).status_code

    threads = [threading.Thread(target=press, args=(u,)) for u in views]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    harness.settle()
    assert answers == {"U0ALICE": 200, "U0BOB": 200}
    taken = {d.taker: d.id for d in _waiting(harness) if d.taker}
    assert set(taken) == {"U0ALICE", "U0BOB"} and len(set(taken.values())) == 2
    assert set(taken.values()) == {d.id for d in oldest}  # the two longest waits
    dms = {m.channel: m.text for m in harness.slack.messages() if m.channel in views}
    assert set(dms) == {"U0ALICE", "U0BOB"} and all("open the card" in t for t in dms.values())
    for user, draft_id in taken.items():
        assert "You took the card for" in _sections(harness.slack.state.home_views[user])[0]
        assert drafts.get(harness.store.db, draft_id).fan_name in _part(
            harness.slack.state.home_views[user], "*Your cards* (1)"
        )


def test_fanvue_next_and_mine_answer_the_asker_only(pending_card: PendingCard):
    harness = pending_card.harness
    oldest = _waiting(harness)[0]
    assert command(harness, "mine", "U0ALICE")["text"] == "You have no cards right now."
    answer = command(harness, "next", "U0ALICE")
    assert answer["response_type"] == "ephemeral"
    assert oldest.fan_name in answer["text"] and "open the card" in answer["text"]
    assert drafts.get(harness.store.db, oldest.id).taker == "U0ALICE"
    second = command(harness, "next", "U0BOB")
    assert oldest.fan_name not in second["text"] and "You took the card" in second["text"]
    mine = command(harness, "mine", "U0ALICE")
    assert mine["response_type"] == "ephemeral" and "*Your cards* (1)" in json.dumps(mine, ensure_ascii=False)
    assert oldest.fan_name in json.dumps(mine, ensure_ascii=False)
