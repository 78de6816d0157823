"""Webhooks acted on over real HTTP: the sandbox delivers signed events, the app reads that chat and posts the
card through the cycle's own steps, with no cycle run; polling still catches what no webhook announced."""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
import time
from datetime import timedelta

import pytest
import requests

import demo
from desk import Desk
from drafting.llm import LlmConfig, OpenAIChatDrafter
from drafting.persona import load_persona
from drafting.template import TemplateDrafter
from inbox.cycle import run_cycle
from inbox.webhook_watch import QUIET_INTERVALS
from slack import commands
from standins.fanvue import Sandbox
from standins.llm import LlmStandin
from store import drafts, webhook_events
from store.clock import utcnow
from store.webhook_events import NewEvent
from tests.test_many_creators import creator_desk
from tests.webhook_act_rig import READ_PATH, RECEIVED_PATH, WEBHOOK_SECRET, ActingApp, wait_for


@pytest.fixture
def app(tmp_path, sandbox, slack):
    running = ActingApp(tmp_path / "bridge.db", sandbox, slack)
    yield running
    running.close()


def _fan(sandbox) -> str:
    return sandbox.world.fans()[0]["uuid"]


def _list_reads(sandbox) -> int:
    """Requests a poll cycle makes and a webhook never does: the chat list and the batch read."""
    return sum(1 for r in sandbox.world.requests if r.path in ("/chats", "/chats/messages/batch"))


def test_a_fans_message_becomes_a_card_without_any_cycle(app, sandbox, slack):
    fan = _fan(sandbox)
    sent = app.fan_writes(fan, "are you online tonight?")
    app.settle()
    [draft] = app.fan_drafts(fan)
    assert draft.fan_message_uuid == sent["uuid"] and draft.status == drafts.PENDING and draft.draft_text
    assert "are you online tonight?" in app.card_text(draft)
    assert _list_reads(sandbox) == 0
    # The chat was read without marking it read, and the event is marked handled.
    reads = [r for r in sandbox.world.requests if r.path == f"/chats/{fan}/messages"]
    assert reads and all(r.query.get("markAsRead") == "false" for r in reads)
    assert not sandbox.world.chat(fan)["isRead"]
    [event] = [webhook_events.get(app.db, r["id"]) for r in app.db.query("SELECT id FROM webhook_events")]
    assert event.handled_at is not None
    # The next cycle finds nothing new to post: one card per fan message.
    report = run_cycle(app.svc)
    assert app.fan_drafts(fan) == [drafts.get(app.db, draft.id)] and draft.version == 1
    assert report.unannounced == 0  # the chats unread before webhooks began are not counted either


def test_a_duplicate_delivery_makes_one_card(app, sandbox, slack):
    app.faults(duplicate=1)
    fan = _fan(sandbox)
    app.fan_writes(fan, "hello twice")
    app.settle()
    [draft] = app.fan_drafts(fan)
    assert draft.version == 1
    assert len([m for m in slack.messages() if m.ts == draft.ts]) == 1
    assert len(slack.calls("chat.postMessage")) == 1


def test_a_burst_of_three_makes_one_card_with_the_last_message(app, sandbox, slack):
    app.faults(delay_ms=300)  # the three are written before the first delivery arrives
    fan = _fan(sandbox)
    for text in ("one", "two", "three"):
        last = app.fan_writes(fan, text)
    app.settle()
    [draft] = app.fan_drafts(fan)
    assert draft.fan_message_uuid == last["uuid"] and draft.version <= 2
    assert "three" in app.card_text(draft)
    assert len(slack.calls("chat.postMessage")) == 1


def test_a_burst_spaced_wider_than_the_quiet_time_gets_two_drafts_and_the_card_says_more_is_coming(
    tmp_path, sandbox, slack
):
    # Gaps longer than the quiet time do not split a burst: what follows the first message within the
    # burst is drafted once, when the burst is over.
    app = ActingApp(tmp_path / "bridge.db", sandbox, slack, quiet=0.1, burst=4.0)
    try:
        fan = _fan(sandbox)
        app.fan_writes(fan, "one")
        first = wait_for(lambda: [d for d in app.fan_drafts(fan) if d.ts])[0]
        assert first.version == 1 and "one" in app.card_text(first)
        app.fan_writes(fan, "two")
        held = wait_for(lambda: (d := drafts.get(app.db, first.id)).notice and d)
        assert held.version == 1 and "writing more" in app.card_text(held)
        wait_for(lambda: app.unhandled() == 0)
        time.sleep(0.3)  # longer than the quiet time
        last = app.fan_writes(fan, "three")
        app.settle()
        done = drafts.get(app.db, first.id)
        assert done.fan_message_uuid == last["uuid"] and done.version == 2 and done.notice is None
        text = app.card_text(done)
        assert "three" in text and "writing more" not in text and '"Send"' in text
        # After the burst a message begins a new one, drafted at once.
        app.fan_writes(fan, "four")
        newest = wait_for(lambda: (d := drafts.get(app.db, first.id)).version == 3 and d)
        assert "four" in app.card_text(newest)
        assert len(slack.calls("chat.postMessage")) == 1
    finally:
        app.close()


