"""Audit entries and team numbers as text for a terminal: an aligned table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import sqlite_utils

from store import filters, queries
from store.queries import AuditEntry, TeamStats

FORMATS = ("table", "json", "csv")
AUDIT_COLUMNS = ("at", "actor", "action", "fan_handle", "fan_uuid", "draft_id", "text")
STATS_COLUMNS = ("actor", "sent", "edited", "skipped")
TABLE_TEXT_MAX = 60


def audit_report(
    db: sqlite_utils.Database,
    *,
    fan: str | None,
    user: str | None,
    action: str | None,
    since: str | None,
    limit: int,
    fmt: str,
    now: datetime,
) -> str:
    """`app.py audit`: the filtered audit log; FilterError when an option cannot be understood."""
    found = filters.from_options(fan=fan, user=user, action=action, since=since, limit=limit, now=now)
    return audit_text(queries.audit_entries(db, found), fmt)


def stats_report(db: sqlite_utils.Database, *, since: str, fmt: str, now: datetime) -> str:
    """`app.py stats`: decisions per teammate and reply times since `since` (a period or a date)."""
    return stats_text(queries.decision_stats(db, filters.parse_period(since, now)), fmt)


def audit_text(entries: list[AuditEntry], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=2)
    rows = [
        [
            e.at,
            e.actor,
            e.action,
            e.fan_handle or "",
            e.fan_uuid or "",
            "" if e.draft_id is None else str(e.draft_id),
            e.text or "",
        ]
        for e in entries
    ]
    if fmt == "csv":
        return _csv(AUDIT_COLUMNS, rows)
    for row in rows:
        row[-1] = _cut(" ".join(row[-1].split()), TABLE_TEXT_MAX)
    return _table(AUDIT_COLUMNS, rows) if rows else "No audit entries match."


def stats_text(team: TeamStats, fmt: str) -> str:
    per_teammate = [[t.actor, t.sent, t.edited, t.skipped] for t in team.teammates]
    if fmt == "json":
        return json.dumps(
            {
                "since": team.since,
                "replies": team.replies,
                "median_reply_seconds": team.median_reply_seconds,
                "p90_reply_seconds": team.p90_reply_seconds,
                "teammates": [dict(zip(STATS_COLUMNS, row, strict=True)) for row in per_teammate],
            },
            indent=2,
        )
    if fmt == "csv":
        return _csv(STATS_COLUMNS, per_teammate)
    waits = (
        f"{team.replies} replies; fan's wait for a reply: median {_seconds(team.median_reply_seconds)}, "
        f"90th percentile {_seconds(team.p90_reply_seconds)}"
        if team.replies
        else "no replies sent"
    )
    table = _table(STATS_COLUMNS, [[str(v) for v in row] for row in per_teammate]) if per_teammate else ""
    return "\n".join(part for part in (f"since {team.since}: {waits}", table) if part)


def _table(columns: tuple[str, ...], rows: list[list[str]]) -> str:
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def _csv(columns: tuple[str, ...], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().rstrip("\n")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:g} s"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
