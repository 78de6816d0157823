"""Stored webhook events: one row per event however often it arrives, taken up in message order, handled once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store import webhook_events
from store.db import Store
from store.webhook_events import NewEvent

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    store = Store(tmp_path / "events.db")
    yield store.db
    store.close()


def _event(key: str, at: str | None = None, kind: str = "message.received") -> NewEvent:
    return NewEvent(kind, key, "creator-1", "fan-1", message_uuid=key, message_at=at)


def test_a_repeat_is_counted_on_the_first_row(db):
    first = webhook_events.record(db, _event("m-1"), NOW)
    again = webhook_events.record(db, _event("m-1"), NOW + timedelta(seconds=5))
    assert first.new and not again.new and again.id == first.id
    stored = webhook_events.get(db, first.id)
    assert stored.deliveries == 2 and stored.received_at == "2026-11-01T12:00:00.000Z"


def test_the_same_key_of_another_kind_is_another_event(db):
    webhook_events.record(db, _event("k"), NOW)
    assert webhook_events.record(db, _event("k", kind="message.read"), NOW).new


def test_unhandled_events_come_in_the_order_their_messages_were_written(db):
    webhook_events.record(db, _event("late", "2026-11-01T11:00:02.000Z"), NOW)
    webhook_events.record(db, _event("early", "2026-11-01T11:00:01.000Z"), NOW)
    assert [e.message_uuid for e in webhook_events.unhandled(db)] == ["early", "late"]


def test_an_event_is_handled_once_and_then_leaves_the_queue(db):
    recorded = webhook_events.record(db, _event("m-1"), NOW)
    assert webhook_events.mark_handled(db, recorded.id, NOW)
    assert not webhook_events.mark_handled(db, recorded.id, NOW)
    assert webhook_events.unhandled(db) == []


def test_only_events_handled_before_the_cutoff_are_forgotten(db):
    old = webhook_events.record(db, _event("old"), NOW).id
    recent = webhook_events.record(db, _event("recent"), NOW).id
    waiting = webhook_events.record(db, _event("waiting"), NOW).id
    webhook_events.mark_handled(db, old, NOW - timedelta(days=40))
    webhook_events.mark_handled(db, recent, NOW)
    assert webhook_events.forget_handled(db, NOW - timedelta(days=30)) == 1
    assert webhook_events.get(db, old) is None
    assert webhook_events.get(db, recent) and webhook_events.get(db, waiting)
