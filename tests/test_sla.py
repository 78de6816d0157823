"""SLA clocks over real HTTP: card ages as the clock moves, nudges in the thread, louder, once, batched."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import datetime, timedelta

import pytest

import settings as settings_module
from inbox.sla import SlaPolicy, parse_quiet_hours
from slack.take_blocks import TAKE
from store import audit, clock, drafts, queries, report
from store.clock import to_iso
from store.db import write
from store.drafts import Draft
from tests.harness import CHANNEL, Harness
from tests.pending_card import PendingCard, post_pending_card
from tests.team_data import write_team_history
from tests.test_approver_groups import GROUP, group_desk, two  # noqa: F401 - the fixture
from tests.test_many_creators import creator_logins, handles
from tests.test_slash_command import command, shown

pytestmark = pytest.mark.both_modes  # each Slack-facing test runs over HTTP and over Socket Mode

SLA = 15
FAR = timedelta(days=1)


@pytest.fixture
def harness(tmp_path, sandbox, slack):
    h = Harness(tmp_path / "bridge.db", sandbox, slack, sla_minutes=SLA)
    yield h
    h.close()


@pytest.fixture
def pending_card(harness: Harness) -> PendingCard:
    return post_pending_card(harness)


class Clock:
    """The app's clock, moved by the test; the cards render with it too."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, harness: Harness) -> None:
        self.now = clock.utcnow()
        monkeypatch.setattr(clock, "utcnow", lambda: self.now)
        harness.cards.port.clock = lambda: self.now

    def at(self, minutes: float) -> None:
        self.now = self.start + timedelta(minutes=minutes)

    start: datetime


def waiting_from(harness: Harness, watch: Clock, targets: list[Draft]) -> None:
    """Only `targets` wait since now; every other card's fan wrote a day from now (never overdue here). The
    seed's fans wrote days ago, so the first cycle nudged about every card: that is forgotten, as are the
    Slack calls so far."""
    watch.start = watch.now
    ids = [d.id for d in targets]
    with harness.slack.state.lock:
        harness.slack.state.call_log.clear()
    with write(harness.store.db):
        harness.store.db.execute("DELETE FROM sla_marks")
        harness.store.db.execute(
            "UPDATE drafts SET waiting_since = ? WHERE status = 'pending'", [to_iso(watch.now + FAR)]
        )
        for draft_id in ids:
            harness.store.db.execute(
                "UPDATE drafts SET waiting_since = ? WHERE id = ?", [to_iso(watch.now), draft_id]
            )


def card_text(harness: Harness, draft: Draft) -> str:
    return json.dumps(harness.card(draft).blocks, ensure_ascii=False)


def replies(harness: Harness, draft: Draft) -> list:
    draft = drafts.get(harness.store.db, draft.id)
    return [c for c in harness.slack.calls("chat.postMessage") if c.args.get("thread_ts") == draft.ts]


def nudges(harness: Harness) -> list:
    return [c for c in harness.slack.calls("chat.postMessage") if "overdue" in str(c.args.get("text"))]


def test_the_card_shows_its_age_against_the_sla_as_the_clock_moves(
    pending_card: PendingCard, monkeypatch: pytest.MonkeyPatch
):
    harness, _fan, draft = pending_card
    watch = Clock(monkeypatch, harness)
    waiting_from(harness, watch, [draft])
    harness.cycle()
    harness.cycle()
    watch.at(2)
    harness.click(draft, TAKE, user="U0ALICE")  # any update renders the age as of now
    assert "🟢 on time: due in 13 min" in card_text(harness, draft)
    updates = harness.card(draft).updates
    harness.cycle()  # same state: the card is not updated again
    assert harness.card(draft).updates == updates
    watch.at(12)
    harness.cycle()
    assert "🟠 due soon: due in 3 min" in card_text(harness, draft)
    watch.at(19)
    harness.cycle()
    assert "🔴 *overdue by 4 min*" in card_text(harness, draft)


def test_one_nudge_at_the_sla_in_the_thread_names_the_taker_and_a_louder_one_at_twice(
    pending_card: PendingCard, monkeypatch: pytest.MonkeyPatch
):
    harness, _fan, draft = pending_card
    watch = Clock(monkeypatch, harness)
    waiting_from(harness, watch, [draft])
    harness.click(draft, TAKE, user="U0ALICE")
    watch.at(SLA - 1)
    harness.cycle()
    assert replies(harness, draft) == []
    harness.click(draft, TAKE, user="U0ALICE")  # keeps the take alive
    watch.at(SLA + 1)
    harness.cycle()
    harness.cycle()
    [first] = replies(harness, draft)
    assert "<@U0ALICE>" in first.args["text"] and not first.args.get("reply_broadcast")
    row = [r for r in audit.for_draft(harness.store.db, draft.id) if r["action"] == "nudged"][-1]
    assert row["details"] == {"level": 1, "to": "<@U0ALICE>"} and row["actor"] == audit.SCHEDULER
    watch.at(2 * SLA + 1)
    harness.cycle()
    harness.cycle()
    first_again, louder = replies(harness, draft)
    assert louder.args.get("reply_broadcast") in (True, "true", "1")
    assert "twice" in louder.args["text"]


