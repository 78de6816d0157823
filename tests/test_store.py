"""The store against a real SQLite file: schema, pragmas, transitions, races and the audit log."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

import pytest

from store import audit, drafts
from store.db import BUSY_TIMEOUT_MS, Store
from store.drafts import Draft, NewDraft
from store.migrations import migrations

FAN = "fan-0001"


def new_draft(
    fan: str = FAN,
    message: str = "msg-1",
    *,
    waiting_since: str = "2025-07-01T10:00:00.000Z",
    text: str = "Hey, thanks for the message!",
) -> NewDraft:
    return NewDraft(
        creator_uuid="creator-1",
        fan_uuid=fan,
        fan_handle=f"@{fan}",
        fan_name=f"Fan {fan}",
        fan_message_uuid=message,
        fan_message_at=waiting_since,
        waiting_since=waiting_since,
        unread_count=1,
        draft_text=text,
        context=[{"from_fan": True, "text": "hi", "type": "TEXT"}],
    )


@pytest.fixture
def store(tmp_path):
    st = Store(tmp_path / "bridge.db")
    yield st
    st.close()


def audit_actions(store: Store, draft_id: int) -> list[str]:
    return [row["action"] for row in audit.for_draft(store.db, draft_id)]


def audit_count(store: Store) -> int:
    return store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


def run_together(workers: list[Callable[[], object]]) -> list[object]:
    """Start every worker at the same moment, each in its own thread (so each on its own connection)."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = workers[i]()
        except BaseException as exc:  # surfaced in the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    return results


# --- schema and connection settings


def test_migrations_applied_once_and_reopening_is_idempotent(tmp_path):
    path = tmp_path / "nested" / "bridge.db"
    first = Store(path)
    created = drafts.create(first.db, new_draft())
    first.close()

    second = Store(path)
    try:
        rows = list(second.db.query("SELECT migration_set, name FROM _sqlite_migrations"))
        # Every migration recorded exactly once, in the order they are declared.
        assert rows == [{"migration_set": "fanvue-slack", "name": m.name} for m in migrations._migrations]
        assert rows[0]["name"] == "m001_create_tables"
        assert {"drafts", "audit"} <= set(second.db.table_names())
        assert drafts.get(second.db, created.id) == created
        assert audit_actions(second, created.id) == ["drafted"]
    finally:
        second.close()


