"""Audit entries and team numbers as text for a terminal: an aligned table, JSON or CSV.

Every format is safe to print: a fan's escape sequences, BEL or carriage returns show as escapes
(`\\x1b`, `\\x07`, `\\r`) and are never acted on. In CSV a cell that a spreadsheet would take for a
formula (starting with `=`, `+`, `-` or `@`) starts with `'` instead, so it is shown, never run.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import sqlite_utils

from safe_text import csv_cell, cut, terminal
from store import earnings, filters, queries
from store.queries import AuditEntry, TeamStats
from store.sla import HitRate

FORMATS = ("table", "json", "csv")
AUDIT_COLUMNS = ("at", "actor", "action", "fan_handle", "fan_uuid", "draft_id", "text")
TAKE_COLUMNS = ("median_to_take_s", "median_take_to_decision_s")  # card posted -> taken -> decided
STATS_COLUMNS = ("actor", "sent", "edited", "skipped", *TAKE_COLUMNS)
CREATOR_COLUMNS = ("creator", "sent", "edited", "skipped")
TABLE_TEXT_MAX = 60
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def audit_report(
    db: sqlite_utils.Database,
    *,
    creator: str | None = None,
    fan: str | None,
    user: str | None,
    action: str | None,
    since: str | None,
    limit: int,
    fmt: str,
    now: datetime,
) -> str:
    """`app.py audit`: the filtered audit log; FilterError when an option cannot be understood."""
    found = filters.from_options(
        creator=creator, fan=fan, user=user, action=action, since=since, limit=limit, now=now
    )
    return audit_text(queries.audit_entries(db, found), fmt)


def stats_report(
    db: sqlite_utils.Database, *, since: str, fmt: str, now: datetime, creator: str | None = None
) -> str:
    """`app.py stats`: decisions per teammate (and per creator) and reply times since `since` (a period
    or a date), of one creator with `creator`."""
    handle = filters.parse_creator(creator) if creator else None
    start = filters.parse_period(since, now)
    team = queries.decision_stats(db, start, handle)
    credit = earnings.revenue_credit(db, start, now, handle)
    if earnings.is_empty(credit):
        return stats_text(team, fmt)
    if fmt == "csv":
        return stats_csv_with_revenue(team, credit)
    return join_revenue(stats_text(team, fmt), revenue_text(credit, fmt), fmt)


def audit_text(entries: list[AuditEntry], fmt: str) -> str:
    if fmt == "json":
        return _json([e.as_dict() for e in entries])
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
        row[-1] = cut(" ".join(row[-1].split()), TABLE_TEXT_MAX)
    return _table(AUDIT_COLUMNS, rows) if rows else "No audit entries match."


def stats_text(team: TeamStats, fmt: str) -> str:
    per_teammate = [
        [t.actor, t.sent, t.edited, t.skipped, t.median_to_take_seconds, t.median_take_to_decision_seconds]
        for t in team.teammates
    ]
    per_creator = [[c.actor, c.sent, c.edited, c.skipped] for c in team.creators]
    if fmt == "json":
        data = {
            "since": team.since,
            "replies": team.replies,
            "median_reply_seconds": team.median_reply_seconds,
            "p90_reply_seconds": team.p90_reply_seconds,
            "teammates": [dict(zip(STATS_COLUMNS, row, strict=True)) for row in per_teammate],
        }
        if per_creator:
            data["creators"] = [dict(zip(CREATOR_COLUMNS, row, strict=True)) for row in per_creator]
        data["sla"] = {
            kind: {name: {"on_time": r.on_time, "replies": r.replies} for name, r in rates.items()}
            for kind, rates in (("teammates", team.sla_teammates), ("creators", team.sla_creators))
        }
        return _json(data)
    if fmt == "csv":
        cells = _decision_cells(team)
        if per_creator:
            # One table: each row is a teammate or a creator, said in its first column.
            return _csv(("kind", "name", *DECISION_CSV_COLUMNS), [[k, n, *c] for (k, n), c in cells.items()])
        return _csv(("actor", *DECISION_CSV_COLUMNS), [[n, *c] for (_, n), c in cells.items()])
    waits = (
        f"{team.replies} replies; fan's wait for a reply: median {_seconds(team.median_reply_seconds)}, "
        f"90th percentile {_seconds(team.p90_reply_seconds)}"
        if team.replies
        else "no replies sent"
    )
    table = _table(STATS_COLUMNS, [[_cell(v) for v in row] for row in per_teammate]) if per_teammate else ""
    creators = _table(CREATOR_COLUMNS, [[str(v) for v in row] for row in per_creator]) if per_creator else ""
    sla = _sla_table(team)
    return "\n".join(part for part in (f"since {team.since}: {waits}", table, creators, sla) if part)


SLA_COLUMNS = ("sla", "name", "on_time", "replies", "hit_rate")
SLA_CSV_COLUMNS = ("sla_on_time", "sla_replies")  # replies sent within their SLA, of the replies sent
DECISION_CSV_COLUMNS = ("sent", "edited", "skipped", *TAKE_COLUMNS, *SLA_CSV_COLUMNS)


def _decision_cells(team: TeamStats) -> dict[tuple[str, str], list[object]]:
    """CSV: each teammate's, then each creator's, DECISION_CSV_COLUMNS, by (kind, name)."""
    rows: dict[tuple[str, str], list[object]] = {}
    for t in team.teammates:
        takes = [t.median_to_take_seconds, t.median_take_to_decision_seconds]
        rows[("teammate", t.actor)] = [
            t.sent,
            t.edited,
            t.skipped,
            *takes,
            *_sla_cells(team.sla_teammates.get(t.actor)),
        ]
    for c in team.creators:
        sla = _sla_cells(team.sla_creators.get(c.actor))
        rows[("creator", c.actor)] = [c.sent, c.edited, c.skipped, *([None] * len(TAKE_COLUMNS)), *sla]
    return rows


def _sla_cells(rate: HitRate | None) -> list[object]:
    return [rate.on_time, rate.replies] if rate is not None and rate.replies else [None, None]


def _sla_table(team: TeamStats) -> str:
    """Replies sent within their SLA per teammate and per creator (store.sla.hit_rates says when)."""
    rows = [
        [kind, name, str(r.on_time), str(r.replies), f"{r.percent:.0f}%"]
        for kind, rates in (("teammate", team.sla_teammates), ("creator", team.sla_creators))
        for name, r in sorted(rates.items())
        if r.replies
    ]
    return _table(SLA_COLUMNS, rows) if rows else ""


def _table(columns: tuple[str, ...], rows: list[list[str]]) -> str:
    rows = [[terminal(v) for v in row] for row in rows]
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
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return out.getvalue().rstrip("\n")


def _cell(value: object) -> str:
    """A table cell: counts as they are, a missing median as `-`, a median in whole seconds."""
    if value is None:
        return "-"
    return f"{value:.0f}" if isinstance(value, float) else str(value)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:g} s"


def _json(data: object) -> str:
    """JSON escapes C0 controls itself; C1 controls (`\\x9b` starts an escape sequence in some terminals),
    DEL, line separators and direction overrides are written as `\\u` escapes too: valid JSON, same data."""
    return _UNSAFE_IN_JSON.sub(
        lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, ensure_ascii=False, indent=2)
    )


REVENUE_COLUMNS = (
    "kind",
    "name",
    "paid_sent",
    "bought",
    "conversion",
    "gross_cents",
    "net_cents",
    "not_bought_48h",
)
REVENUE_SOURCE = (
    "Revenue: Fanvue's earnings lines matched by message to the teammate who approved the send; refunds and "
    "chargebacks count against it"
)


def revenue_text(credit: earnings.RevenueCredit, fmt: str) -> str:
    """The revenue credit, said to come from Fanvue's earnings matched by message."""
    rows = [["teammate", *_credit_row(r)] for r in credit.teammates]
    rows += [["creator", *_credit_row(r)] for r in credit.creators]
    rows.append(["outside", earnings.OUTSIDE, *_outside_cells(credit)])
    if fmt == "json":
        return _json(
            {
                "source": REVENUE_SOURCE,
                "rows": [dict(zip(REVENUE_COLUMNS, row, strict=True)) for row in rows],
                "outside_lines": credit.outside_lines,
            }
        )
    if fmt == "csv":
        return _csv(REVENUE_COLUMNS, rows)
    return f"{REVENUE_SOURCE}.\n" + _table(REVENUE_COLUMNS, [[str(v) for v in row] for row in rows])


