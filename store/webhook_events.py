"""Fanvue webhook deliveries: stored once each, however often they arrive, until they have been handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from store.clock import to_iso
from store.db import write


@dataclass(frozen=True)
class NewEvent:
    """What a delivery says, reduced to what leads to the chat; its text stays in Fanvue."""

    kind: str
    event_key: str  # the same for every delivery of one event
    recipient_uuid: str
    fan_uuid: str
    message_uuid: str | None = None
    message_at: str | None = None
    event_at: str | None = None


@dataclass(frozen=True)
class StoredEvent:
    id: int
    kind: str
    event_key: str
    recipient_uuid: str
    fan_uuid: str
    message_uuid: str | None
    message_at: str | None
    event_at: str | None
    received_at: str
    deliveries: int
    handled_at: str | None


@dataclass(frozen=True)
class Recorded:
    """The event's row, and whether this delivery stored it (False: an earlier delivery did)."""

    id: int
    new: bool


def record(db: sqlite_utils.Database, event: NewEvent, now: datetime) -> Recorded:
    """Store the event unless it is stored already; a repeat only counts one more delivery."""
    with write(db):
        cursor = db.execute(
            "INSERT OR IGNORE INTO webhook_events (kind, event_key, recipient_uuid, fan_uuid, message_uuid, "
            "message_at, event_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                event.kind,
                event.event_key,
                event.recipient_uuid,
                event.fan_uuid,
                event.message_uuid,
                event.message_at,
                event.event_at,
                to_iso(now),
            ],
        )
        if cursor.rowcount == 1:
            assert cursor.lastrowid is not None  # set by the INSERT that just added the row
            return Recorded(cursor.lastrowid, True)
        db.execute(
            "UPDATE webhook_events SET deliveries = deliveries + 1 WHERE kind = ? AND event_key = ?",
            [event.kind, event.event_key],
        )
        row = db.execute(
            "SELECT id FROM webhook_events WHERE kind = ? AND event_key = ?", [event.kind, event.event_key]
        ).fetchone()
    return Recorded(row[0], False)


def get(db: sqlite_utils.Database, event_id: int) -> StoredEvent | None:
    rows = list(db.query("SELECT * FROM webhook_events WHERE id = ?", [event_id]))
    return StoredEvent(**rows[0]) if rows else None


def unhandled(db: sqlite_utils.Database, limit: int = 100) -> list[StoredEvent]:
    """Events not yet handled, in the order their messages were written (deliveries may come in any order)."""
    rows = db.query(
        "SELECT * FROM webhook_events WHERE handled_at IS NULL "
        "ORDER BY COALESCE(message_at, event_at, received_at), id LIMIT ?",
        [limit],
    )
    return [StoredEvent(**row) for row in rows]


def mark_handled(db: sqlite_utils.Database, event_id: int, now: datetime) -> bool:
    """True for the one caller that marked it; False when it was handled already."""
    with write(db):
        cursor = db.execute(
            "UPDATE webhook_events SET handled_at = ? WHERE id = ? AND handled_at IS NULL",
            [to_iso(now), event_id],
        )
    return cursor.rowcount == 1


def forget_handled(db: sqlite_utils.Database, before: datetime) -> int:
    """Delete events handled before `before`; a delivery of one arriving later is then stored anew, which
    is harmless (the chat is read again), so only what Fanvue no longer retries should be forgotten."""
    with write(db):
        cursor = db.execute(
            "DELETE FROM webhook_events WHERE handled_at IS NOT NULL AND handled_at < ?", [to_iso(before)]
        )
    return cursor.rowcount
