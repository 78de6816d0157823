"""The SLA marks of waiting cards: the state each card last showed and the nudges sent about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlite_utils

from store import audit, clock, drafts
from store.db import write
from store.drafts import Draft
from store.queries import REPLY_ACTIONS

NUDGED = "nudged"
DEFAULT_SLA_MINUTES = 15  # SLA_MINUTES: a waiting card is overdue after this


def waiting(db: sqlite_utils.Database) -> list[tuple[Draft, str | None, int]]:
    """Every posted card still waiting for a decision, with its shown state and nudges sent so far."""
    rows = db.query(
        "SELECT d.*, m.state AS sla_state, m.nudges AS sla_nudges FROM drafts d "
        "LEFT JOIN sla_marks m ON m.draft_id = d.id WHERE d.status = ? AND d.ts IS NOT NULL "
        "ORDER BY d.waiting_since",
        [drafts.PENDING],
    )
    out = []
    for row in rows:
        state, nudges = row.pop("sla_state"), row.pop("sla_nudges")
        out.append((Draft.from_row(row), state, nudges or 0))
    return out


def waits(db: sqlite_utils.Database, creator: str | None = None) -> list[tuple[str, str]]:
    """(creator handle, waiting since) of every draft waiting for a decision, of one creator with `creator`."""
    only, args = (" AND creator_handle = ?", [creator]) if creator else ("", [])
    rows = db.execute(
        f"SELECT creator_handle, waiting_since FROM drafts WHERE status = ?{only}", [drafts.PENDING, *args]
    ).fetchall()
    return [(handle or "", since) for handle, since in rows]


def set_state(db: sqlite_utils.Database, draft_id: int, state: str, minutes: int, *, rerender: bool) -> None:
    """Remember the state the card shows and its SLA; with `rerender`, the card is due for an update."""
    with write(db):
        db.execute(
            "INSERT INTO sla_marks (draft_id, state, minutes) VALUES (?, ?, ?) "
            "ON CONFLICT (draft_id) DO UPDATE SET state = excluded.state, minutes = excluded.minutes",
            [draft_id, state, minutes],
        )
        if rerender:
            db.execute(
                "UPDATE drafts SET card_rev = card_rev + 1 WHERE id = ? AND status = ?",
                [draft_id, drafts.PENDING],
            )


def claim_nudge(db: sqlite_utils.Database, draft: Draft, level: int, details: dict) -> bool:
    """Mark nudge `level` as sent before sending it (one winner, even across processes and restarts), with
    its audit row; False when it already was."""
    now = clock.utcnow_iso()
    with write(db):
        db.execute("INSERT OR IGNORE INTO sla_marks (draft_id) VALUES (?)", [draft.id])
        changed = db.execute(
            "UPDATE sla_marks SET nudges = ?, nudged_at = ? WHERE draft_id = ? AND nudges < ?",
            [level, now, draft.id, level],
        ).rowcount
        if changed == 1:
            drafts.record(
                db, draft, action=NUDGED, actor=audit.SCHEDULER, details={"level": level, **details}, at=now
            )
    return changed == 1


def unclaim_nudge(db: sqlite_utils.Database, draft_id: int, level: int, before: int) -> None:
    """Slack did not take the nudge: it is tried again next cycle (the audit row stays, with its try)."""
    with write(db):
        db.execute(
            "UPDATE sla_marks SET nudges = ? WHERE draft_id = ? AND nudges = ?", [before, draft_id, level]
        )


def nudge_counts(db: sqlite_utils.Database) -> dict[int, int]:
    """Nudges sent, by level (for reports)."""
    return {r["nudges"]: r["n"] for r in db.query("SELECT nudges, count(*) AS n FROM sla_marks GROUP BY 1")}


@dataclass(frozen=True)
class HitRate:
    """Replies sent within their SLA, of all replies sent (`on_time` of `replies`)."""

    on_time: int = 0
    replies: int = 0

    @property
    def percent(self) -> float | None:
        return 100.0 * self.on_time / self.replies if self.replies else None


def hit_rates(
    db: sqlite_utils.Database,
    since: str,
    creator: str | None = None,
    default_minutes: int = DEFAULT_SLA_MINUTES,
) -> tuple[dict[str, HitRate], dict[str, HitRate]]:
    """SLA hit rate per teammate and per creator handle, over replies sent since `since`.

    A reply is on time when it was sent within its card's SLA of the moment the fan started waiting (the
    first fan message it answers, the same clock the card shows). The SLA is the one the card had while it
    waited (kept in sla_marks); `default_minutes` for a card decided before the cycle ever saw it."""
    only = " AND d.creator_handle = ?" if creator else ""
    rows = db.execute(
        "SELECT a.actor, d.creator_handle, a.at, d.waiting_since, COALESCE(m.minutes, ?) FROM audit a "
        "JOIN drafts d ON d.id = a.draft_id LEFT JOIN sla_marks m ON m.draft_id = d.id "
        f"WHERE a.action IN (?, ?) AND a.at >= ?{only}",
        [default_minutes, *REPLY_ACTIONS, since, *([creator] if creator else [])],
    ).fetchall()
    teammates: dict[str, HitRate] = {}
    creators: dict[str, HitRate] = {}
    for actor, handle, at, waiting_since, minutes in rows:
        hit = clock.from_iso(at) - clock.from_iso(waiting_since) <= timedelta(minutes=minutes)
        for table, key in ((teammates, actor), (creators, handle or "")):
            was = table.get(key, HitRate())
            table[key] = HitRate(was.on_time + int(hit), was.replies + 1)
    return teammates, creators
