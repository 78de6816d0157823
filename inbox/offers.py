"""Selling from a card: a paid offer's checks (price, readiness, the resale guard) and what the card shows."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal, InvalidOperation

from fanvue.client import FanvueClient
from fanvue.errors import FanvueError
from fanvue.media import MediaClient, MediaItem, Template
from fanvue.message_text import MIN_PRICE_CENTS
from inbox.creators import AgencyCreatorClient
from inbox.selling import OfferView
from inbox.selling import Selling as Selling
from inbox.services import Services
from store import drafts, offers
from store.draft_records import NewDraft
from store.drafts import Draft
from store.earnings import Offer, offer_for

logger = logging.getLogger(__name__)


def ceiling(svc: Services, draft: Draft) -> int:
    """The creator's own ceiling from the desk file, else the app's."""
    desk_of = getattr(svc.desk, "desk_of", None)
    if desk_of is not None and draft.creator_handle:
        own = getattr(desk_of(draft.creator_handle), "ppv_max_price_cents", None)
        if isinstance(own, int):
            return own
    return svc.selling.ppv_max_price_cents


def parse_price(text: str | None) -> int | None:
    """Dollars as typed ("12.50", "$12") in whole cents; None for an empty box; ValueError otherwise."""
    text = (text or "").strip().lstrip("$").strip()
    if not text:
        return None
    try:
        dollars = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"“{text[:20]}” is not a price in dollars, like 12.50.") from exc
    cents = dollars * 100
    if not dollars.is_finite() or cents != cents.to_integral_value():
        raise ValueError("A price has at most two decimals, like 12.50.")
    return int(cents)


def price_error(price_cents: int | None, media: Sequence[str], most: int) -> str | None:
    if price_cents is None:
        return None
    if price_cents < MIN_PRICE_CENTS:
        return f"The lowest price Fanvue takes is {dollars(MIN_PRICE_CENTS)}."
    if price_cents > most:
        return f"The most this creator's messages may cost is {dollars(most)}."
    if not media:
        return "A paid message needs at least one media item."
    return None


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def media_client(svc: Services, draft: Draft) -> MediaClient:
    """The media of the draft's creator: its vault through its own login, its media list through an agency's
    (Fanvue gives agencies no vault folders or templates)."""
    client = svc.inbox_for(draft.creator_uuid).client
    if isinstance(client, AgencyCreatorClient):
        return client.view.media()
    if not isinstance(client, FanvueClient):
        raise FanvueError("this creator's login cannot read media")
    return MediaClient(client)


def offers_templates(svc: Services, draft: Draft) -> bool:
    """Whether the draft's card offers Template: not for a creator reached through an agency login (Fanvue
    gives agencies no saved templates)."""
    inbox = svc.desk.inbox_for(draft.creator_uuid) if svc.desk is not None else None
    return inbox is None or not isinstance(inbox.client, AgencyCreatorClient)


def bought(svc: Services, draft: Draft, media_uuids: Sequence[str]) -> list[str]:
    """The items the fan already bought, Fanvue's answer (FanvueError when it cannot say)."""
    found = media_client(svc, draft).purchased(draft.fan_uuid, media_uuids)
    return [uuid for uuid in media_uuids if found.get(uuid)]


def ready_items(svc: Services, draft: Draft, media_uuids: Sequence[str]) -> tuple[list[MediaItem], list[str]]:
    """The items as Fanvue has them now, and the problems of any that cannot be sent."""
    found = media_client(svc, draft).items(media_uuids)
    items, problems = [], []
    for uuid in media_uuids:
        item = found.get(uuid)
        if item is None:
            problems.append("An item is no longer among the creator's media.")
            continue
        if not item.ready:
            problems.append(f"{item.name or 'An item'} is not ready yet ({item.status}).")
        items.append(item)
    return items, problems


def card_offer(svc: Services, draft: Draft) -> OfferView | None:
    """The offer on the draft's card; blurred previews fetched now when MEDIA_PREVIEW asks for them."""
    offer = offer_for(svc.store.db, draft.id)
    if offer is None:
        return None
    items = offers.items_for(svc.store.db, draft.id)
    sent = offers.already_sent(svc.store.db, draft.creator_uuid, draft.fan_uuid, offer.media_uuids, draft.id)
    previews: list[str] = []
    if svc.selling.media_preview == "blurred":
        try:
            found = media_client(svc, draft).items(offer.media_uuids)
            for uuid in offer.media_uuids:
                blurred = found[uuid].blurred if uuid in found else None
                if blurred is not None:
                    previews.append(blurred.url)
        except FanvueError as exc:  # the card goes out without previews
            logger.warning("Blurred previews of draft %s not read: %s", draft.id, exc)
    return OfferView(offer.price_cents, items, sent, previews)


