"""The append-only audit log: every outcome, who caused it and what changed."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from store.clock import utcnow_iso

SCHEDULER = "scheduler"


def record(
    db: sqlite_utils.Database,
    *,
    action: str,
    actor: str,
    draft_id: int | None = None,
    fan_uuid: str | None = None,
    fan_handle: str | None = None,
    details: dict[str, Any] | None = None,
    at: str | None = None,
) -> int:
    """Append one audit row; call inside the transaction of the change it describes. The row belongs to
    its draft's creator."""
    cursor = db.execute(
        "INSERT INTO audit (at, draft_id, fan_uuid, fan_handle, actor, action, details, creator_uuid, "
        "creator_handle) SELECT ?, ?, ?, ?, ?, ?, ?, COALESCE(d.creator_uuid, ''), COALESCE(d.creator_handle, '') "
        "FROM (SELECT 1) LEFT JOIN drafts d ON d.id = ?",
        [
            at or utcnow_iso(),
            draft_id,
            fan_uuid,
            fan_handle,
            actor,
            action,
            json.dumps(details or {}, ensure_ascii=False, sort_keys=True),
            draft_id,
        ],
    )
    assert cursor.lastrowid is not None  # set by every INSERT
    return cursor.lastrowid


def for_draft(db: sqlite_utils.Database, draft_id: int) -> list[dict[str, Any]]:
    """The audit rows of one draft, oldest first, with details decoded."""
    return [
        _decode(row) for row in db.query("SELECT * FROM audit WHERE draft_id = ? ORDER BY id", [draft_id])
    ]


def recent(db: sqlite_utils.Database, limit: int = 50) -> list[dict[str, Any]]:
    """The newest audit rows, newest first."""
    return [_decode(row) for row in db.query("SELECT * FROM audit ORDER BY id DESC LIMIT ?", [limit])]


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    item = dict(row)
    item["details"] = json.loads(item["details"])
    return item


def edited_pairs(db: sqlite_utils.Database, creator_uuid: str, limit: int) -> list[tuple[str, str]]:
    """The creator's `limit` most recent (draft, sent text) pairs a teammate edited before sending,
    oldest first."""
    if limit <= 0:
        return []
    rows = db.query(
        "SELECT audit.details FROM audit JOIN drafts ON drafts.id = audit.draft_id "
        "WHERE audit.action = 'edited-and-sent' AND drafts.creator_uuid = ? ORDER BY audit.id DESC LIMIT ?",
        [creator_uuid, limit],
    )
    pairs = []
    for row in rows:
        details = json.loads(row["details"])
        if isinstance(details.get("draft"), str) and isinstance(details.get("text"), str):
            pairs.append((details["draft"], details["text"]))
    return pairs[::-1]