def test_a_late_delivery_within_a_burst_leaves_no_promise_of_a_new_draft_on_the_card(
    tmp_path, sandbox, slack
):
    app = ActingApp(tmp_path / "bridge.db", sandbox, slack, burst=2.0)
    try:
        fan = _fan(sandbox)
        first = app.fan_writes(fan, "only this")
        [draft] = wait_for(lambda: [d for d in app.fan_drafts(fan) if d.ts])
        late = NewEvent(
            "message.received", "late-" + first["uuid"], app.svc.creator.get().uuid, fan, first["uuid"]
        )
        app.runtime.actor(webhook_events.record(app.db, late, utcnow()).id)
        wait_for(lambda: "writing more" in app.card_text(draft))
        app.settle()  # the burst is over: nothing new to draft
        done = drafts.get(app.db, draft.id)
        assert done.version == 1 and not done.notice and "writing more" not in app.card_text(done)
    finally:
        app.close()


def test_an_older_message_delivered_after_a_newer_one_never_rolls_the_card_back(app, sandbox):
    app.faults(reorder=2)  # both held, then delivered newest first
    fan = _fan(sandbox)
    app.fan_writes(fan, "first")
    newest = app.fan_writes(fan, "second")
    app.settle()
    [draft] = app.fan_drafts(fan)
    assert draft.fan_message_uuid == newest["uuid"] and draft.version == 1
    assert "second" in app.card_text(draft)


def test_a_late_event_for_an_older_message_after_the_card_moved_on_changes_nothing(app, sandbox):
    fan = _fan(sandbox)
    first = app.fan_writes(fan, "first")
    app.settle()
    newest = app.fan_writes(fan, "second")
    app.settle()
    [draft] = app.fan_drafts(fan)
    assert draft.fan_message_uuid == newest["uuid"]
    # Fanvue delivers the first message's event again, late (a new event row: stored anew).
    late = NewEvent(
        "message.received", "late-" + first["uuid"], app.svc.creator.get().uuid, fan, first["uuid"]
    )
    recorded = webhook_events.record(app.db, late, utcnow())
    app.runtime.actor(recorded.id)
    app.settle()
    again = drafts.get(app.db, draft.id)
    assert again.fan_message_uuid == newest["uuid"] and again.version == draft.version


def test_a_read_after_the_creator_answered_in_fanvue_closes_the_card(app, sandbox):
    fan = _fan(sandbox)
    app.fan_writes(fan, "still there?")
    app.settle()
    [draft] = app.fan_drafts(fan)
    sandbox.world.add_creator_message(fan, "yes, answering from the Fanvue app")  # fires message.read
    app.settle()
    closed = drafts.get(app.db, draft.id)
    assert closed.status == drafts.SUPERSEDED
    assert "Send" not in app.card_text(closed)


def test_a_plain_read_says_so_on_the_card_and_the_fan_still_waits(app, sandbox):
    fan = _fan(sandbox)
    app.fan_writes(fan, "did you see my photo?")
    app.settle()
    [draft] = app.fan_drafts(fan)
    assert requests.post(f"{sandbox.url}/_sandbox/fans/{fan}/read", timeout=5).status_code == 200
    app.settle()
    now = drafts.get(app.db, draft.id)
    assert now.status == drafts.PENDING and now.version == draft.version and now.notice
    assert "read in Fanvue" in app.card_text(now) and '"Send"' in app.card_text(now)


def test_an_event_for_a_creator_the_app_does_not_serve_is_stored_logged_once_and_ignored(
    app, sandbox, caplog
):
    caplog.set_level(logging.INFO)
    stranger = "99999999-0000-0000-0000-000000000000"
    for n in range(2):
        event = NewEvent("message.received", f"m-{n}", stranger, "fan-x", f"m-{n}")
        app.runtime.actor(webhook_events.record(app.db, event, utcnow()).id)
    wait_for(lambda: app.unhandled() == 0)
    assert app.db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 0
    assert [r for r in caplog.records if "serves no such creator" in r.getMessage()].__len__() == 1
    assert sandbox.world.request_count(path_prefix="/chats/fan-x") == 0