@dataclass(frozen=True)
class Checked:
    """An offer that passed every check (`problem` None), or why it did not and on which field."""

    problem: str | None = None
    field: str = "media"  # "media" or "price"
    price_cents: int = 0
    items: list[MediaItem] = dataclass_field(default_factory=list)


def check_attach(svc: Services, draft: Draft, media_uuids: Sequence[str], price_text: str) -> Checked:
    """Price, readiness and the resale guard for an offer about to be put on the card."""
    try:
        price = parse_price(price_text)
    except ValueError as exc:
        return Checked(str(exc), "price")
    if price is None:
        return Checked("Type the price in dollars, like 12.50.", "price")
    problem = price_error(price, media_uuids, ceiling(svc, draft))
    if problem:
        return Checked(problem, "media" if not media_uuids else "price")
    try:
        items, problems = ready_items(svc, draft, media_uuids)
        if problems:
            return Checked(" ".join(problems))
        already = bought(svc, draft, media_uuids)
    except FanvueError as exc:
        return Checked(f"Fanvue could not be asked about these items ({exc}); nothing was attached.")
    if already:
        names = ", ".join(i.name or i.uuid for i in items if i.uuid in already)
        return Checked(f"{draft.fan_name} already bought {names}: it cannot be sold to them again.")
    return Checked(None, price_cents=price, items=items)


CHANGED = "This card changed meanwhile (a new draft, or another teammate's offer); nothing was {what}."


def attach_checked(
    svc: Services, draft: Draft, checked: Checked, actor: str, template: str | None = None
) -> str | None:
    """Keep the checked offer on the draft (replacing one before) and update the card; the problem when the
    card moved on meanwhile."""
    offer = Offer(draft.id, checked.price_cents, tuple(i.uuid for i in checked.items), template)
    items = [offers.OfferItem(i.uuid, i.name, i.media_type) for i in checked.items]
    if not offers.attach(svc.store.db, draft, offer, items, actor):
        return CHANGED.format(what="attached")
    svc.cards.publish(draft.id)
    return None


def remove_offer(svc: Services, draft: Draft, actor: str) -> str | None:
    """Take the offer off the card: it goes out as text alone. The problem when it cannot be."""
    if not offers.remove(svc.store.db, draft, actor):
        return CHANGED.format(what="removed")
    svc.cards.publish(draft.id)
    return None


def use_template(svc: Services, draft: Draft, template: Template, actor: str) -> str | None:
    """Put a saved template on the card as explicit text (a new version), media and price; the problem
    when it cannot be."""
    text = (template.text or "").strip()
    if not text:
        return "This template has no text; write the message with Edit instead."
    checked = Checked()
    if template.price_cents:
        checked = check_attach(svc, draft, template.media_uuids, f"{template.price_cents / 100:.2f}")
        if checked.problem:
            return checked.problem
    fresh = NewDraft(
        creator_uuid=draft.creator_uuid,
        creator_handle=draft.creator_handle,
        fan_uuid=draft.fan_uuid,
        fan_handle=draft.fan_handle,
        fan_name=draft.fan_name,
        fan_message_uuid=draft.fan_message_uuid,
        fan_message_at=draft.fan_message_at,
        waiting_since=draft.waiting_since,
        unread_count=draft.unread_count,
        draft_text=text,
        context=draft.context,
        flags=[flag.to_dict() for flag in svc.guard_for(draft).check(text)],
        is_top_spender=draft.is_top_spender,
    )
    saved = drafts.redraft(
        svc.store.db, draft, fresh, actor=actor, action="templated", reason=f"template {template.uuid}"
    )
    if saved is None:
        return "This card changed meanwhile; nothing was put on it. Try again."
    if template.price_cents:
        return attach_checked(svc, saved, checked, actor, template.uuid)
    svc.cards.publish(saved.id)
    return None
