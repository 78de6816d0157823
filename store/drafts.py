"""Drafts and their transitions; each transition that needs one winner is a single guarded UPDATE."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from store import audit
from store.clock import utcnow_iso
from store.db import write

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

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Draft:
        values = dict(row)
        values["context"] = json.loads(values["context"])
        values["flags"] = json.loads(values.get("flags") or "[]")
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

    def metadata(self) -> list[Any]:
        """The drafting columns, in the order of _METADATA_COLUMNS."""
        return [
            self.model,
            self.latency_ms,
            self.prompt_tokens,
            self.completion_tokens,
            self.fallback_reason,
            _json(self.flags),
        ]


_METADATA_COLUMNS = ("model", "latency_ms", "prompt_tokens", "completion_tokens", "fallback_reason", "flags")


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


def with_status(db: sqlite_utils.Database, *statuses: str) -> list[Draft]:
    marks = ", ".join("?" for _ in statuses)
    rows = db.query(
        f"SELECT * FROM drafts WHERE status IN ({marks}) ORDER BY waiting_since, id", list(statuses)
    )
    return [Draft.from_row(row) for row in rows]


def cards_to_publish(db: sqlite_utils.Database) -> list[Draft]:
    """Cards whose Slack message is behind the database: updates first, then new posts, oldest wait first."""
    rows = db.query(
        "SELECT * FROM drafts WHERE card_rev > card_synced_rev AND (ts IS NOT NULL OR status = ?) "
        "ORDER BY ts IS NULL, waiting_since, id",
        [PENDING],
    )
    return [Draft.from_row(row) for row in rows]


def create(db: sqlite_utils.Database, new: NewDraft, *, actor: str = audit.SCHEDULER) -> Draft | None:
    """Record a new draft; None when this fan message already has one (the unique key decides)."""
    now = utcnow_iso()
    with write(db):
        cursor = db.execute(
            "INSERT OR IGNORE INTO drafts (creator_uuid, creator_handle, fan_uuid, fan_handle, fan_name, fan_message_uuid, "
            "fan_message_at, waiting_since, unread_count, context, draft_text, drafted_by, status, "
            f"created_at, updated_at, {', '.join(_METADATA_COLUMNS)}) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?{', ?' * len(_METADATA_COLUMNS)})",
            [
                new.creator_uuid,
                new.creator_handle,
                new.fan_uuid,
                new.fan_handle,
                new.fan_name,
                new.fan_message_uuid,
                new.fan_message_at,
                new.waiting_since,
                new.unread_count,
                _json(new.context),
                new.draft_text,
                new.drafted_by,
                PENDING,
                now,
                now,
                *new.metadata(),
            ],
        )
        if cursor.rowcount != 1:
            return None
        draft_id = cursor.lastrowid
        assert draft_id is not None  # set by the INSERT that just added the row
        audit.record(
            db,
            action="drafted",
            actor=actor,
            draft_id=draft_id,
            fan_uuid=new.fan_uuid,
            fan_handle=new.fan_handle,
            details={
                "text": new.draft_text,
                "drafted_by": new.drafted_by,
                "fan_message_uuid": new.fan_message_uuid,
                **_about(new),
            },
            at=now,
        )
    return get(db, draft_id)


def redraft(
    db: sqlite_utils.Database,
    draft: Draft,
    new: NewDraft,
    *,
    from_status: str = PENDING,
    actor: str = audit.SCHEDULER,
    notice: str | None = None,
    action: str = "updated",
    reason: str = "fan wrote again",
) -> Draft | None:
    """A new draft on the same card (version + 1): the fan wrote again, or a teammate asked for another."""
    now = utcnow_iso()
    metadata = ", ".join(f"{column} = ?" for column in _METADATA_COLUMNS)
    with write(db):
        changed = db.execute(
            "UPDATE drafts SET fan_message_uuid = ?, fan_message_at = ?, unread_count = ?, context = ?, "
            "draft_text = ?, drafted_by = ?, version = version + 1, status = ?, final_text = NULL, "
            "decided_by = NULL, decided_at = NULL, error = NULL, notice = ?, card_rev = card_rev + 1, "
            f"updated_at = ?, {metadata} WHERE id = ? AND status = ? AND version = ?",
            [
                new.fan_message_uuid,
                new.fan_message_at,
                new.unread_count,
                _json(new.context),
                new.draft_text,
                new.drafted_by,
                PENDING,
                notice,
                now,
                *new.metadata(),
                draft.id,
                from_status,
                draft.version,
            ],
        ).rowcount
        if changed != 1:
            return None
        audit.record(
            db,
            action=action,
            actor=actor,
            draft_id=draft.id,
            fan_uuid=draft.fan_uuid,
            fan_handle=draft.fan_handle,
            at=now,
            details={
                "reason": reason,
                "before": draft.draft_text,
                "after": new.draft_text,
                "fan_message_uuid": new.fan_message_uuid,
                "version": draft.version + 1,
                **_about(new),
            },
        )
    return get(db, draft.id)


def claim_for_send(db: sqlite_utils.Database, draft: Draft, version: int, actor: str, text: str) -> bool:
    """pending -> sending for exactly one caller: the one whose UPDATE changed the row."""
    now = utcnow_iso()
    with write(db):
        changed = db.execute(
            "UPDATE drafts SET status = ?, final_text = ?, decided_by = ?, decided_at = ?, error = NULL, "
            "notice = NULL, card_rev = card_rev + 1, updated_at = ? WHERE id = ? AND status = ? AND version = ?",
            [SENDING, text, actor, now, now, draft.id, PENDING, version],
        ).rowcount
        if changed == 1:
            audit.record(
                db,
                action="claimed",
                actor=actor,
                draft_id=draft.id,
                fan_uuid=draft.fan_uuid,
                fan_handle=draft.fan_handle,
                details={"version": version},
                at=now,
            )
    return changed == 1


def finish(
    db: sqlite_utils.Database,
    draft: Draft,
    *,
    to_status: str,
    from_statuses: tuple[str, ...],
    action: str,
    actor: str,
    details: dict[str, Any] | None = None,
    fanvue_message_uuid: str | None = None,
    error: str | None = None,
) -> bool:
    """Move a draft on from one of `from_statuses`; records the audit row in the same transaction."""
    now = utcnow_iso()
    marks = ", ".join("?" for _ in from_statuses)
    with write(db):
        changed = db.execute(
            f"UPDATE drafts SET status = ?, error = ?, notice = NULL, "
            f"fanvue_message_uuid = COALESCE(?, fanvue_message_uuid), "
            f"card_rev = card_rev + 1, updated_at = ? WHERE id = ? AND status IN ({marks})",
            [to_status, error, fanvue_message_uuid, now, draft.id, *from_statuses],
        ).rowcount
        if changed == 1:
            audit.record(
                db,
                action=action,
                actor=actor,
                draft_id=draft.id,
                fan_uuid=draft.fan_uuid,
                fan_handle=draft.fan_handle,
                details=details,
                at=now,
            )
    return changed == 1


def supersede(db: sqlite_utils.Database, draft: Draft, *, from_status: str, actor: str) -> bool:
    """The creator answered the fan in Fanvue themselves: the card closes and nothing is sent."""
    return finish(
        db,
        draft,
        to_status=SUPERSEDED,
        from_statuses=(from_status,),
        action="superseded",
        actor=actor,
        details={"reason": ANSWERED_IN_FANVUE},
    )


def skip(db: sqlite_utils.Database, draft: Draft, version: int, actor: str) -> bool:
    """pending -> skipped, only for the version the teammate saw."""
    now = utcnow_iso()
    with write(db):
        changed = db.execute(
            "UPDATE drafts SET status = ?, decided_by = ?, decided_at = ?, error = NULL, notice = NULL, "
            "card_rev = card_rev + 1, updated_at = ? WHERE id = ? AND status = ? AND version = ?",
            [SKIPPED, actor, now, now, draft.id, PENDING, version],
        ).rowcount
        if changed == 1:
            audit.record(
                db,
                action="skipped",
                actor=actor,
                draft_id=draft.id,
                fan_uuid=draft.fan_uuid,
                fan_handle=draft.fan_handle,
                details={"text": draft.draft_text},
                at=now,
            )
    return changed == 1


def mark_card(db: sqlite_utils.Database, draft: Draft, *, channel: str, ts: str, rev: int) -> None:
    """The Slack message now shows revision `rev` of the draft; the first time, that is a post."""
    with write(db):
        first_post = (
            db.execute(
                "UPDATE drafts SET channel = ?, ts = ? WHERE id = ? AND ts IS NULL", [channel, ts, draft.id]
            ).rowcount
            == 1
        )
        db.execute(
            "UPDATE drafts SET card_synced_rev = MAX(card_synced_rev, ?) WHERE id = ?", [rev, draft.id]
        )
        if first_post:
            audit.record(
                db,
                action="posted",
                actor=audit.SCHEDULER,
                draft_id=draft.id,
                fan_uuid=draft.fan_uuid,
                fan_handle=draft.fan_handle,
                details={"channel": channel, "ts": ts},
            )


def _about(new: NewDraft) -> dict[str, Any]:
    """How the draft was made, for its audit row: only what is known."""
    about: dict[str, Any] = {
        "model": new.model,
        "latency_ms": new.latency_ms,
        "prompt_tokens": new.prompt_tokens,
        "completion_tokens": new.completion_tokens,
        "fallback_reason": new.fallback_reason,
    }
    about = {key: value for key, value in about.items() if value is not None}
    if new.flags:
        about["flags"] = [flag.get("rule") for flag in new.flags]
    return about


def forget_card(db: sqlite_utils.Database, draft_id: int) -> None:
    """The card's Slack message is gone: the next publish posts a new one."""
    db.execute("UPDATE drafts SET channel = NULL, ts = NULL, card_synced_rev = 0 WHERE id = ?", [draft_id])


def mark_synced(db: sqlite_utils.Database, draft_id: int, rev: int) -> None:
    """Nothing more to show for revision `rev` (its card is gone and the draft is decided)."""
    db.execute("UPDATE drafts SET card_synced_rev = MAX(card_synced_rev, ?) WHERE id = ?", [rev, draft_id])


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def set_notice(db: sqlite_utils.Database, draft: Draft, notice: str) -> bool:
    """Show a notice on a waiting card (version unchanged, so its buttons stay valid); False if it moved on."""
    with write(db):
        changed = db.execute(
            "UPDATE drafts SET notice = ?, card_rev = card_rev + 1, updated_at = ? "
            "WHERE id = ? AND status = ? AND version = ?",
            [notice, utcnow_iso(), draft.id, PENDING, draft.version],
        ).rowcount
    return changed == 1
