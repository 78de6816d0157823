"""Fanvue's earnings lines stored once each, paid offers, and revenue credited to whoever sent the message."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlite_utils

from fanvue.earnings import PURCHASE, EarningLine
from store import drafts
from store.clock import from_iso, to_iso, utcnow_iso

BUY_WINDOW = timedelta(hours=48)  # an offer not bought within this is counted as not bought
OUTSIDE = "not through the desk"  # lines whose message this app did not send


@dataclass(frozen=True)
class Offer:
    """A draft's price and media: sent with its text as one paid message."""

    draft_id: int
    price_cents: int
    media_uuids: tuple[str, ...]
    template_uuid: str | None = None


def set_offer(db: sqlite_utils.Database, offer: Offer, actor: str) -> None:
    """Attach (or replace) a draft's price and media; call inside the transaction that changes the card."""
    db.execute(
        "INSERT OR REPLACE INTO paid_offers (draft_id, price_cents, media_uuids, template_uuid, created_by, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [
            offer.draft_id,
            offer.price_cents,
            json.dumps(list(offer.media_uuids)),
            offer.template_uuid,
            actor,
            utcnow_iso(),
        ],
    )


def offer_for(db: sqlite_utils.Database, draft_id: int) -> Offer | None:
    row = db.execute(
        "SELECT price_cents, media_uuids, template_uuid FROM paid_offers WHERE draft_id = ?", [draft_id]
    ).fetchone()
    if row is None:
        return None
    return Offer(draft_id, row[0], tuple(json.loads(row[1])), row[2])


# --- ingestion ------------------------------------------------------------------------------------------


def store_lines(db: sqlite_utils.Database, creator_uuid: str, lines: Iterable[EarningLine]) -> int:
    """Keep each line once, keyed on Fanvue's id; returns how many were new. Call inside a transaction."""
    now = utcnow_iso()
    added = 0
    for line in lines:
        cursor = db.execute(
            "INSERT OR IGNORE INTO earnings (creator_uuid, line_key, kind, source, gross_cents, net_cents, at, "
            "fan_uuid, message_uuid, order_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                creator_uuid,
                line.key,
                line.kind,
                line.source,
                line.gross_cents,
                line.net_cents,
                to_iso(line.at),
                line.fan_uuid,
                line.message_uuid,
                line.order_id,
                now,
            ],
        )
        added += cursor.rowcount
    return added


@dataclass(frozen=True)
class ReadState:
    """Where the next read of a creator's earnings starts."""

    newest: datetime | None  # the newest line stored
    cursor: str | None  # set while a read is unfinished: go on from here...
    cursor_since: datetime | None  # ...with the start date that cursor belongs to


def read_state(db: sqlite_utils.Database, creator_uuid: str) -> ReadState:
    newest = db.execute("SELECT MAX(at) FROM earnings WHERE creator_uuid = ?", [creator_uuid]).fetchone()[0]
    row = db.execute(
        "SELECT cursor, cursor_since FROM earnings_reads WHERE creator_uuid = ?", [creator_uuid]
    ).fetchone()
    cursor, since = (row[0], row[1]) if row else (None, None)
    return ReadState(
        newest=from_iso(newest) if newest else None,
        cursor=cursor,
        cursor_since=from_iso(since) if since else None,
    )


def save_cursor(
    db: sqlite_utils.Database, creator_uuid: str, cursor: str | None, since: datetime | None
) -> None:
    """Remember where the read goes on (None: it finished). Call in the transaction that stored the page."""
    db.execute(
        "INSERT OR REPLACE INTO earnings_reads (creator_uuid, cursor, cursor_since, read_at) VALUES (?, ?, ?, ?)",
        [creator_uuid, cursor, to_iso(since) if since and cursor else None, utcnow_iso()],
    )


# --- the credit -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditRow:
    """Paid messages one teammate (or for one creator) sent since the period began, and what they earned.
    Revenue is every line of those messages, refunds and chargebacks included (they are negative)."""

    name: str
    paid_sent: int = 0
    bought: int = 0
    gross_cents: int = 0
    net_cents: int = 0
    not_bought_48h: int = 0

    @property
    def conversion(self) -> float | None:
        return self.bought / self.paid_sent if self.paid_sent else None


