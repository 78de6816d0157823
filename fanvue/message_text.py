"""What Fanvue takes as a message: text of at most 5000 characters, and a price only on media, of 300 cents up."""

from __future__ import annotations

from collections.abc import Sequence

MAX_TEXT = 5000  # Fanvue's limit on a message's text (POST /chats/{userUuid}/message)
MIN_PRICE_CENTS = 300  # Fanvue's lowest price of a paid message, in cents


def text_problem(text: object) -> str | None:
    """Why Fanvue would refuse `text` as a message, in words for a teammate; None when it takes it."""
    if not isinstance(text, str) or not text.strip():
        return "The reply is empty: there is nothing to send."
    if len(text) > MAX_TEXT:
        return f"The reply is {len(text)} characters; Fanvue takes at most {MAX_TEXT}."
    return None


def price_problem(
    price_cents: object, media_uuids: Sequence[str] = (), max_price_cents: int | None = None
) -> str | None:
    """Why a paid message would be refused, in words for a teammate; None when the price (or none) is fine.

    Whether Fanvue accepts a price on a message without media is not documented: a price needs media here,
    so a fan is never asked to pay for text alone. `max_price_cents` is the desk's ceiling, when it has one.
    """
    if price_cents is None:
        return None
    if isinstance(price_cents, bool) or not isinstance(price_cents, int) or price_cents < MIN_PRICE_CENTS:
        return f"A price is a whole number of cents, at least {MIN_PRICE_CENTS}."
    if max_price_cents is not None and price_cents > max_price_cents:
        return f"The price {price_cents} cents is above this desk's ceiling of {max_price_cents} cents."
    if not media_uuids:
        return "A paid message needs at least one media item: a fan pays to unlock media, not text alone."
    return None
