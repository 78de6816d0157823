"""Fan context on the cards over real HTTP: what the card shows, what it costs Fanvue, Fanvue failing, logins
that cannot read insights, and CARD_PRIORITY=value."""

from __future__ import annotations

import pytest
import requests

from fanvue.scopes import CHAT_SCOPES
from slack.fan_context_blocks import NO_INSIGHTS, NOT_READ, SEPARATOR, TOP_SPENDER
from standins.fanvue import Sandbox
from standins.fanvue.agency import ADMIN
from standins.slack_requests import slash_command_body
from store import drafts
from tests.harness import CHANNEL, Harness
from tests.test_agency_scopes import log_in

pytestmark = pytest.mark.both_modes  # each Slack-facing test runs over HTTP and over Socket Mode

WAIT = 60.0  # seconds a poll may wait for context here: the stand-in answers at once, a loaded machine late


def set_context(sandbox: Sandbox, fan_uuid: str, **changes) -> None:
    url = f"{sandbox.url}/_sandbox/fans/{fan_uuid}/context"
    requests.post(url, json=changes, timeout=5).raise_for_status()


def make_top_spender(world, fan_uuid: str, flag: bool = True) -> None:
    """The chat row says `isTopSpender` (or not) for this fan from now on."""
    with world._lock:
        world._chats[fan_uuid].fan.is_top_spender = flag


def context_requests(sandbox: Sandbox) -> list[str]:
    return [
        r.path
        for r in sandbox.world.requests
        if r.path.startswith("/insights") or r.path == "/chats/statuses"
    ]


def context_line(message) -> str:
    """The card's line under its header."""
    assert message.blocks[1]["type"] == "context", message.blocks[:2]
    return message.blocks[1]["elements"][0]["text"]


def notices(slack) -> list[str]:
    return [m.text for m in slack.messages() if not m.blocks and "fan insights" in m.text]


def test_the_card_shows_the_fans_context_and_a_warm_cycle_asks_fanvue_nothing(harness, sandbox):
    harness.svc.card_context.wait = WAIT
    fan = harness.unread_fan_with_text()
    set_context(sandbox, fan["uuid"], status="subscriber", totalCents=123400, biggestCents=20000)
    make_top_spender(sandbox.world, fan["uuid"])
    harness.cycle()
    draft = harness.draft_for(fan["uuid"])
    line = context_line(harness.card(draft))
    assert line.startswith(TOP_SPENDER) and "subscriber" in line
    assert "spent $1,234.00, biggest $200.00" in line
    assert draft.is_top_spender
    assert context_requests(sandbox) == ["/insights/fans/batch", "/chats/statuses"]  # every fan at once
    sandbox.world.clear_requests()
    harness.cycle()
    assert context_requests(sandbox) == []


def test_insights_failing_post_the_card_without_context_and_the_next_cycle_fills_it_in(harness, sandbox):
    harness.svc.card_context.wait = WAIT
    fan = harness.unread_fan_with_text()
    set_context(sandbox, fan["uuid"], status="subscriber", totalCents=5000)
    sandbox.world.inject_fault("503", 100, None, "/insights/fans/batch")
    first = harness.cycle()
    draft = harness.draft_for(fan["uuid"])
    card = harness.card(draft)
    assert first.cards.posted >= 1 and NOT_READ in context_line(card)
    sandbox.world.faults.clear()
    second = harness.cycle()
    again = harness.card(draft)
    assert again.ts == card.ts and second.cards.updated >= 1  # the same card, shown again
    assert "spent $50.00" in context_line(again) and NOT_READ not in context_line(again)


def test_a_login_without_the_insight_scopes_tells_the_channel_once_even_after_a_restart(
    tmp_path, sandbox, slack
):
    pair = log_in(sandbox, sandbox.world.creator["handle"], " ".join(CHAT_SCOPES))
    fan_uuid = None
    for run in range(2):  # the second run is the app started again on the same database
        h = Harness(
            tmp_path / "bridge.db", sandbox, slack, logins=[("creator", pair["access_token"])] * (run == 0)
        )
        try:
            h.svc.card_context.wait = WAIT
            if fan_uuid is None:
                fan_uuid = h.unread_fan_with_text()["uuid"]
                make_top_spender(sandbox.world, fan_uuid)
            h.cycle()
            h.cycle()
            line = context_line(h.card(h.draft_for(fan_uuid)))
        finally:
            h.close()
        assert line == f"{TOP_SPENDER}{SEPARATOR}{NO_INSIGHTS}"  # what the chat row says is still shown
    [told] = notices(slack)
    assert f"@{sandbox.world.creator['handle']}" in told and "python app.py login" in told
    assert context_requests(sandbox) == [
        "/insights/fans/batch"
    ]  # refused once; not asked again within the TTL


