"""Read-only questions about the inbox: waiting cards, the audit log filtered, the team's numbers."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field, replace
from typing import Any

import sqlite_utils

from store import drafts
from store.clock import from_iso
from store.fan_context import priority_order
from store.filters import AuditFilter

REPLY_ACTIONS = ("sent", "edited-and-sent")
# The creator uuids behind a handle: rows written before handles were kept carry the uuid only.
CREATOR_UUIDS = "SELECT DISTINCT creator_uuid FROM drafts WHERE creator_handle = ?"
DECISION_ACTIONS = (*REPLY_ACTIONS, "skipped")


@dataclass(frozen=True)
class WaitingCard:
    """A draft waiting for a teammate's decision; channel and ts are None until its card is posted."""

    draft_id: int
    fan_name: str
    fan_handle: str
    waiting_since: str
    channel: str | None
    ts: str | None


@dataclass(frozen=True)
class Backlog:
    """How many cards wait for a decision, and the ones waiting longest."""

    pending: int
    oldest: list[WaitingCard]

    @property
    def longest_waiting_since(self) -> str | None:
        return self.oldest[0].waiting_since if self.oldest else None


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log; `text` is the reply or draft it concerns, when it has one."""

    id: int
    at: str
    actor: str
    action: str
    fan_handle: str | None
    fan_uuid: str | None
    draft_id: int | None
    text: str | None
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "fan_handle": self.fan_handle,
            "fan_uuid": self.fan_uuid,
            "draft_id": self.draft_id,
            "text": self.text,
            "details": self.details,
        }


@dataclass(frozen=True)
class TeammateStats:
    actor: str
    sent: int = 0
    edited: int = 0
    skipped: int = 0
    # Medians over the period: card posted -> this teammate took it; their take -> their decision on it.
    median_to_take_seconds: float | None = None
    median_take_to_decision_seconds: float | None = None


@dataclass(frozen=True)
class TeamStats:
    """Decisions per teammate since `since`, and how long fans waited for the replies sent; with
    several creators, their decisions per creator too."""

    since: str
    teammates: list[TeammateStats]
    replies: int
    median_reply_seconds: float | None
    p90_reply_seconds: float | None
    creators: list[TeammateStats] = field(default_factory=list)  # `actor` is the creator's handle
    # Replies sent within their SLA (store.sla.hit_rates), per teammate and per creator handle.
    sla_teammates: dict[str, Any] = field(default_factory=dict)
    sla_creators: dict[str, Any] = field(default_factory=dict)


def backlog(
    db: sqlite_utils.Database, limit: int = 10, creator: str | None = None, priority: str = "wait"
) -> Backlog:
    """Pending drafts (of one creator, by handle), oldest wait first (index drafts(status, waiting_since)),
    in the order cards are posted (`priority`, CARD_PRIORITY)."""
    only, args = (" AND creator_handle = ?", [creator]) if creator else ("", [])
    pending = db.execute(
        f"SELECT COUNT(*) FROM drafts WHERE status = ?{only}", [drafts.PENDING, *args]
    ).fetchone()[0]
    rows = db.query(
        f"SELECT id, fan_name, fan_handle, waiting_since, channel, ts FROM drafts WHERE status = ?{only} "
        f"ORDER BY {priority_order(priority)}waiting_since, id LIMIT ?",
        [drafts.PENDING, *args, limit],
    )
    oldest = [
        WaitingCard(
            draft_id=r["id"],
            fan_name=r["fan_name"],
            fan_handle=r["fan_handle"],
            waiting_since=r["waiting_since"],
            channel=r["channel"],
            ts=r["ts"],
        )
        for r in rows
    ]
    return Backlog(pending=pending, oldest=oldest)


def audit_sql(f: AuditFilter) -> tuple[str, list[Any]]:
    """The query for a filter; each equality has an (x, at) index, so rows come newest first off an index."""
    where, args = [], []
    by_fan = f.fan_handle is not None or f.fan_uuid is not None
    for column, value in (
        ("fan_handle", f.fan_handle),
        ("fan_uuid", f.fan_uuid),
        ("actor", f.actor),
        ("action", f.action),
    ):
        if value is not None:
            # A fan has few rows, so their index is the one to walk; the unary + keeps SQLite's
            # planner (which has no statistics) from walking a teammate's or an action's rows instead.
            hint = "+" if by_fan and column in ("actor", "action") else ""
            where.append(f"{hint}{column} = ?")
            args.append(value)
    if f.since is not None:
        where.append("at >= ?")
        args.append(f.since)
    if f.creator is not None:
        where.append(f"creator_uuid IN ({CREATOR_UUIDS})")
        args.append(f.creator)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT * FROM audit{clause} ORDER BY at DESC, id DESC LIMIT ?"
    return sql, [*args, f.limit]


def audit_entries(db: sqlite_utils.Database, f: AuditFilter) -> list[AuditEntry]:
    """Matching audit rows, newest first, at most `f.limit`."""
    sql, args = audit_sql(f)
    return [_entry(row) for row in db.query(sql, args)]


def decision_stats(db: sqlite_utils.Database, since: str, creator: str | None = None) -> TeamStats:
    """Sent / edited / skipped per teammate (and per creator when there are several), and the median and
    90th percentile of the fans' wait; only one creator's with `creator` (a handle)."""
    marks = ", ".join("?" for _ in DECISION_ACTIONS)
    only = f" AND creator_uuid IN ({CREATOR_UUIDS})" if creator else ""
    counts: dict[str, dict[str, int]] = {}
    by_creator: dict[str, dict[str, int]] = {}
    for row in db.query(
        f"SELECT actor, creator_uuid, action, COUNT(*) AS n FROM audit WHERE action IN ({marks}) AND at >= ?"
        f"{only} GROUP BY actor, creator_uuid, action",
        [*DECISION_ACTIONS, since, *([creator] if creator else [])],
    ):
        for key, table in ((row["actor"], counts), (row["creator_uuid"], by_creator)):
            totals = table.setdefault(key, {})
            totals[row["action"]] = totals.get(row["action"], 0) + row["n"]
    handles = creator_handles(db) if len(by_creator) > 1 else {}
    waits = reply_seconds(db, since, creator)
    from store.sla import hit_rates  # noqa: PLC0415 - store.sla reads this module's REPLY_ACTIONS

    sla_teammates, sla_creators = hit_rates(db, since, creator)
    return TeamStats(
        since=since,
        teammates=_with_take_times(_ranked(counts), take_seconds(db, since, creator)),
        replies=len(waits),
        median_reply_seconds=statistics.median(waits) if waits else None,
        p90_reply_seconds=percentile(waits, 90) if waits else None,
        creators=_ranked({handles.get(uuid) or uuid: c for uuid, c in by_creator.items()}) if handles else [],
        sla_teammates=sla_teammates,
        sla_creators=sla_creators,
    )


def _ranked(counts: dict[str, dict[str, int]]) -> list[TeammateStats]:
    ranked = [
        TeammateStats(
            actor=actor,
            sent=c.get("sent", 0),
            edited=c.get("edited-and-sent", 0),
            skipped=c.get("skipped", 0),
        )
        for actor, c in counts.items()
    ]
    ranked.sort(key=lambda t: (-(t.sent + t.edited + t.skipped), t.actor))
    return ranked


TAKE_SQL = (
    "SELECT t.actor, t.at, (SELECT MIN(p.at) FROM audit p WHERE p.draft_id = t.draft_id AND p.action = 'posted') "
    "FROM audit t WHERE t.action = 'taken' AND t.at >= ?"
)
DECIDED_AFTER_TAKE_SQL = (
    "SELECT d.actor, d.at, (SELECT MAX(t.at) FROM audit t WHERE t.draft_id = d.draft_id AND t.actor = d.actor "
    "AND t.action IN ('taken', 'taken-over') AND t.at <= d.at) FROM audit d WHERE d.action IN ({marks}) AND d.at >= ?"
)


def take_seconds(
    db: sqlite_utils.Database, since: str, creator: str | None = None
) -> dict[str, tuple[list[float], list[float]]]:
    """Per teammate, since `since`: seconds from a card's post to their take of it, and from their take
    to their decision on that card (only decisions on cards they had taken)."""
    only = f" AND {{alias}}.creator_uuid IN ({CREATOR_UUIDS})" if creator else ""
    extra = [creator] if creator else []
    found: dict[str, tuple[list[float], list[float]]] = {}
    marks = ", ".join("?" for _ in DECISION_ACTIONS)
    for sql, args, slot in (
        (TAKE_SQL + only.format(alias="t"), [since, *extra], 0),
        (
            DECIDED_AFTER_TAKE_SQL.format(marks=marks) + only.format(alias="d"),
            [*DECISION_ACTIONS, since, *extra],
            1,
        ),
    ):
        for actor, at, start in db.execute(sql, args).fetchall():
            if start is not None:
                seconds = max(0.0, (from_iso(at) - from_iso(start)).total_seconds())
                found.setdefault(actor, ([], []))[slot].append(seconds)
    return found


def _with_take_times(
    teammates: list[TeammateStats], times: dict[str, tuple[list[float], list[float]]]
) -> list[TeammateStats]:
    """The teammates' rows with their take medians; a teammate who only took cards gets a row too."""
    known = {t.actor for t in teammates}
    rows = [*teammates, *(TeammateStats(actor=a) for a in sorted(times) if a not in known)]
    return [
        replace(
            t,
            median_to_take_seconds=_median(times.get(t.actor, ([], []))[0]),
            median_take_to_decision_seconds=_median(times.get(t.actor, ([], []))[1]),
        )
        for t in rows
    ]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def creator_handles(db: sqlite_utils.Database) -> dict[str, str]:
    """Each creator's handle by uuid, as its drafts last named it."""
    rows = db.execute("SELECT creator_uuid, MAX(creator_handle) FROM drafts GROUP BY creator_uuid").fetchall()
    return {uuid: handle for uuid, handle in rows if handle}


def reply_seconds(db: sqlite_utils.Database, since: str, creator: str | None = None) -> list[float]:
    """For each reply sent since `since`: seconds from the fan's message it answered to the send."""
    only = " AND drafts.creator_handle = ?" if creator else ""
    rows = db.execute(
        "SELECT audit.at, drafts.fan_message_at FROM audit JOIN drafts ON drafts.id = audit.draft_id "
        f"WHERE audit.action IN (?, ?) AND audit.at >= ?{only}",
        [*REPLY_ACTIONS, since, *([creator] if creator else [])],
    ).fetchall()
    return sorted(max(0.0, (from_iso(at) - from_iso(fan_at)).total_seconds()) for at, fan_at in rows)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least pct% of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _entry(row: dict[str, Any]) -> AuditEntry:
    details = json.loads(row["details"] or "{}")
    text = details.get("text") or details.get("after")
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        fan_handle=row["fan_handle"],
        fan_uuid=row["fan_uuid"],
        draft_id=row["draft_id"],
        text=text if isinstance(text, str) else None,
        details=details,
    )
