"""A team's known history written through the store's own functions, with the numbers it must produce."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from store import audit, drafts
from store.clock import to_iso
from store.db import write
from store.drafts import NewDraft

ALICE, BOB, CAROL, MALLORY = "U0ALICE", "U0BOB", "U0CAROL", "U0MALLORY"

# (fan handle, teammate, action, seconds from the fan's message to the reply), all within the last day.
REPLIES = [
    ("amy", ALICE, "sent", 60),
    ("ben", ALICE, "sent", 120),
    ("cleo", ALICE, "sent", 180),
    ("dan", ALICE, "edited-and-sent", 240),
    ("eve", BOB, "sent", 300),
    ("fay", BOB, "sent", 360),
    ("gus", BOB, "sent", 420),
    ("hal", CAROL, "sent", 480),
    ("ivy", CAROL, "edited-and-sent", 540),
    ("jon", CAROL, "edited-and-sent", 6000),
]
MEDIAN_7D, P90_7D = 330.0, 540.0  # (300 + 360) / 2; nearest rank: the 9th of 10
OLD = ("kim", ALICE, "sent", 99_999)  # ten days ago: inside 30d, outside 7d
MEDIAN_30D, P90_30D = 360.0, 6000.0  # the 6th of 11; the 10th of 11 (ceil(0.9 * 11))
SKIPS = [("lea", ALICE), ("max", BOB), ("ned", BOB)]


def fan_uuid(handle: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fan/{handle}"))


@dataclass
class TeamHistory:
    now: datetime
    reply_at: dict[str, str]  # fan handle -> time of the reply's audit row
    old_at: str


def write_team_history(db: sqlite_utils.Database, now: datetime) -> TeamHistory:
    """Replies, skips, a failure, a refusal and one old reply, each audited as the app audits them."""
    reply_at: dict[str, str] = {}
    for i, (handle, actor, action, wait) in enumerate(REPLIES):
        fan_at = now - timedelta(hours=2, minutes=10 * i)
        reply_at[handle] = _reply(db, handle, actor, action, fan_at, wait)
    old_at = _reply(db, OLD[0], OLD[1], OLD[2], now - timedelta(days=10), OLD[3])
    for handle, actor in SKIPS:
        draft = drafts.create(db, _new(handle, now - timedelta(minutes=30)))
        assert drafts.skip(db, draft, draft.version, actor)
    failed = drafts.create(db, _new("ola", now - timedelta(minutes=20)))
    with write(db):
        audit.record(
            db,
            action="failed",
            actor=CAROL,
            draft_id=failed.id,
            fan_uuid=failed.fan_uuid,
            fan_handle="ola",
            details={"error": "not subscribed", "text": "Hi Ola!"},
            at=to_iso(now - timedelta(minutes=19)),
        )
        audit.record(
            db,
            action="denied",
            actor=MALLORY,
            draft_id=failed.id,
            fan_uuid=failed.fan_uuid,
            fan_handle="ola",
            details={"attempted": "send"},
            at=to_iso(now - timedelta(minutes=18)),
        )
    return TeamHistory(now=now, reply_at=reply_at, old_at=old_at)


def _reply(
    db: sqlite_utils.Database, handle: str, actor: str, action: str, fan_at: datetime, wait: int
) -> str:
    draft = drafts.create(db, _new(handle, fan_at))
    at = to_iso(fan_at + timedelta(seconds=wait))
    with write(db):
        audit.record(
            db,
            action=action,
            actor=actor,
            draft_id=draft.id,
            fan_uuid=draft.fan_uuid,
            fan_handle=handle,
            details={"text": f"Reply to {handle.title()} by {actor}"},
            at=at,
        )
    return at


def _new(handle: str, fan_at: datetime) -> NewDraft:
    return NewDraft(
        creator_uuid="creator-1",
        fan_uuid=fan_uuid(handle),
        fan_handle=handle,
        fan_name=handle.title(),
        fan_message_uuid=f"msg-{handle}",
        fan_message_at=to_iso(fan_at),
        waiting_since=to_iso(fan_at),
        unread_count=1,
        draft_text=f"Hey {handle.title()}, thanks for writing!",
    )
