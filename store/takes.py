"""Who has a card: take, take over, lapse; each change of hands is one guarded UPDATE with its audit row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlite_utils

from store import audit, clock, drafts
from store.db import write
from store.drafts import Draft

DEFAULT_TAKE_MINUTES = 10  # a taken card with no action by its taker for this long is free again
TAKEN, TAKEN_OVER, RELEASED = "taken", "taken-over", "released"
NEXT_CANDIDATES = 50  # cards Take next tries, oldest wait first, before it says there is none


def lapse_before(take_minutes: int) -> str:
    """Takes whose taker last acted before this time have lapsed."""
    return clock.to_iso(clock.utcnow() - timedelta(minutes=take_minutes))


def holder(draft: Draft, take_minutes: int) -> str | None:
    """Who has the card now: its taker, unless the take has lapsed (the cycle releases it soon)."""
    if draft.taker is None or draft.status != drafts.PENDING:
        return None
    return draft.taker if (draft.take_active_at or "") >= lapse_before(take_minutes) else None


def take(db: sqlite_utils.Database, draft: Draft, version: int, actor: str, take_minutes: int) -> bool:
    """Give a free pending card (nobody has it, or its take lapsed) to `actor`; one winner."""
    now = clock.utcnow_iso()
    with write(db):
        changed = db.execute(
            "UPDATE drafts SET taker = ?, taken_at = ?, take_active_at = ?, card_rev = card_rev + 1, "
            "updated_at = ? WHERE id = ? AND status = ? AND version = ? "
            "AND (taker IS NULL OR take_active_at < ?)",
            [actor, now, now, now, draft.id, drafts.PENDING, version, lapse_before(take_minutes)],
        ).rowcount
        if changed == 1:
            drafts.record(
                db,
                draft,
                action=TAKEN,
                actor=actor,
                details={"version": version, "before": draft.taker},
                at=now,
            )
    return changed == 1


def take_over(db: sqlite_utils.Database, draft: Draft, version: int, actor: str, previous: str) -> bool:
    """`actor` takes the card from `previous`, who still had it when the teammate confirmed; one winner."""
    now = clock.utcnow_iso()
    with write(db):
        changed = db.execute(
            "UPDATE drafts SET taker = ?, taken_at = ?, take_active_at = ?, card_rev = card_rev + 1, "
            "updated_at = ? WHERE id = ? AND status = ? AND version = ? AND taker = ?",
            [actor, now, now, now, draft.id, drafts.PENDING, version, previous],
        ).rowcount
        if changed == 1:
            details = {"version": version, "from": previous, "to": actor}
            drafts.record(db, draft, action=TAKEN_OVER, actor=actor, details=details, at=now)
    return changed == 1


def touch(db: sqlite_utils.Database, draft_id: int, actor: str) -> None:
    """The taker acted on the card: its take runs TAKE_MINUTES from now (no one else's turn changes)."""
    with write(db):
        db.execute(
            "UPDATE drafts SET take_active_at = ? WHERE id = ? AND taker = ?",
            [clock.utcnow_iso(), draft_id, actor],
        )


def release_lapsed(db: sqlite_utils.Database, take_minutes: int) -> list[int]:
    """Free every pending card whose taker did nothing for `take_minutes`; the card says so. Returns ids."""
    before = lapse_before(take_minutes)
    rows = list(
        db.query(
            "SELECT * FROM drafts WHERE status = ? AND taker IS NOT NULL AND take_active_at < ?",
            [drafts.PENDING, before],
        )
    )
    released = []
    notice = f"🔓 Free again: whoever took this card did nothing with it for {take_minutes} min."
    for draft in map(Draft.from_row, rows):
        now = clock.utcnow_iso()
        with write(db):
            changed = db.execute(
                "UPDATE drafts SET taker = NULL, taken_at = NULL, take_active_at = NULL, notice = ?, "
                "card_rev = card_rev + 1, updated_at = ? WHERE id = ? AND status = ? AND taker = ? "
                "AND take_active_at = ?",
                [notice, now, draft.id, drafts.PENDING, draft.taker, draft.take_active_at],
            ).rowcount
            if changed == 1:
                details = {"taker": draft.taker, "taken_at": draft.taken_at, "minutes": take_minutes}
                drafts.record(db, draft, action=RELEASED, actor=audit.SCHEDULER, details=details, at=now)
                released.append(draft.id)
    return released


def take_next(
    db: sqlite_utils.Database, actor: str, take_minutes: int, may_decide: Callable[[Draft], bool]
) -> Draft | None:
    """The most urgent free card (longest wait first) that `actor` may decide on, now theirs; None if none.

    Each try is the guarded `take`: two teammates pressing at once never get the same card, the one who
    loses a card moves on to the next."""
    for draft in free_cards(db, take_minutes, NEXT_CANDIDATES):
        if may_decide(draft) and take(db, draft, draft.version, actor, take_minutes):
            return drafts.get(db, draft.id)
    return None


def free_cards(db: sqlite_utils.Database, take_minutes: int, limit: int) -> list[Draft]:
    """Posted pending cards nobody has (or whose take lapsed), longest wait first."""
    rows = db.query(
        "SELECT * FROM drafts WHERE status = ? AND ts IS NOT NULL AND (taker IS NULL OR take_active_at < ?) "
        "ORDER BY waiting_since, id LIMIT ?",
        [drafts.PENDING, lapse_before(take_minutes), limit],
    )
    return [Draft.from_row(row) for row in rows]


def held_by(db: sqlite_utils.Database, actor: str, take_minutes: int) -> list[Draft]:
    """The pending cards `actor` has now, longest wait first."""
    rows = db.query(
        "SELECT * FROM drafts WHERE status = ? AND taker = ? AND take_active_at >= ? ORDER BY waiting_since, id",
        [drafts.PENDING, actor, lapse_before(take_minutes)],
    )
    return [Draft.from_row(row) for row in rows]