def test_an_agency_login_reads_no_insights_and_each_creator_is_told_once(tmp_path, slack):
    with Sandbox(creators=2, fans=6, seed=11) as two:
        h = Harness(tmp_path / "bridge.db", two, slack, logins=[("agency", two.member_token(ADMIN))])
        try:
            h.cycle()
            h.cycle()
        finally:
            h.close()
        asked = [r.path for r in two.world.requests if r.path.startswith("/insights")]
    told = notices(slack)
    assert len(told) == 2 and asked == []
    for world in two.worlds:
        assert sum(f"@{world.creator['handle']} " in text for text in told) == 1
    assert all("agency logins" in text for text in told)


def test_card_priority_value_posts_the_top_spender_first_when_the_cap_binds(harness, sandbox):
    harness.svc.card_context.wait = WAIT
    world = sandbox.world
    for fan in world.fans():  # nobody subscribes or spends, but the newest-waiting fan is a top spender
        set_context(sandbox, fan["uuid"], status="follower", totalCents=0)
        make_top_spender(world, fan["uuid"], False)
    harness.svc.cards.priority = "value"
    harness.cycle(max_posts=0)  # drafts only: every card waits for the cap
    pending = drafts.with_status(harness.store.db, drafts.PENDING)
    assert len(pending) >= 2
    newest = pending[-1]
    make_top_spender(world, newest.fan_uuid)
    with harness.store.db.conn:
        harness.store.db.execute("UPDATE drafts SET is_top_spender = 1 WHERE id = ?", [newest.id])
    listed = slash_answer(harness, "")
    report = harness.cycle(max_posts=1)
    posted = [d for d in drafts.with_status(harness.store.db, drafts.PENDING) if d.ts]
    assert report.cards.posted == 1 and [d.id for d in posted] == [newest.id]
    # /fanvue lists the waiting cards in the order they are posted.
    assert listed.index(newest.fan_handle) < listed.index(pending[0].fan_handle)


def test_card_priority_wait_keeps_the_oldest_first(harness, sandbox):
    for fan in sandbox.world.fans():
        make_top_spender(sandbox.world, fan["uuid"], False)
    harness.cycle(max_posts=0)
    pending = drafts.with_status(harness.store.db, drafts.PENDING)
    with harness.store.db.conn:
        harness.store.db.execute("UPDATE drafts SET is_top_spender = 1 WHERE id = ?", [pending[-1].id])
    harness.cycle(max_posts=1)
    assert [d.id for d in drafts.with_status(harness.store.db, drafts.PENDING) if d.ts] == [pending[0].id]


def slash_answer(h: Harness, text: str, user: str = "U0ALICE", channel: str = CHANNEL) -> str:
    before = len(h.slack.responses())
    body = slash_command_body(
        command="/fanvue",
        text=text,
        user_id=user,
        user_name=user.lower(),
        channel_id=channel,
        response_url=h.slack.new_response_url(channel=channel, user=user),
        trigger_id=h.slack.new_trigger_id(user),
    )
    assert h.post(body).status_code == 200
    h.settle()
    (answer,) = h.slack.responses()[before:]
    return "\n".join(b["text"]["text"] for b in answer.get("blocks", []) if b["type"] == "section")


def test_fanvue_hanging_on_insights_does_not_hold_the_card_and_a_later_cycle_fills_it_in(harness, sandbox):
    harness.svc.card_context.wait = 0.1  # the poll waits this long for context, then posts without it
    sandbox.hang_seconds = 3.0
    fan = harness.unread_fan_with_text()
    set_context(sandbox, fan["uuid"], status="subscriber", totalCents=700)
    sandbox.world.inject_fault("hang", 1, None, "/insights/fans/batch")
    first = harness.cycle()
    draft = harness.draft_for(fan["uuid"])
    card = harness.card(draft)
    assert first.cards.posted >= 1 and NOT_READ in context_line(card)
    # The read goes on in the background; once it is over (timed out or answered), the next cycle shows it.
    reader = harness.svc.card_context._running[sandbox.world.creator["uuid"]]
    reader.join(60)
    assert not reader.is_alive()
    harness.svc.card_context.wait = WAIT
    harness.cycle()
    assert "spent $7.00" in context_line(harness.card(draft))
