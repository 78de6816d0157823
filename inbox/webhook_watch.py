"""What the poll cycle asks of the webhooks: whether they arrive, and whether a message was announced."""

from __future__ import annotations

from datetime import timedelta

import sqlite_utils

from store.clock import to_iso, utcnow
from store.drafts import Draft

# A burst: what a fan writes within this long of the message that began it (WEBHOOK_BURST_SECONDS). Template
# drafts: the rest of a burst is drafted once it is over; an LLM draft waits at most this long.
BURST_SECONDS = 15
# Without a webhook for this many poll intervals (with webhooks), the cycle is back to its own interval.
QUIET_INTERVALS = 2
# Events received this recently mean webhooks work for the creator: a message without one was missed.
RECENT = timedelta(days=1)


def unannounced(db: sqlite_utils.Database, draft: Draft) -> bool:
    """True when webhooks arrive for the draft's creator yet none announced the fan message it answers (one
    written after they began arriving: older messages were never going to be announced)."""
    since = to_iso(utcnow() - RECENT)
    arriving = db.execute(
        "SELECT MIN(received_at) FROM webhook_events WHERE recipient_uuid = ? AND kind = 'message.received' "
        "AND received_at >= ?",
        [draft.creator_uuid, since],
    ).fetchone()[0]
    if arriving is None or draft.fan_message_at < arriving:
        return False
    announced = db.execute(
        "SELECT 1 FROM webhook_events WHERE kind = 'message.received' AND event_key = ? LIMIT 1",
        [draft.fan_message_uuid],
    ).fetchone()
    return announced is None
