"""Where each chat was last handled: the chat list's newest message the cycle has acted on, per creator."""

from __future__ import annotations

import sqlite_utils

from store.clock import utcnow_iso


def last_handled(db: sqlite_utils.Database, fan_uuid: str, creator_uuid: str = "") -> str | None:
    rows = list(
        db.query(
            "SELECT last_message_uuid FROM chat_marks WHERE creator_uuid = ? AND fan_uuid = ?",
            [creator_uuid, fan_uuid],
        )
    )
    return rows[0]["last_message_uuid"] if rows else None


def mark_handled(
    db: sqlite_utils.Database, fan_uuid: str, last_message_uuid: str, creator_uuid: str = ""
) -> None:
    db.execute(
        "INSERT INTO chat_marks (creator_uuid, fan_uuid, last_message_uuid, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (creator_uuid, fan_uuid) DO UPDATE SET last_message_uuid = excluded.last_message_uuid, "
        "at = excluded.at",
        [creator_uuid, fan_uuid, last_message_uuid, utcnow_iso()],
    )
