"""Settings of paid messages, shared by the services and the offer checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from store.offers import OfferItem

DEFAULT_PPV_MAX_PRICE_CENTS = 10_000  # the ceiling of a paid message's price when the desk names none
MEDIA_PREVIEWS = (
    "none",
    "blurred",
)  # what the card shows of an offer's media: nothing, or the blurred variant


@dataclass(frozen=True)
class Selling:
    """Settings of paid messages: the price ceiling and whether the card shows blurred previews."""

    ppv_max_price_cents: int = DEFAULT_PPV_MAX_PRICE_CENTS
    media_preview: str = "none"


@dataclass(frozen=True)
class OfferView:
    """What a card shows of its paid offer: price, items, warnings, blurred preview URLs (never stored)."""

    price_cents: int
    items: list[OfferItem]
    sent_before: set[str] = field(default_factory=set)  # uuids this app already sent the fan
    previews: list[str] = field(default_factory=list)
