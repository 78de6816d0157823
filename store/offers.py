"""A draft's paid offer with its items' names and types, and which items this app already sent a fan."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from store import drafts
from store.clock import utcnow_iso
from store.db import write
from store.earnings import Offer, offer_for, set_offer

ATTACHED = "attached"
REMOVED = "offer-removed"


@dataclass(frozen=True)
class OfferItem:
    media_uuid: str
    name: str | None
    media_type: str | None


def attach(
    db: sqlite_utils.Database, draft: drafts.Draft, offer: Offer, items: Sequence[OfferItem], actor: str
) -> bool:
    """Keep (or replace) the draft's offer and its items, audited as `attached`; False when the card is no
    longer waiting at this version. What goes out changes, so the draft takes a new version: a Send or an
    editor opened on the card as it was before is refused rather than sending what it did not show."""
    with write(db):
        if not _new_version(db, draft):
            return False
        set_offer(db, offer, actor)
        db.execute("DELETE FROM paid_offer_items WHERE draft_id = ?", [draft.id])
        for position, item in enumerate(items):
            db.execute(
                "INSERT INTO paid_offer_items (draft_id, position, media_uuid, name, media_type) "
                "VALUES (?, ?, ?, ?, ?)",
                [draft.id, position, item.media_uuid, item.name, item.media_type],
            )
        _audit(db, ATTACHED, draft, actor, offer, [item.name for item in items])
    return True


def remove(db: sqlite_utils.Database, draft: drafts.Draft, actor: str) -> bool:
    """Take the offer off a waiting card (a new version, as for attach), audited as `offer-removed`; False
    when there is none or the card moved on."""
    with write(db):
        offer = offer_for(db, draft.id)
        if offer is None or not _new_version(db, draft):
            return False
        names = [item.name for item in items_for(db, draft.id)]
        db.execute("DELETE FROM paid_offers WHERE draft_id = ?", [draft.id])
        db.execute("DELETE FROM paid_offer_items WHERE draft_id = ?", [draft.id])
        _audit(db, REMOVED, draft, actor, offer, names)
    return True


def _new_version(db: sqlite_utils.Database, draft: drafts.Draft) -> bool:
    return (
        db.execute(
            "UPDATE drafts SET version = version + 1, card_rev = card_rev + 1, updated_at = ? "
            "WHERE id = ? AND status = ? AND version = ?",
            [utcnow_iso(), draft.id, drafts.PENDING, draft.version],
        ).rowcount
        == 1
    )


def _audit(
    db: sqlite_utils.Database,
    action: str,
    draft: drafts.Draft,
    actor: str,
    offer: Offer,
    names: Sequence[str | None],
) -> None:
    drafts.record(
        db,
        draft,
        action=action,
        actor=actor,
        details={
            "price_cents": offer.price_cents,
            "media_uuids": list(offer.media_uuids),
            "items": list(names),
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