def test_a_dropped_event_is_caught_by_the_next_cycle_and_counted_as_not_announced(app, sandbox):
    fans = [f["uuid"] for f in sandbox.world.fans()[:2]]
    app.fan_writes(fans[0], "announced")
    app.settle()
    app.faults(drop=1)
    missed = app.fan_writes(fans[1], "never announced")
    app.settle()
    assert app.fan_drafts(fans[1]) == []
    report = run_cycle(app.svc)
    [draft] = app.fan_drafts(fans[1])
    assert draft.fan_message_uuid == missed["uuid"] and draft.ts
    assert report.unannounced == 1 and "no webhook announced" in report.summary()


def test_events_a_crash_left_unhandled_are_taken_up_at_start(tmp_path, sandbox, slack):
    first = ActingApp(tmp_path / "bridge.db", sandbox, slack)
    fan = _fan(sandbox)
    first.fan_writes(fan, "before the crash")
    first.settle()
    [draft] = first.fan_drafts(fan)
    sandbox.webhooks.unregister()
    message = sandbox.world.add_fan_message(fan, "while the app was down")
    creator = first.svc.creator.get().uuid
    event = NewEvent("message.received", message["uuid"], creator, fan, message["uuid"], message["sentAt"])
    webhook_events.record(first.db, event, utcnow())  # stored and answered, then the process died
    first.close()
    again = ActingApp(tmp_path / "bridge.db", sandbox, slack, register=False)
    try:
        assert again.runtime.actor.take_up() == 1
        wait_for(lambda: again.unhandled() == 0)
        assert again.runtime.actor.idle()
        now = drafts.get(again.db, draft.id)
        assert now.fan_message_uuid == message["uuid"] and "while the app was down" in again.card_text(now)
        assert _list_reads(sandbox) == 0
    finally:
        again.close()


@pytest.fixture
def llm():
    with LlmStandin() as standin:
        yield standin


def test_with_an_llm_a_burst_gets_a_draft_coming_card_then_one_llm_call_after_the_quiet_time(
    tmp_path, sandbox, slack, llm
):
    persona = load_persona(None)
    drafter = OpenAIChatDrafter(
        LlmConfig(llm.base_url, "test-model", api_key="k", timeout=5.0),
        persona,
        TemplateDrafter(persona),
    )
    app = ActingApp(tmp_path / "bridge.db", sandbox, slack, drafter=drafter, quiet=1.0)
    try:
        fan = _fan(sandbox)
        app.fan_writes(fan, "hey")
        coming = wait_for(lambda: [d for d in app.fan_drafts(fan) if d.ts])[0]
        assert coming.drafted_by == drafts.COMING and llm.requests == []
        text = app.card_text(coming)
        assert "draft is coming" in text and '"Send"' not in text and "hey" in text
        for more in ("are you there", "hello??"):
            last = app.fan_writes(fan, more)
        wait_for(lambda: drafts.get(app.db, coming.id).drafted_by != drafts.COMING)
        app.settle()
        done = drafts.get(app.db, coming.id)
        assert done.fan_message_uuid == last["uuid"] and len(llm.requests) == 1
        assert '"Send"' in app.card_text(done) and "hello??" in app.card_text(done)
        assert len(app.fan_drafts(fan)) == 1 and len(slack.calls("chat.postMessage")) == 1
        assert "hello??" in json.dumps(llm.requests[0].messages)
    finally:
        app.close()


