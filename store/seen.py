"""Slack requests already acted on, remembered in the database so every process sharing it knows them."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta

import sqlite_utils

from store.clock import to_iso
from store.db import BUSY_TIMEOUT_MS, write

# Slack accepts a signature whose timestamp is up to 5 minutes from its own clock, either side, and retries
# an event for a few minutes more: a copy older than this is refused by its signature or never comes.
REMEMBER = timedelta(minutes=15)
# How long the acknowledge path waits for the database; Slack wants the acknowledgement within 3 seconds.
WAIT_MS = 1000


def first_time(db: sqlite_utils.Database, key: str, now: datetime) -> bool:
    """Record `key`; True when it was not seen in the last REMEMBER, False for a repeat.

    Raises StoreError when the database stayed locked for WAIT_MS (or cannot be written).
    """
    with _waiting_at_most(db, WAIT_MS), write(db):
        db.execute("DELETE FROM seen_requests WHERE at < ?", [to_iso(now - REMEMBER)])
        cursor = db.execute("INSERT OR IGNORE INTO seen_requests (key, at) VALUES (?, ?)", [key, to_iso(now)])
    return cursor.rowcount == 1


@contextlib.contextmanager
def _waiting_at_most(db: sqlite_utils.Database, wait_ms: int) -> Iterator[None]:
    db.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
    try:
        yield
    finally:
        with contextlib.suppress(sqlite3.Error):
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