@dataclass(frozen=True)
class RevenueCredit:
    since: str
    teammates: list[CreditRow] = field(default_factory=list)
    creators: list[CreditRow] = field(default_factory=list)  # `name` is the creator's handle
    outside_lines: int = 0  # lines since `since` whose message this app did not send
    outside_gross_cents: int = 0
    outside_net_cents: int = 0


def is_empty(credit: RevenueCredit) -> bool:
    """Nothing to report: no paid message sent and no earnings line in the period."""
    return not credit.teammates and not credit.creators and not credit.outside_lines


def revenue_credit(
    db: sqlite_utils.Database, since: str, now: datetime, creator: str | None = None
) -> RevenueCredit:
    """Fanvue's earnings matched by message to the teammate who approved the send, for the paid messages
    sent since `since` (of one creator, by handle, with `creator`)."""
    only = " AND d.creator_handle = ?" if creator else ""
    args = [creator] if creator else []
    rows = db.execute(
        "SELECT d.decided_by, d.creator_uuid, d.creator_handle, d.decided_at, "
        "(SELECT MIN(e.at) FROM earnings e WHERE e.creator_uuid = d.creator_uuid "
        " AND e.message_uuid = d.fanvue_message_uuid AND e.kind = ?), "
        "(SELECT COALESCE(SUM(e.gross_cents), 0) FROM earnings e WHERE e.creator_uuid = d.creator_uuid "
        " AND e.message_uuid = d.fanvue_message_uuid), "
        "(SELECT COALESCE(SUM(e.net_cents), 0) FROM earnings e WHERE e.creator_uuid = d.creator_uuid "
        " AND e.message_uuid = d.fanvue_message_uuid) "
        "FROM drafts d JOIN paid_offers o ON o.draft_id = d.id "
        f"WHERE d.status = ? AND d.fanvue_message_uuid IS NOT NULL AND d.decided_at >= ?{only}",
        [PURCHASE, drafts.SENT, since, *args],
    ).fetchall()
    teammates: dict[str, dict[str, int]] = {}
    by_creator: dict[str, dict[str, int]] = {}
    for actor, creator_uuid, handle, sent_at, bought_at, gross, net in rows:
        # Bought: a purchase line, and not every cent of it refunded since.
        bought = bought_at is not None and gross > 0
        late = bought_at is None or from_iso(bought_at) > from_iso(sent_at) + BUY_WINDOW
        unbought = late and from_iso(sent_at) + BUY_WINDOW <= now
        for key, table in ((actor or "?", teammates), (handle or creator_uuid, by_creator)):
            totals = table.setdefault(key, dict.fromkeys(("sent", "bought", "gross", "net", "unbought"), 0))
            totals["sent"] += 1
            totals["bought"] += bought
            totals["gross"] += gross
            totals["net"] += net
            totals["unbought"] += unbought
    outside = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(e.gross_cents), 0), COALESCE(SUM(e.net_cents), 0) FROM earnings e "
        "WHERE e.at >= ? AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.creator_uuid = e.creator_uuid "
        "AND d.fanvue_message_uuid = e.message_uuid AND d.status = ?)"
        + (
            " AND e.creator_uuid IN (SELECT DISTINCT creator_uuid FROM drafts WHERE creator_handle = ?)"
            if creator
            else ""
        ),
        [since, drafts.SENT, *args],
    ).fetchone()
    return RevenueCredit(
        since=since,
        teammates=_rows(teammates),
        creators=_rows(by_creator),
        outside_lines=outside[0],
        outside_gross_cents=outside[1],
        outside_net_cents=outside[2],
    )


def _rows(table: dict[str, dict[str, int]]) -> list[CreditRow]:
    rows = [
        CreditRow(name, t["sent"], t["bought"], t["gross"], t["net"], t["unbought"])
        for name, t in table.items()
    ]
    rows.sort(key=lambda r: (-r.gross_cents, -r.paid_sent, r.name))
    return rows