def test_a_creator_with_its_own_secret_in_the_desk_file_is_checked_with_it_the_others_with_the_default(
    tmp_path, slack
):
    with Sandbox(creators=2, fans=4, seed=11) as sb:
        luna, milo = (w.creator["handle"] for w in sb.worlds)
        desk = Desk(
            {
                luna: dataclasses.replace(creator_desk(luna, "C0LUNA"), webhook_secret="whsec-luna"),
                milo: creator_desk(milo, "C0MILO"),
            }
        )
        logins = [("creator", sb.creator_token(h)) for h in (luna, milo)]
        app = ActingApp(tmp_path / "bridge.db", sb, slack, desk=desk, logins=logins, register=False)
        try:
            received, read = app.base + RECEIVED_PATH, app.base + READ_PATH
            fans = [w.fans()[0]["uuid"] for w in sb.worlds]
            sb.webhooks.register(received, read, "whsec-luna")
            for world, fan in zip(sb.worlds, fans, strict=True):
                world.add_fan_message(fan, "signed with luna's secret")
            app.settle()
            sb.webhooks.register(received, read, WEBHOOK_SECRET)
            for world, fan in zip(sb.worlds, fans, strict=True):
                world.add_fan_message(fan, "signed with the default secret")
            app.settle()
            statuses = [(d["body"]["recipientUuid"], d["status"]) for d in sb.webhooks.deliveries()]
            cards = {d.creator_handle: d for d in (app.fan_drafts(fans[0]) + app.fan_drafts(fans[1]))}
        finally:
            app.close()
    uuids = [w.creator["uuid"] for w in sb.worlds]
    assert (uuids[0], 200) in statuses and (uuids[1], 200) in statuses
    assert (uuids[1], 401) in statuses and (uuids[0], 401) in statuses
    assert set(cards) == {luna.lower(), milo.lower()}


def test_polling_slows_while_webhooks_arrive_and_is_back_to_its_interval_when_they_stop(app, sandbox):
    settings = app.runtime.settings
    assert app.runtime.pace.interval() == settings.poll_interval  # none arrived yet
    assert app.runtime.pace.due() and app.runtime.pace.due()  # every tick of the scheduler runs a cycle
    app.fan_writes(_fan(sandbox), "hi")
    app.settle()
    assert app.runtime.pace.interval() == settings.poll_interval_with_webhooks == 600
    assert not app.runtime.pace.due()  # a cycle ran moments ago: this tick is skipped
    app.runtime.pace.last_cycle -= settings.poll_interval_with_webhooks
    assert app.runtime.pace.due()
    quiet_for = timedelta(seconds=QUIET_INTERVALS * settings.poll_interval_with_webhooks + 1)
    app.runtime.webhooks._last_received_at = utcnow() - quiet_for
    assert app.runtime.pace.interval() == settings.poll_interval


def test_while_webhooks_arrive_a_cycle_has_room_for_what_they_missed_and_cards_left_waiting_are_not_skipped(
    tmp_path, sandbox, slack
):
    # 1 new card per 120 s interval, cycles 240 s apart while webhooks arrive: room for 2 a cycle.
    env = {"SLACK_MAX_POSTS_PER_CYCLE": "1", "POLL_INTERVAL_WITH_WEBHOOKS_SECONDS": "240"}
    for fan in sandbox.world.fans():  # the creator caught up: only the new messages wait
        sandbox.world.update_chat(fan["uuid"], True, None, None)
    app = ActingApp(tmp_path / "bridge.db", sandbox, slack, env=env)
    try:
        fans = [f["uuid"] for f in sandbox.world.fans()[:4]]
        assert app.runtime.pace.max_posts() == 1
        app.fan_writes(fans[0], "delivered")
        app.settle()
        assert app.runtime.pace.max_posts() == 2
        app.faults(drop=3)
        for fan in fans[1:]:
            app.fan_writes(fan, "never announced")
        app.settle()
        assert all(not app.fan_drafts(fan) for fan in fans[1:])
        app.runtime.cycle()
        assert sum(1 for fan in fans[1:] if app.fan_drafts(fan)[0].ts) == 2  # room for two; one waits
        assert app.runtime.pace.due()  # not skipped although the last cycle ran moments ago
        app.runtime.cycle()
        assert all(app.fan_drafts(fan)[0].ts for fan in fans)
        assert not app.runtime.pace.due()  # nothing left waiting: back to the longer interval
    finally:
        app.close()


def test_fanvue_command_says_when_the_last_webhook_arrived_and_how_many_were_refused(app, sandbox):
    app.fan_writes(_fan(sandbox), "hi")
    app.settle()
    assert app.post_unsigned().status_code == 401
    answer = commands.unread(app.svc, app.runtime.bolt.client, utcnow())
    [line] = [b["text"]["text"] for b in answer["blocks"] if "*Webhooks*" in b["text"]["text"]]
    assert "the last arrived" in line and "1 delivery refused" in line


def test_the_demo_shows_a_card_brought_by_a_webhook_without_a_cycle(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert demo.main() == 0
    out = capsys.readouterr().out
    step = out[out.index("== Step 7:") :]
    assert "no poll cycle runs" in step and "posted its card" in step and "[Send]" in step
    assert out.count("== The poll cycle") == 1
