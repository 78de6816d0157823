"""Drafts and their transitions; each transition that needs one winner is a single guarded UPDATE."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from store import audit
from store.clock import utcnow_iso
from store.db import write
from store.draft_records import ANSWERED_IN_FANVUE as ANSWERED_IN_FANVUE
from store.draft_records import COMING as COMING
from store.draft_records import FAILED as FAILED
from store.draft_records import FINAL as FINAL
from store.draft_records import IN_FLIGHT as IN_FLIGHT
from store.draft_records import IN_PLAY as IN_PLAY
from store.draft_records import METADATA_COLUMNS, to_json
from store.draft_records import PENDING as PENDING
from store.draft_records import SENDING as SENDING
from store.draft_records import SENT as SENT
from store.draft_records import SKIPPED as SKIPPED
from store.draft_records import SUPERSEDED as SUPERSEDED
from store.draft_records import UNKNOWN as UNKNOWN
from store.draft_records import Draft as Draft
from store.draft_records import NewDraft as NewDraft
from store.draft_records import cards_to_publish as cards_to_publish
from store.draft_records import find as find
from store.draft_records import get as get
from store.draft_records import open_for_fan as open_for_fan
from store.draft_records import with_status as with_status


def create(db: sqlite_utils.Database, new: NewDraft, *, actor: str = audit.SCHEDULER) -> Draft | None:
    """Record a new draft; None when this fan message already has one (the unique key decides)."""
    now = utcnow_iso()
    with write(db):
        cursor = db.execute(
            "INSERT OR IGNORE INTO drafts (creator_uuid, creator_handle, fan_uuid, fan_handle, fan_name, fan_message_uuid, "
            "fan_message_at, waiting_since, unread_count, context, draft_text, drafted_by, status, "
            f"created_at, updated_at, {', '.join(METADATA_COLUMNS)}) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?{', ?' * len(METADATA_COLUMNS)})",
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
                to_json(new.context),
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
    metadata = ", ".join(f"{column} = ?" for column in METADATA_COLUMNS)
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
                to_json(new.context),
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
        record(
            db,
            draft,
            action=action,
            actor=actor,
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
    return _decide(db, draft, version, actor, SENDING, "claimed", {"version": version}, final_text=text)


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
            record(
                db,
                draft,
                action=action,
                actor=actor,
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
    return _decide(db, draft, version, actor, SKIPPED, "skipped", {"text": draft.draft_text})


def _decide(
    db: sqlite_utils.Database,
    draft: Draft,
    version: int,
    actor: str,
    to_status: str,
    action: str,
    details: dict[str, Any],
    *,
    final_text: str | None = None,
) -> bool:
    """A teammate's decision on the pending version they saw; the text to send when there is one."""
    now = utcnow_iso()
    with write(db):
        changed = db.execute(
            "UPDATE drafts SET status = ?, final_text = COALESCE(?, final_text), decided_by = ?, "
            "decided_at = ?, error = NULL, notice = NULL, card_rev = card_rev + 1, updated_at = ? "
            "WHERE id = ? AND status = ? AND version = ?",
            [to_status, final_text, actor, now, now, draft.id, PENDING, version],
        ).rowcount
        if changed == 1:
            record(db, draft, action=action, actor=actor, details=details, at=now)
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
            record(
                db,
                draft,
                action="posted",
                actor=audit.SCHEDULER,
                details={"channel": channel, "ts": ts},
            )


def record(
    db: sqlite_utils.Database,
    draft: Draft,
    *,
    action: str,
    actor: str,
    details: dict[str, Any] | None = None,
    at: str | None = None,
) -> int:
    """The audit row of something done to `draft`; inside the transaction of the change it describes."""
    return audit.record(
        db,
        action=action,
        actor=actor,
        draft_id=draft.id,
        fan_uuid=draft.fan_uuid,
        fan_handle=draft.fan_handle,
        details=details,
        at=at,
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


def set_notice(db: sqlite_utils.Database, draft: Draft, notice: str) -> bool:
    """Show a notice on a waiting card (version unchanged, so its buttons stay valid); False if it moved on."""
    with write(db):
        changed = db.execute(
            "UPDATE drafts SET notice = ?, card_rev = card_rev + 1, updated_at = ? "
            "WHERE id = ? AND status = ? AND version = ?",
            [notice, utcnow_iso(), draft.id, PENDING, draft.version],
        ).rowcount
    return changed == 1