def stats_csv_with_revenue(team: TeamStats, credit: earnings.RevenueCredit) -> str:
    """One CSV table: each teammate's and creator's decisions with their revenue credit beside them (a row
    only one side has leaves the other side's cells empty), and the earnings not through the desk."""
    revenue = REVENUE_COLUMNS[2:]
    rows = _decision_cells(team)
    blank = [None] * len(DECISION_CSV_COLUMNS)
    for kind, credited in (("teammate", credit.teammates), ("creator", credit.creators)):
        for row in credited:
            rows[(kind, row.name)] = [*rows.get((kind, row.name), blank), *_credit_row(row)[1:]]
    rows[("outside", earnings.OUTSIDE)] = [*blank, *_outside_cells(credit)]
    width = len(DECISION_CSV_COLUMNS) + len(revenue)
    table = [[kind, name, *cells, *([None] * (width - len(cells)))] for (kind, name), cells in rows.items()]
    return _csv(("kind", "name", *DECISION_CSV_COLUMNS, *revenue), table)


def _outside_cells(credit: earnings.RevenueCredit) -> list[object]:
    """The revenue cells of the earnings not through the desk: gross and net alone."""
    return ["", "", "", credit.outside_gross_cents, credit.outside_net_cents, ""]


def join_revenue(stats: str, revenue: str, fmt: str) -> str:
    if fmt == "json":
        # One JSON document: the decision numbers with the revenue beside them.
        return _json({**json.loads(stats), "revenue": json.loads(revenue)})
    return f"{stats}\n\n{revenue}"


def _credit_row(row: earnings.CreditRow) -> list:
    conversion = "" if row.conversion is None else f"{row.conversion:.0%}"
    return [
        row.name,
        row.paid_sent,
        row.bought,
        conversion,
        row.gross_cents,
        row.net_cents,
        row.not_bought_48h,
    ]
