"""Filters and queries against a real database holding a known team history; every query walks an index."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from store import drafts, filters, queries
from store.clock import to_iso, utcnow
from store.db import Store
from store.filters import AuditFilter, FilterError
from tests import team_data
from tests.team_data import ALICE, BOB, CAROL, MALLORY, write_team_history

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    st = Store(tmp_path / "bridge.db")
    yield st
    st.close()


@pytest.fixture
def history(store):
    return write_team_history(store.db, utcnow())


def entries(store, **kwargs) -> list[queries.AuditEntry]:
    return queries.audit_entries(store.db, AuditFilter(**kwargs))


# --- parsing -----------------------------------------------------------------------------------


def test_words_in_any_order_give_the_same_filter():
    a = filters.from_words(["<@U0ALICE|alice>", "amy", "edited", "24h", "limit", "5"], NOW)
    b = filters.from_words(["limit", "5", "24h", "edited", "amy", "<@U0ALICE|alice>"], NOW)
    assert (
        a
        == b
        == AuditFilter(
            actor="U0ALICE",
            fan_handle="amy",
            action="edited-and-sent",
            since="2026-11-04T12:00:00.000Z",
            limit=5,
        )
    )


@pytest.mark.parametrize(
    "word, actor",
    [
        ("<@U0ALICE|alice>", "U0ALICE"),
        ("<@U0ALICE>", "U0ALICE"),
        ("U0ALICE", "U0ALICE"),
        ("<@W0ENT>", "W0ENT"),
    ],
)
def test_a_teammate_as_slack_sends_a_mention_or_as_an_id(word, actor):
    assert filters.from_words([word], NOW).actor == actor


@pytest.mark.parametrize(
    "word, since",
    [
        ("30m", "2026-11-05T11:30:00.000Z"),
        ("24h", "2026-11-04T12:00:00.000Z"),
        ("7d", "2026-10-29T12:00:00.000Z"),
        ("2w", "2026-10-22T12:00:00.000Z"),
        ("2026-11-01", "2026-11-01T00:00:00.000Z"),
    ],
)
def test_periods_and_dates(word, since):
    assert filters.from_words([word], NOW).since == since


@pytest.mark.parametrize(
    "word, action",
    [
        ("sent", "sent"),
        ("edited", "edited-and-sent"),
        ("skipped", "skipped"),
        ("failed", "failed"),
        ("superseded", "superseded"),
        ("denied", "denied"),
        ("drafted", "drafted"),
        ("posted", "posted"),
        ("updated", "updated"),
        ("SENT", "sent"),
    ],
)
def test_actions_are_the_audit_log_words(word, action):
    assert filters.from_words([word], NOW).action == action


def test_a_fan_by_handle_or_by_uuid():
    uuid = team_data.fan_uuid("amy")
    assert filters.from_words(["mia-rivers"], NOW) == AuditFilter(fan_handle="mia-rivers")
    assert filters.from_words([uuid.upper()], NOW) == AuditFilter(fan_uuid=uuid)


@pytest.mark.parametrize(
    "words, problem",
    [
        (["@alice"], "needs to be a mention"),
        (["amy", "ben"], "one fan at most"),
        (["sent", "skipped"], "one action at most"),
        (["24h", "7d"], "one period at most"),
        (["limit"], "limit takes a number"),
        (["limit", "many"], "limit takes a number"),
        (["limit", "0"], "between 1 and 100"),
        (["limit", "101"], "between 1 and 100"),
        (["2026-02-30"], "is not a date"),
        (["what?"], "is not a fan handle"),
        (["999999w"], "too long"),
    ],
)
def test_what_cannot_be_understood_says_why(words, problem):
    with pytest.raises(FilterError, match=problem):
        filters.from_words(words, NOW)


def test_command_line_options_get_the_same_checks():
    assert filters.from_options(
        fan="amy", user="<@U0BOB>", action="edited", since="2026-11-01", limit=500, now=NOW
    ) == AuditFilter(
        actor="U0BOB", fan_handle="amy", action="edited-and-sent", since="2026-11-01T00:00:00.000Z", limit=500
    )
    assert filters.from_options(user="scheduler", now=NOW).actor == "scheduler"
    for bad in ({"user": "alice"}, {"action": "deleted"}, {"since": "yesterday"}, {"limit": 0}):
        with pytest.raises(FilterError):
            filters.from_options(now=NOW, **bad)


# --- the audit log -------------------------------------------------------------------------------


def test_everything_newest_first(store, history):
    found = entries(store, limit=100)
    total = store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    assert len(found) == total
    assert [(e.at, e.id) for e in found] == sorted(((e.at, e.id) for e in found), reverse=True)


def test_by_teammate(store, history):
    found = entries(store, actor=ALICE, limit=100)
    assert {e.actor for e in found} == {ALICE}
    assert sorted(e.action for e in found) == ["edited-and-sent", "sent", "sent", "sent", "sent", "skipped"]
    assert entries(store, actor=MALLORY)[0].action == "denied"


def test_by_fan_handle_and_uuid(store, history):
    by_handle = entries(store, fan_handle="amy")
    assert [e.action for e in by_handle] == ["drafted", "sent"]  # drafting is logged now, the reply back then
    assert by_handle[1].text == "Reply to Amy by U0ALICE" and by_handle[1].at == history.reply_at["amy"]
    assert entries(store, fan_uuid=team_data.fan_uuid("amy")) == by_handle


def test_by_action(store, history):
    edited = entries(store, action="edited-and-sent")
    assert [e.fan_handle for e in edited] == ["jon", "dan", "ivy"]  # newest first (jon waited longest)
    assert len(entries(store, action="sent", limit=100)) == 8
    assert {e.fan_handle for e in entries(store, action="skipped")} == {"lea", "max", "ned"}
    assert entries(store, action="failed")[0].text == "Hi Ola!"


def test_since(store, history):
    now = history.now
    recent = entries(store, action="sent", since=filters.parse_period("7d", now), limit=100)
    assert len(recent) == 7 and history.old_at not in {e.at for e in recent}
    assert len(entries(store, action="sent", since=to_iso(now - timedelta(days=30)), limit=100)) == 8


def test_limit_keeps_the_newest(store, history):
    assert [e.fan_handle for e in entries(store, action="sent", limit=2)] == ["amy", "ben"]


def test_filters_combine(store, history):
    assert [e.fan_handle for e in entries(store, actor=ALICE, action="edited-and-sent")] == ["dan"]
    week = filters.parse_period("7d", history.now)
    assert [e.fan_handle for e in entries(store, actor=BOB, action="sent", since=week)] == [
        "eve",
        "fay",
        "gus",
    ]
    assert [e.action for e in entries(store, actor=CAROL, fan_handle="jon", action="edited-and-sent")] == [
        "edited-and-sent"
    ]
    assert entries(store, actor=BOB, fan_handle="amy") == []
    assert [e.fan_handle for e in entries(store, actor=ALICE, action="sent", since=week, limit=2)] == [
        "amy",
        "ben",
    ]


@pytest.mark.parametrize(
    "actor, fan, action, since",
    list(
        itertools.product(
            [None, ALICE], [None, "handle", "uuid"], [None, "sent"], [None, "2026-01-01T00:00:00.000Z"]
        )
    ),
)
def test_every_filter_combination_walks_an_index_in_order(store, actor, fan, action, since):
    f = AuditFilter(
        actor=actor,
        fan_handle="amy" if fan == "handle" else None,
        fan_uuid=team_data.fan_uuid("amy") if fan == "uuid" else None,
        action=action,
        since=since,
    )
    sql, args = queries.audit_sql(f)
    plan = " | ".join(row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall())
    assert "USING INDEX idx_audit_" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # rows come off the index newest first; LIMIT stops the walk
    if fan:
        assert ("idx_audit_fan_at" if fan == "handle" else "idx_audit_fan_uuid_at") in plan
    elif actor and action:
        assert "idx_audit_actor_action_at" in plan
    if any((actor, fan, action, since)):
        assert plan.startswith("SEARCH"), plan


def test_reports_walk_indexes(store):
    for sql, args in [
        ("SELECT COUNT(*) FROM drafts WHERE status = ?", ["pending"]),
        ("SELECT id FROM drafts WHERE status = ? ORDER BY waiting_since, id LIMIT 10", ["pending"]),
    ]:
        plan = " | ".join(r[3] for r in store.db.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall())
        assert "idx_drafts_status" in plan and "TEMP B-TREE" not in plan, plan


# --- the team's numbers --------------------------------------------------------------------------


def test_stats_over_a_week(store, history):
    team = queries.decision_stats(store.db, filters.parse_period("7d", history.now))
    assert team.replies == 10
    assert team.median_reply_seconds == team_data.MEDIAN_7D
    assert team.p90_reply_seconds == team_data.P90_7D
    # Most decisions first; Alice and Bob made five each, so by name.
    assert team.teammates == [
        queries.TeammateStats(ALICE, sent=3, edited=1, skipped=1),
        queries.TeammateStats(BOB, sent=3, edited=0, skipped=2),
        queries.TeammateStats(CAROL, sent=1, edited=2, skipped=0),
    ]


def test_stats_over_a_month_take_the_old_reply_in(store, history):
    team = queries.decision_stats(store.db, filters.parse_period("30d", history.now))
    assert (team.replies, team.median_reply_seconds, team.p90_reply_seconds) == (
        11,
        team_data.MEDIAN_30D,
        team_data.P90_30D,
    )
    assert team.teammates[0] == queries.TeammateStats(ALICE, sent=4, edited=1, skipped=1)


def test_stats_of_an_empty_period(store, history):
    team = queries.decision_stats(store.db, to_iso(history.now + timedelta(days=1)))
    assert (team.replies, team.median_reply_seconds, team.p90_reply_seconds, team.teammates) == (
        0,
        None,
        None,
        [],
    )


def test_percentile_is_nearest_rank():
    assert queries.percentile([5, 1, 4, 2, 3], 90) == 5
    assert queries.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert queries.percentile([7], 90) == 7


# --- the backlog ---------------------------------------------------------------------------------


def test_backlog_counts_pending_and_lists_the_longest_waits(store):
    now = utcnow()
    made = []
    for i in range(12):
        handle = f"fan{i:02d}"
        new = team_data._new(handle, now - timedelta(minutes=5 * (i + 1)))
        made.append(drafts.create(store.db, new))
    drafts.mark_card(store.db, made[-1], channel="C1", ts="100.000001", rev=made[-1].card_rev)
    assert drafts.skip(store.db, made[0], made[0].version, ALICE)
    found = queries.backlog(store.db, limit=10)
    assert found.pending == 11
    assert [c.fan_handle for c in found.oldest] == [f"fan{i:02d}" for i in range(11, 1, -1)]
    assert found.longest_waiting_since == made[-1].waiting_since
    assert (found.oldest[0].channel, found.oldest[0].ts) == ("C1", "100.000001")
    assert found.oldest[1].ts is None
    assert queries.backlog(store.db).pending == 11
