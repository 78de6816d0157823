"""A draft's paid offer with its items' names and types, and which items this app already sent a fan."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from store import audit, drafts
from store.db import write
from store.earnings import Offer, offer_for, set_offer

ATTACHED = "attached"


@dataclass(frozen=True)
class OfferItem:
    media_uuid: str
    name: str | None
    media_type: str | None


def attach(
    db: sqlite_utils.Database, draft: drafts.Draft, offer: Offer, items: Sequence[OfferItem], actor: str
) -> None:
    """Keep (or replace) the draft's offer and its items, audited as `attached`."""
    with write(db):
        set_offer(db, offer, actor)
        db.execute("DELETE FROM paid_offer_items WHERE draft_id = ?", [draft.id])
        for position, item in enumerate(items):
            db.execute(
                "INSERT INTO paid_offer_items (draft_id, position, media_uuid, name, media_type) "
                "VALUES (?, ?, ?, ?, ?)",
                [draft.id, position, item.media_uuid, item.name, item.media_type],
            )
        db.execute("UPDATE drafts SET card_rev = card_rev + 1 WHERE id = ?", [draft.id])
        audit.record(
            db,
            action=ATTACHED,
            actor=actor,
            draft_id=draft.id,
            fan_uuid=draft.fan_uuid,
            fan_handle=draft.fan_handle,
            details={
                "price_cents": offer.price_cents,
                "media_uuids": list(offer.media_uuids),
                "items": [item.name for item in items],
                **({"template_uuid": offer.template_uuid} if offer.template_uuid else {}),
            },
        )


def items_for(db: sqlite_utils.Database, draft_id: int) -> list[OfferItem]:
    """The offer's items in order; an offer stored without names lists its uuids alone."""
    offer = offer_for(db, draft_id)
    if offer is None:
        return []
    rows = db.execute(
        "SELECT media_uuid, name, media_type FROM paid_offer_items WHERE draft_id = ? ORDER BY position",
        [draft_id],
    ).fetchall()
    named = {row[0]: OfferItem(*row) for row in rows}
    return [named.get(uuid, OfferItem(uuid, None, None)) for uuid in offer.media_uuids]


def already_sent(
    db: sqlite_utils.Database, creator_uuid: str, fan_uuid: str, media_uuids: Sequence[str], but: int
) -> set[str]:
    """Which of `media_uuids` this app already sent the fan in a paid message (draft `but` aside)."""
    rows = db.execute(
        "SELECT o.media_uuids FROM paid_offers o JOIN drafts d ON d.id = o.draft_id WHERE d.creator_uuid = ? "
        "AND d.fan_uuid = ? AND d.status = ? AND d.id != ?",
        [creator_uuid, fan_uuid, drafts.SENT, but],
    ).fetchall()
    sent = {uuid for (row,) in rows for uuid in json.loads(row)}
    return sent & set(media_uuids)
