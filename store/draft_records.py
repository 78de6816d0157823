"""Drafts as records: their statuses, the Draft row and a NewDraft, and the queries that read them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from store.fan_context import priority_order

PENDING, SENDING, SENT, FAILED, UNKNOWN, SKIPPED, SUPERSEDED = (
    "pending",
    "sending",
    "sent",
    "failed",
    "unknown",
    "skipped",
    "superseded",
)
IN_FLIGHT = (SENDING, UNKNOWN)
ANSWERED_IN_FANVUE = "the creator answered in Fanvue"
COMING = "coming"  # drafted_by of a card posted before its draft is written (a webhook's burst)
FINAL = (SENT, FAILED, SKIPPED, SUPERSEDED)
IN_PLAY = (PENDING, SENDING, UNKNOWN)


@dataclass(frozen=True)
class Draft:
    """One card: the fan message it answers, the proposed reply and what became of it."""

    id: int
    creator_uuid: str
    fan_uuid: str
    fan_handle: str
    fan_name: str
    fan_message_uuid: str
    fan_message_at: str
    waiting_since: str
    unread_count: int
    context: list[dict[str, Any]]
    draft_text: str
    drafted_by: str
    version: int
    final_text: str | None
    status: str
    channel: str | None
    ts: str | None
    card_rev: int
    card_synced_rev: int
    fanvue_message_uuid: str | None
    decided_by: str | None
    decided_at: str | None
    error: str | None
    notice: str | None
    created_at: str
    updated_at: str
    model: str | None = None
    latency_ms: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    fallback_reason: str | None = None
    flags: list[dict[str, str]] = field(default_factory=list)
    creator_handle: str = ""  # for display; the uuid is what keys the draft
    taker: str | None = None  # the teammate who took the card (store.takes), if anyone has it
    taken_at: str | None = None
    take_active_at: str | None = None  # the taker's last action on it; the take lapses after TAKE_MINUTES
    is_top_spender: bool = False  # the chat row's flag when the draft was made

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Draft:
        values = dict(row)
        values["context"] = json.loads(values["context"])
        values["flags"] = json.loads(values.get("flags") or "[]")
        values["is_top_spender"] = bool(values.get("is_top_spender"))
        return cls(**values)


@dataclass(frozen=True)
class NewDraft:
    """What the poll cycle knows when it drafts a reply to a fan's latest message."""

    creator_uuid: str
    fan_uuid: str
    fan_handle: str
    fan_name: str
    fan_message_uuid: str
    fan_message_at: str
    waiting_since: str
    unread_count: int
    draft_text: str
    drafted_by: str = "template"
    context: list[dict[str, Any]] = field(default_factory=list)
    model: str | None = None
    latency_ms: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    fallback_reason: str | None = None
    flags: list[dict[str, str]] = field(default_factory=list)
    creator_handle: str = ""
    is_top_spender: bool = False

    def metadata(self) -> list[Any]:
        """The drafting columns, in the order of METADATA_COLUMNS."""
        return [
            self.model,
            self.latency_ms,
            self.prompt_tokens,
            self.completion_tokens,
            self.fallback_reason,
            to_json(self.flags),
            int(self.is_top_spender),
        ]


METADATA_COLUMNS = (
    "model",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "fallback_reason",
    "flags",
    "is_top_spender",
)


def get(db: sqlite_utils.Database, draft_id: int) -> Draft | None:
    rows = list(db.query("SELECT * FROM drafts WHERE id = ?", [draft_id]))
    return Draft.from_row(rows[0]) if rows else None


def find(
    db: sqlite_utils.Database, fan_uuid: str, fan_message_uuid: str, creator_uuid: str | None = None
) -> Draft | None:
    """The draft that answers this fan message (of this creator), whatever became of it."""
    sql, params = (
        "SELECT * FROM drafts WHERE fan_uuid = ? AND fan_message_uuid = ?",
        [fan_uuid, fan_message_uuid],
    )
    if creator_uuid is not None:
        sql, params = sql + " AND creator_uuid = ?", [*params, creator_uuid]
    rows = list(db.query(sql + " ORDER BY id LIMIT 1", params))
    return Draft.from_row(rows[0]) if rows else None


def open_for_fan(db: sqlite_utils.Database, fan_uuid: str, creator_uuid: str | None = None) -> Draft | None:
    """The fan's card (with this creator) still waiting for a decision or being sent, if any."""
    sql, params = "SELECT * FROM drafts WHERE fan_uuid = ? AND status IN (?, ?, ?)", [fan_uuid, *IN_PLAY]
    if creator_uuid is not None:
        sql, params = sql + " AND creator_uuid = ?", [*params, creator_uuid]
    rows = list(db.query(sql + " ORDER BY id DESC LIMIT 1", params))
    return Draft.from_row(rows[0]) if rows else None


def with_status(db: sqlite_utils.Database, *statuses: str, creator_uuid: str | None = None) -> list[Draft]:
    """Drafts in any of `statuses`, longest waiting first; only one creator's when `creator_uuid` is given."""
    marks = ", ".join("?" for _ in statuses)
    only = " AND creator_uuid = ?" if creator_uuid is not None else ""
    rows = db.query(
        f"SELECT * FROM drafts WHERE status IN ({marks}){only} ORDER BY waiting_since, id",
        [*statuses, *([creator_uuid] if creator_uuid is not None else [])],
    )
    return [Draft.from_row(row) for row in rows]


def cards_to_publish(db: sqlite_utils.Database, priority: str = "wait") -> list[Draft]:
    """Cards whose Slack message is behind the database: updates first, then new posts, oldest wait first
    (valued fans first with `priority` "value", see store.fan_context.priority_order)."""
    rows = db.query(
        "SELECT * FROM drafts WHERE card_rev > card_synced_rev AND (ts IS NOT NULL OR status = ?) "
        f"ORDER BY ts IS NULL, {priority_order(priority)}waiting_since, id",
        [PENDING],
    )
    return [Draft.from_row(row) for row in rows]


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
