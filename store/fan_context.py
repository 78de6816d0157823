"""Fan context cached per creator and fan: who the fan is to the creator, read from Fanvue now and then."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlite_utils

from store.clock import from_iso, to_iso
from store.db import write
from store.notes import Note

# How long fan context is trusted before it is read again (FAN_CONTEXT_TTL_MINUTES).
DEFAULT_TTL_MINUTES = 60
# CARD_PRIORITY: "wait" posts the longest-waiting cards first; "value" puts top spenders and active
# subscribers ahead of the others (then by wait) when more cards wait than a cycle may post.
PRIORITIES = ("wait", "value")
DEFAULT_PRIORITY = "wait"
# SQLite's default limit of parameters per statement is 999 on older builds; stay well under it.
_CHUNK = 500


@dataclass(frozen=True)
class FanContext:
    """What the card shows about a fan. Money in USD cents; None where Fanvue did not say."""

    creator_uuid: str
    fan_uuid: str
    fetched_at: datetime
    status: str | None = None  # None: no insights (see `unavailable`)
    total_spend_cents: int | None = None
    biggest_payment_cents: int | None = None
    last_purchase_at: datetime | None = None
    subscribed_at: datetime | None = None
    renews_at: datetime | None = None
    auto_renew: bool | None = None
    unavailable: str | None = None  # why insights are missing: "not_found", "forbidden", ...
    online: bool | None = None  # None: presence not known
    last_seen_at: datetime | None = None

    @property
    def has_insights(self) -> bool:
        return self.status is not None


@dataclass(frozen=True)
class FanCard:
    """What a card shows about its fan besides the chat: Fanvue's context, the flag and the team's notes."""

    context: FanContext | None
    is_top_spender: bool
    notes: list[Note] = field(default_factory=list)  # newest first
    no_insights: bool = False  # the creator's login cannot read fan insights (agency, missing scopes)


_COLUMNS = (
    "creator_uuid",
    "fan_uuid",
    "fetched_at",
    "status",
    "total_spend_cents",
    "biggest_payment_cents",
    "last_purchase_at",
    "subscribed_at",
    "renews_at",
    "auto_renew",
    "unavailable",
    "online",
    "last_seen_at",
)
_TIMES = {"fetched_at", "last_purchase_at", "subscribed_at", "renews_at", "last_seen_at"}
_FLAGS = {"auto_renew", "online"}


def stale_fans(
    db: sqlite_utils.Database, creator_uuid: str, fan_uuids: Sequence[str], ttl: timedelta, now: datetime
) -> list[str]:
    """The fans among `fan_uuids` (in their order, once each) with no context for this creator, or context
    fetched `ttl` or longer before `now`."""
    wanted = list(dict.fromkeys(fan_uuids))
    fresh: set[str] = set()
    cutoff = to_iso(now - ttl)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT fan_uuid FROM fan_context WHERE creator_uuid = ? AND fan_uuid IN ({marks}) "
            "AND fetched_at > ?",
            [creator_uuid, *chunk, cutoff],
        ).fetchall()
        fresh.update(row[0] for row in rows)
    return [uuid for uuid in wanted if uuid not in fresh]


def save(db: sqlite_utils.Database, contexts: Iterable[FanContext]) -> int:
    """Store (or replace) each fan's context in one transaction; returns how many were stored."""
    rows = [_row(context) for context in contexts]
    if not rows:
        return 0
    columns = ", ".join(_COLUMNS)
    marks = ", ".join("?" * len(_COLUMNS))
    with write(db):
        db.conn.executemany(f"INSERT OR REPLACE INTO fan_context ({columns}) VALUES ({marks})", rows)
    return len(rows)


def load(db: sqlite_utils.Database, creator_uuid: str, fan_uuid: str) -> FanContext | None:
    """This creator's cached context of the fan, however old, or None when none was ever read."""
    cursor = db.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM fan_context WHERE creator_uuid = ? AND fan_uuid = ?",
        [creator_uuid, fan_uuid],
    )
    row = cursor.fetchone()
    return None if row is None else _context(dict(zip(_COLUMNS, row, strict=True)))


def _row(context: FanContext) -> list:
    row = []
    for column in _COLUMNS:
        value = getattr(context, column)
        if column in _TIMES and value is not None:
            value = to_iso(value)
        elif column in _FLAGS and value is not None:
            value = int(value)
        row.append(value)
    return row


def _context(row: dict) -> FanContext:
    for column in _TIMES:
        if row[column] is not None:
            row[column] = from_iso(row[column])
    for column in _FLAGS:
        if row[column] is not None:
            row[column] = bool(row[column])
    return FanContext(**row)


def touch_cards(db: sqlite_utils.Database, creator_uuid: str, fan_uuids: Sequence[str]) -> int:
    """The waiting cards of these fans are shown again (their context or notes changed); how many."""
    touched = 0
    wanted = list(dict.fromkeys(fan_uuids))
    with write(db):
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            touched += db.execute(
                f"UPDATE drafts SET card_rev = card_rev + 1 WHERE creator_uuid = ? AND fan_uuid IN ({marks}) "
                "AND status = 'pending' AND ts IS NOT NULL AND card_rev <= card_synced_rev",
                [creator_uuid, *chunk],
            ).rowcount
    return touched


def priority_order(priority: str, drafts_table: str = "drafts") -> str:
    """The ORDER BY terms that put valued fans' cards first under CARD_PRIORITY=value ('' for wait): a
    top spender by the chat row, or a fan whose stored context says they subscribe now."""
    if priority != "value":
        return ""
    d = drafts_table
    return (
        f"NOT ({d}.is_top_spender = 1 OR EXISTS (SELECT 1 FROM fan_context c WHERE c.creator_uuid = "
        f"{d}.creator_uuid AND c.fan_uuid = {d}.fan_uuid AND c.status = 'subscriber')), "
    )


def insights_unavailable(db: sqlite_utils.Database, creator_uuid: str) -> bool:
    """Whether the team was told this creator's login cannot read fan insights."""
    row = db.execute("SELECT 1 FROM fan_context_notices WHERE creator_uuid = ?", [creator_uuid]).fetchone()
    return row is not None