def test_an_untaken_card_names_the_approvers_and_a_restart_never_nudges_again(
    tmp_path, sandbox, slack, monkeypatch: pytest.MonkeyPatch
):
    harness = Harness(
        tmp_path / "bridge.db", sandbox, slack, approvers=frozenset({"U0BOB", "U0CAROL"}), sla_minutes=SLA
    )
    try:
        harness.cycle()
        draft = harness.draft_for(harness.unread_fan_with_text()["uuid"])
        watch = Clock(monkeypatch, harness)
        waiting_from(harness, watch, [draft])
        watch.at(SLA + 1)
        harness.cycle()
        [nudge] = replies(harness, draft)
        assert "<@U0BOB> <@U0CAROL>" in nudge.args["text"]
    finally:
        harness.close()
    again = Harness(tmp_path / "bridge.db", sandbox, slack, sla_minutes=SLA)
    try:
        Clock(monkeypatch, again).now = watch.now + timedelta(minutes=1)
        again.cycle()
        assert len(replies(again, draft)) == 1
    finally:
        again.close()


def test_many_overdue_cards_in_one_channel_get_one_message_with_links(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    harness.cycle()
    rows = harness.store.db.query("SELECT id FROM drafts WHERE status = 'pending' AND ts IS NOT NULL")
    waiting = [drafts.get(harness.store.db, r["id"]) for r in rows]
    assert len(waiting) > 3
    watch = Clock(monkeypatch, harness)
    waiting_from(harness, watch, waiting)
    watch.at(SLA + 1)
    harness.cycle()
    [listing] = [c for c in harness.slack.calls("chat.postMessage") if "cards are overdue" in c.args["text"]]
    assert listing.args["channel"] == CHANNEL and not listing.args.get("thread_ts")
    assert f"{len(waiting)} cards are overdue" in listing.args["text"]
    links = harness.slack.calls("chat.getPermalink")
    assert len(links) == len(waiting) and listing.args["text"].count("<http") == len(waiting)
    assert all(replies(harness, d) == [] for d in waiting)
    harness.cycle()
    assert len([c for c in harness.slack.calls("chat.postMessage") if "overdue" in c.args["text"]]) == 1


def test_quiet_hours_hold_nudges_and_release_them_after(
    pending_card: PendingCard, monkeypatch: pytest.MonkeyPatch
):
    harness, _fan, draft = pending_card
    watch = Clock(monkeypatch, harness)
    watch.now = watch.now.replace(hour=22, minute=50, second=0, microsecond=0)
    waiting_from(harness, watch, [draft])
    harness.svc.sla.policy = dataclasses.replace(
        harness.svc.sla.policy, quiet=parse_quiet_hours("23:00-07:00", "UTC")
    )
    watch.at(SLA + 1)  # 23:06: quiet
    harness.cycle()
    assert replies(harness, draft) == []
    watch.at(8 * 60 + 20)  # 07:10 the next morning: long past twice the SLA, one louder nudge
    harness.cycle()
    [nudge] = replies(harness, draft)
    assert "twice" in nudge.args["text"]


def test_the_desk_files_sla_and_approver_group_per_creator(two, slack, tmp_path, monkeypatch):  # noqa: F811
    desk = group_desk(two)
    a = handles(two)[0]
    creators = dict(desk.creators)
    creators[a] = dataclasses.replace(creators[a], sla_minutes=5)
    desk = dataclasses.replace(desk, creators=creators)
    harness = Harness(
        tmp_path / "bridge.db", two, slack, logins=creator_logins(two), desk=desk, sla_minutes=SLA
    )
    try:
        harness.cycle()
        rows = harness.store.db.query(
            "SELECT id FROM drafts WHERE status = 'pending' AND ts IS NOT NULL AND creator_handle = ? "
            "LIMIT 1",
            [a],
        )
        [draft] = [drafts.get(harness.store.db, r["id"]) for r in rows]
        watch = Clock(monkeypatch, harness)
        waiting_from(harness, watch, [draft])
        watch.at(6)
        harness.cycle()
        [nudge] = replies(harness, draft)
        assert f"<!subteam^{GROUP}>" in nudge.args["text"] and "SLA 5 min" in nudge.args["text"]
        assert "overdue by 1 min" in card_text(harness, draft)
    finally:
        harness.close()


def test_sla_policy_prefers_the_creators_minutes():
    policy = SlaPolicy(minutes=15, per_creator=lambda h: 5 if h == "a" else None)
    assert (policy.minutes_for("a"), policy.minutes_for("b")) == (5, 15)


def test_fanvue_says_how_many_cards_are_overdue_first(harness: Harness, monkeypatch: pytest.MonkeyPatch):
    harness.cycle()  # the seed's fans wrote days ago: every card is past twice the SLA
    pending = harness.store.db.execute("SELECT COUNT(*) FROM drafts WHERE status = 'pending'").fetchone()[0]
    answer = command(harness, "")
    assert answer["blocks"][0]["text"]["text"] == (
        f"🔴 *{pending} cards overdue* ({pending} past twice the SLA): the oldest are listed below."
    )
    rows = harness.store.db.query("SELECT id FROM drafts WHERE status = 'pending' LIMIT 1")
    watch = Clock(monkeypatch, harness)
    waiting_from(harness, watch, [drafts.get(harness.store.db, r["id"]) for r in rows])
    watch.at(SLA + 1)
    answer = command(harness, "")
    assert answer["blocks"][0]["text"]["text"].startswith("🔴 *1 card overdue*: ")
    watch.at(0)
    assert command(harness, "")["blocks"][0]["text"]["text"] == "🟢 *No card is overdue.*"


def test_stats_show_the_sla_hit_rate_per_teammate(harness: Harness):
    write_team_history(harness.store.db, clock.utcnow())
    text = shown(command(harness, "stats"))
    # Within the default 15 min of the fan's message: all of Alice's and Bob's, not Carol's 100 min one.
    assert "• <@U0ALICE>: 3 sent, 1 edited and sent, 1 skipped; 4 of 4 replies within the SLA (100%)" in text
    assert "• <@U0BOB>: 3 sent, 0 edited and sent, 2 skipped; 3 of 3 replies within the SLA (100%)" in text
    assert "• <@U0CAROL>: 1 sent, 2 edited and sent, 0 skipped; 2 of 3 replies within the SLA (67%)" in text
    # The SLA a card had while it waited counts (a creator's 5 min): Bob's 6 and 7 min replies are late.
    with write(harness.store.db):
        harness.store.db.execute("INSERT INTO sla_marks (draft_id, minutes) SELECT id, 5 FROM drafts")
    text = shown(command(harness, "stats"))
    assert "• <@U0BOB>: 3 sent, 0 edited and sent, 2 skipped; 1 of 3 replies within the SLA (33%)" in text
    team = queries.decision_stats(harness.store.db, clock.to_iso(clock.utcnow() - timedelta(days=30)))
    rows = {r["actor"]: r for r in csv.DictReader(io.StringIO(report.stats_text(team, "csv")))}
    assert (rows["U0BOB"]["sla_on_time"], rows["U0BOB"]["sla_replies"]) == ("1", "3")
    assert (rows["U0CAROL"]["sla_on_time"], rows["U0CAROL"]["sla_replies"]) == ("0", "3")
    assert "<@U0CAROL>: 1 sent, 2 edited and sent, 0 skipped; 0 of 3 replies within the SLA (0%)" in text


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"QUIET_HOURS": "23:00"}, "QUIET_HOURS should be two times like 23:00-07:00"),
        ({"QUIET_HOURS": "25:00-07:00"}, "QUIET_HOURS should be two times like 23:00-07:00 (HH:MM)"),
        ({"QUIET_HOURS": "23:00-07:00", "TZ": "Mars/Olympus"}, "TZ should be a time zone name"),
        ({"SLA_MINUTES": "0"}, "SLA_MINUTES"),
    ],
)
def test_sla_settings_are_checked_with_a_clear_error(env: dict, problem: str):
    base = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CHANNEL_ID": "C1", "SLACK_SIGNING_SECRET": "s"}
    base["FANVUE_ACCESS_TOKEN"] = "t"
    with pytest.raises(settings_module.SettingsError) as caught:
        settings_module.from_mapping({**base, **env})
    assert problem in str(caught.value)
    good = settings_module.from_mapping({**base, "QUIET_HOURS": "23:00-07:00", "TZ": "Europe/London"})
    assert (good.sla_minutes, good.quiet_hours, good.tz) == (15, "23:00-07:00", "Europe/London")
    assert settings_module.from_mapping({**base, "TZ": ":/etc/localtime"}).tz is None  # unused: not read
