"""The SLA marks of waiting cards: the state each card last showed and the nudges sent about it."""

from __future__ import annotations

import sqlite_utils

from store import audit, clock, drafts
from store.db import write
from store.drafts import Draft

NUDGED = "nudged"


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


def set_state(db: sqlite_utils.Database, draft_id: int, state: str, *, rerender: bool) -> None:
    """Remember the state the card shows; with `rerender`, the card is due for an update to show it."""
    with write(db):
        db.execute(
            "INSERT INTO sla_marks (draft_id, state) VALUES (?, ?) "
            "ON CONFLICT (draft_id) DO UPDATE SET state = excluded.state",
            [draft_id, state],
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