def test_wal_mode_busy_timeout_and_foreign_keys_on_every_connection(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    seen: dict[str, object] = {}

    def other_thread() -> None:
        db = store.db
        seen["conn"] = db.conn
        seen["journal"] = db.execute("PRAGMA journal_mode").fetchone()[0]
        seen["busy"] = db.execute("PRAGMA busy_timeout").fetchone()[0]
        seen["fk"] = db.execute("PRAGMA foreign_keys").fetchone()[0]

    run_together([other_thread])
    assert seen["conn"] is not store.db.conn
    assert seen["journal"] == "wal"
    assert seen["busy"] == BUSY_TIMEOUT_MS > 0
    assert seen["fk"] == 1


def test_one_draft_per_fan_message(store):
    first = drafts.create(store.db, new_draft())
    again = drafts.create(store.db, new_draft(text="a different draft"))
    assert first is not None and first.status == drafts.PENDING and first.version == 1
    assert again is None
    rows = list(store.db.query("SELECT id, draft_text FROM drafts"))
    assert rows == [{"id": first.id, "draft_text": "Hey, thanks for the message!"}]
    assert audit_actions(store, first.id) == ["drafted"]
    assert drafts.find(store.db, FAN, "msg-1") == first
    # the same message id from another fan is another message
    assert drafts.create(store.db, new_draft(fan="fan-0002")) is not None


# --- transitions


def test_claim_for_send_has_exactly_one_winner_across_threads(store):
    draft = drafts.create(store.db, new_draft())
    connections = []

    def claimer(n: int) -> Callable[[], bool]:
        def claim() -> bool:
            connections.append(id(store.db.conn))
            return drafts.claim_for_send(store.db, draft, draft.version, f"U{n:03d}", f"reply from {n}")

        return claim

    results = run_together([claimer(n) for n in range(8)])
    assert results.count(True) == 1
    assert results.count(False) == 7
    assert len(set(connections)) == 8
    winner = results.index(True)
    after = drafts.get(store.db, draft.id)
    assert after.status == drafts.SENDING
    assert after.decided_by == f"U{winner:03d}"
    assert after.final_text == f"reply from {winner}"
    assert after.card_rev == draft.card_rev + 1
    claims = [row for row in audit.for_draft(store.db, draft.id) if row["action"] == "claimed"]
    assert [(c["actor"], c["details"]) for c in claims] == [(f"U{winner:03d}", {"version": 1})]


def test_skip_and_send_racing_for_one_card_leave_one_decision(store):
    for round_no in range(10):
        draft = drafts.create(store.db, new_draft(message=f"msg-{round_no}", fan=f"fan-{round_no}"))
        workers: list[Callable[[], object]] = []
        for n in range(3):
            workers.append(
                lambda n=n, d=draft: ("send", f"US{n}", drafts.claim_for_send(store.db, d, 1, f"US{n}", "hi"))
            )
            workers.append(lambda n=n, d=draft: ("skip", f"UK{n}", drafts.skip(store.db, d, 1, f"UK{n}")))
        results = run_together(workers)
        winners = [(kind, who) for kind, who, won in results if won]
        assert len(winners) == 1, results
        kind, who = winners[0]
        after = drafts.get(store.db, draft.id)
        assert after.status == (drafts.SENDING if kind == "send" else drafts.SKIPPED)
        assert after.decided_by == who
        expected = "claimed" if kind == "send" else "skipped"
        assert audit_actions(store, draft.id) == ["drafted", expected]


def test_claim_and_skip_refuse_an_old_version_and_write_no_audit(store):
    draft = drafts.create(store.db, new_draft())
    before = audit_count(store)
    assert drafts.claim_for_send(store.db, draft, version=2, actor="U1", text="hi") is False
    assert drafts.skip(store.db, draft, version=2, actor="U1") is False
    assert drafts.get(store.db, draft.id) == draft
    assert audit_count(store) == before


def test_skip_records_who_and_the_draft(store):
    draft = drafts.create(store.db, new_draft())
    assert drafts.skip(store.db, draft, 1, "U42") is True
    after = drafts.get(store.db, draft.id)
    assert (after.status, after.decided_by, after.card_rev) == (drafts.SKIPPED, "U42", 2)
    row = audit.for_draft(store.db, draft.id)[-1]
    assert (row["action"], row["actor"], row["details"]) == ("skipped", "U42", {"text": draft.draft_text})
    assert drafts.skip(store.db, after, 1, "U43") is False
    assert audit_actions(store, draft.id) == ["drafted", "skipped"]


def test_redraft_bumps_version_and_card_and_records_before_and_after(store):
    draft = drafts.create(store.db, new_draft())
    newer = new_draft(message="msg-2", text="Second thoughts", waiting_since="2025-07-01T10:05:00.000Z")
    fresh = drafts.redraft(store.db, draft, newer, notice="The fan wrote again")
    assert fresh.version == draft.version + 1
    assert fresh.card_rev == draft.card_rev + 1
    assert (fresh.fan_message_uuid, fresh.draft_text, fresh.notice) == (
        "msg-2",
        "Second thoughts",
        "The fan wrote again",
    )
    assert fresh.status == drafts.PENDING
    row = audit.for_draft(store.db, draft.id)[-1]
    assert row["action"] == "updated"
    assert row["details"]["before"] == "Hey, thanks for the message!"
    assert row["details"]["after"] == "Second thoughts"
    assert row["details"]["version"] == 2
    # the card the teammate saw (version 1) can no longer be decided
    assert drafts.claim_for_send(store.db, fresh, 1, "U1", "hi") is False
    # a second redraft from the stale object loses, and writes nothing
    before = audit_count(store)
    assert drafts.redraft(store.db, draft, new_draft(message="msg-3")) is None
    assert audit_count(store) == before
    assert drafts.get(store.db, draft.id) == fresh


def test_redraft_from_sending_reopens_the_card(store):
    draft = drafts.create(store.db, new_draft())
    assert drafts.claim_for_send(store.db, draft, 1, "U1", "edited text")
    claimed = drafts.get(store.db, draft.id)
    assert drafts.redraft(store.db, claimed, new_draft(message="msg-2")) is None  # still sending: not pending
    fresh = drafts.redraft(
        store.db, claimed, new_draft(message="msg-2"), from_status=drafts.SENDING, actor="U1"
    )
    assert (fresh.status, fresh.version, fresh.final_text, fresh.decided_by) == (
        drafts.PENDING,
        2,
        None,
        None,
    )
    assert audit_actions(store, draft.id) == ["drafted", "claimed", "updated"]


def test_finish_moves_on_only_from_the_expected_status(store):
    draft = drafts.create(store.db, new_draft())
    before = audit_count(store)
    wrong = drafts.finish(
        store.db, draft, to_status=drafts.SENT, from_statuses=(drafts.SENDING,), action="sent", actor="U1"
    )
    assert wrong is False
    assert audit_count(store) == before
    assert drafts.get(store.db, draft.id) == draft

    assert drafts.claim_for_send(store.db, draft, 1, "U1", "final words")
    done = drafts.finish(
        store.db,
        draft,
        to_status=drafts.SENT,
        from_statuses=(drafts.SENDING, drafts.UNKNOWN),
        action="sent",
        actor="U1",
        fanvue_message_uuid="fv-msg-9",
        details={"text": "final words"},
    )
    assert done is True
    after = drafts.get(store.db, draft.id)
    assert (after.status, after.fanvue_message_uuid, after.final_text, after.card_rev) == (
        drafts.SENT,
        "fv-msg-9",
        "final words",
        3,
    )
    row = audit.for_draft(store.db, draft.id)[-1]
    assert (row["action"], row["actor"], row["details"]) == ("sent", "U1", {"text": "final words"})
    # a final status is final
    assert not drafts.finish(
        store.db, after, to_status=drafts.FAILED, from_statuses=(drafts.SENDING,), action="failed", actor="U1"
    )
    assert audit_actions(store, draft.id) == ["drafted", "claimed", "sent"]


def test_finish_keeps_an_earlier_fanvue_message_id_and_the_decider(store):
    draft = drafts.create(store.db, new_draft())
    assert drafts.claim_for_send(store.db, draft, 1, "U1", "x")
    assert drafts.finish(
        store.db,
        draft,
        to_status=drafts.UNKNOWN,
        from_statuses=(drafts.SENDING,),
        action="unknown",
        actor="U1",
        fanvue_message_uuid="fv-1",
        error="timed out",
    )
    assert drafts.finish(
        store.db,
        draft,
        to_status=drafts.SUPERSEDED,
        from_statuses=(drafts.UNKNOWN,),
        action="superseded",
        actor="scheduler",
    )
    after = drafts.get(store.db, draft.id)
    assert (after.status, after.fanvue_message_uuid, after.decided_by, after.error) == (
        drafts.SUPERSEDED,
        "fv-1",
        "U1",
        None,
    )


def test_mark_card_records_posted_only_the_first_time(store):
    draft = drafts.create(store.db, new_draft())
    drafts.mark_card(store.db, draft, channel="C1", ts="111.000", rev=draft.card_rev)
    posted = drafts.get(store.db, draft.id)
    assert (posted.channel, posted.ts, posted.card_synced_rev) == ("C1", "111.000", 1)
    assert drafts.skip(store.db, posted, 1, "U1")
    skipped = drafts.get(store.db, draft.id)
    drafts.mark_card(store.db, skipped, channel="C1", ts="111.000", rev=skipped.card_rev)
    assert drafts.get(store.db, draft.id).card_synced_rev == 2
    # an older render finishing late never moves the synced revision back
    drafts.mark_card(store.db, skipped, channel="C1", ts="111.000", rev=1)
    assert drafts.get(store.db, draft.id).card_synced_rev == 2
    assert audit_actions(store, draft.id) == ["drafted", "posted", "skipped"]
    posts = [r for r in audit.for_draft(store.db, draft.id) if r["action"] == "posted"]
    assert posts[0]["details"] == {"channel": "C1", "ts": "111.000"}


def test_cards_to_publish_puts_updates_first_then_new_posts_oldest_wait_first(store):
    def make(fan: str, waiting: str) -> Draft:
        return drafts.create(store.db, new_draft(fan=fan, waiting_since=f"2025-07-01T{waiting}:00.000Z"))

    late_posted = make("a", "11:00")
    early_posted = make("b", "09:00")
    in_sync = make("c", "08:00")
    make("d", "10:30")  # new post, waiting since later
    make("e", "08:30")  # new post, waiting since earlier
    never_shown = make("f", "07:00")
    for d, ts in ((late_posted, "1.1"), (early_posted, "1.2"), (in_sync, "1.3")):
        drafts.mark_card(store.db, d, channel="C1", ts=ts, rev=d.card_rev)
    for d in (late_posted, early_posted):
        assert drafts.skip(store.db, drafts.get(store.db, d.id), 1, "U1")
    assert drafts.skip(store.db, never_shown, 1, "U1")  # decided before it was posted: nothing to show

    due = drafts.cards_to_publish(store.db)
    assert [d.fan_uuid for d in due] == ["b", "a", "e", "d"]
    assert [d.ts is None for d in due] == [False, False, True, True]


# --- the audit log


def test_audit_log_refuses_updates_and_deletes(store):
    draft = drafts.create(store.db, new_draft())
    row_id = audit.for_draft(store.db, draft.id)[0]["id"]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("UPDATE audit SET actor = 'someone else' WHERE id = ?", [row_id])
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("DELETE FROM audit WHERE id = ?", [row_id])
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.conn.execute("DELETE FROM audit")
    store.db.conn.rollback()
    assert audit.for_draft(store.db, draft.id)[0]["actor"] == audit.SCHEDULER
    assert audit_count(store) == 1


def test_recent_lists_newest_first(store):
    draft = drafts.create(store.db, new_draft())
    assert drafts.skip(store.db, draft, 1, "U7")
    rows = audit.recent(store.db, limit=5)
    assert [(r["action"], r["actor"]) for r in rows] == [("skipped", "U7"), ("drafted", audit.SCHEDULER)]
    assert all(r["at"].endswith("Z") for r in rows)


def _transitions() -> dict[str, Callable[[Store, Draft], object]]:
    return {
        "create": lambda st, d: drafts.create(st.db, new_draft(message="msg-other")),
        "claim_for_send": lambda st, d: drafts.claim_for_send(st.db, d, 1, "U1", "hi"),
        "skip": lambda st, d: drafts.skip(st.db, d, 1, "U1"),
        "redraft": lambda st, d: drafts.redraft(st.db, d, new_draft(message="msg-2")),
        "finish": lambda st, d: drafts.finish(
            st.db,
            d,
            to_status=drafts.SUPERSEDED,
            from_statuses=(drafts.PENDING,),
            action="superseded",
            actor="U1",
        ),
        "mark_card": lambda st, d: drafts.mark_card(st.db, d, channel="C1", ts="1.1", rev=d.card_rev),
    }


@pytest.mark.parametrize("name", list(_transitions()))
def test_each_transition_writes_its_audit_row_in_the_same_transaction(store, name):
    transition = _transitions()[name]
    draft = drafts.create(store.db, new_draft())

    # With the audit insert refused, the change it describes must not land either.
    store.db.execute(
        "CREATE TEMP TRIGGER refuse_audit BEFORE INSERT ON main.audit "
        "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
    )
    with pytest.raises(sqlite3.DatabaseError, match="audit refused"):
        transition(store, draft)
    assert not store.db.conn.in_transaction
    assert list(store.db.query("SELECT id FROM drafts")) == [{"id": draft.id}]
    assert drafts.get(store.db, draft.id) == draft
    assert audit_count(store) == 1

    # With it allowed, the change and exactly one audit row land together.
    store.db.execute("DROP TRIGGER temp.refuse_audit")
    transition(store, draft)
    assert audit_count(store) == 2
    assert drafts.get(store.db, draft.id) != draft or name == "create"
