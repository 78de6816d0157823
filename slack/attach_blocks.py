"""Block Kit for selling from a card: the Attach and Template modals, the offer on the card, Send's confirm."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fanvue.media import FolderItem, MediaItem, Template, VaultFolder
from inbox.selling import OfferView
from safe_text import cut, mrkdwn, one_line, slack_name
from slack.layout import context, section
from slack.limits import CONFIRM_TEXT_MAX, CONFIRM_TITLE_MAX
from store.drafts import Draft
from store.offers import OfferItem

ATTACH, TEMPLATE = "draft_attach", "draft_template"
REMOVE_OFFER = "draft_remove_offer"
ATTACH_VIEW, TEMPLATE_VIEW = "offer_attach", "offer_template"
FOLDER_BLOCK, FOLDER_PICK = "folder", "offer_folder"
MEDIA_BLOCK, MEDIA_INPUT = "media", "items"
PRICE_BLOCK, PRICE_INPUT = "price", "dollars"
TEMPLATE_BLOCK, TEMPLATE_INPUT = "template", "chosen"
OPTION_TEXT_MAX = 75  # an option's text (Option.label_max_length)
OPTIONS_MAX = 100  # options in one select
NO_FOLDERS = f"Fanvue shows agency logins no vault folders: these are the creator's newest ready media (up to {OPTIONS_MAX})."
ITEM_NAME_MAX = 60
_TYPE_LABEL = {"image": "photo", "video": "video", "audio": "voice note", "document": "document"}


def item_label(name: str | None, media_type: str | None) -> str:
    kind = _TYPE_LABEL.get((media_type or "").lower(), media_type or "media")
    return f"{slack_name(name or 'untitled', ITEM_NAME_MAX)} ({slack_name(kind, 20)})"


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": cut(one_line(text), OPTION_TEXT_MAX)}, "value": value}


def metadata(draft: Draft, folder: str | None = None) -> str:
    return json.dumps({"draft_id": draft.id, "version": draft.version, "folder": folder})


def attach_modal(
    draft: Draft,
    folders: list[VaultFolder] | None,
    folder: str | None = None,
    media: Sequence[FolderItem | MediaItem] | None = None,
) -> dict[str, Any]:
    """Pick a folder; once picked, its ready media and a price in dollars. `folders` None: an agency login,
    which Fanvue shows no vault folders: the creator's newest ready `media` at once."""
    body: list[dict[str, Any]] = [
        context(
            [f"A paid message to *{slack_name(draft.fan_name, 80)}* (@{slack_name(draft.fan_handle, 80)})"]
        )
    ]
    if folders is None:
        body.append(context([NO_FOLDERS]))
    else:
        chooser: dict[str, Any] = {
            "type": "static_select",
            "action_id": FOLDER_PICK,
            "placeholder": {"type": "plain_text", "text": "Vault folder"},
            "options": [_option(f.name, f.name[:150]) for f in folders[:OPTIONS_MAX]]
            or [_option("(no folders)", "-")],
        }
        if folder is not None:
            chooser["initial_option"] = _option(folder, folder[:150])
        body.append({"type": "actions", "block_id": FOLDER_BLOCK, "elements": [chooser]})
    if folder is not None or folders is None:
        if media:
            body.append(
                {
                    "type": "input",
                    "block_id": MEDIA_BLOCK,
                    "optional": True,
                    "label": {"type": "plain_text", "text": "Media (ready items)"},
                    "element": {
                        "type": "multi_static_select",
                        "action_id": MEDIA_INPUT,
                        "options": [
                            _option(item_label(m.name, m.media_type), m.uuid) for m in media[:OPTIONS_MAX]
                        ],
                    },
                }
            )
        else:
            body.append(
                section("_No ready media in this folder._" if folders is not None else "_No ready media._")
            )
    body.append(
        {
            "type": "input",
            "block_id": PRICE_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Price in dollars (empty: free)"},
            "element": {
                "type": "plain_text_input",
                "action_id": PRICE_INPUT,
                "placeholder": {"type": "plain_text", "text": "12.50"},
                "max_length": 12,
            },
        }
    )
    return {
        "type": "modal",
        "callback_id": ATTACH_VIEW,
        "title": {"type": "plain_text", "text": "Attach media"},
        "submit": {"type": "plain_text", "text": "Attach"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": metadata(draft, folder),
        "blocks": body,
    }


def submitted(view: dict[str, Any]) -> tuple[list[str], str]:
    """The media uuids picked and the price as typed."""
    values = (view.get("state") or {}).get("values") or {}
    picked = (values.get(MEDIA_BLOCK) or {}).get(MEDIA_INPUT) or {}
    media = [str(o.get("value")) for o in picked.get("selected_options") or [] if isinstance(o, dict)]
    price = ((values.get(PRICE_BLOCK) or {}).get(PRICE_INPUT) or {}).get("value") or ""
    return media, str(price)


def template_modal(draft: Draft, templates: list[Template]) -> dict[str, Any]:
    """The creator's saved templates: folder, price, media count and text, one option each."""
    options = []
    for t in templates[:OPTIONS_MAX]:
        price = f"${t.price_cents / 100:.2f}" if t.price_cents else "free"
        label = f"{t.folder_name or '—'} · {price} · {len(t.media_uuids)} media · {t.text or ''}"
        options.append(_option(label, t.uuid))
    element: dict[str, Any] = {"type": "static_select", "action_id": TEMPLATE_INPUT, "options": options}
    body = (
        [{"type": "input", "block_id": TEMPLATE_BLOCK, "label": _plain("Template"), "element": element}]
        if options
        else [section("_This creator has no saved templates._")]
    )
    return {
        "type": "modal",
        "callback_id": TEMPLATE_VIEW,
        "title": _plain("Use a template"),
        "submit": _plain("Put on card"),
        "close": _plain("Cancel"),
        "private_metadata": metadata(draft),
        "blocks": body,
    }


def chosen_template(view: dict[str, Any]) -> str | None:
    values = (view.get("state") or {}).get("values") or {}
    option = ((values.get(TEMPLATE_BLOCK) or {}).get(TEMPLATE_INPUT) or {}).get("selected_option") or {}
    return option.get("value")


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _names(items: list[OfferItem]) -> list[str]:
    return [item_label(i.name, i.media_type) for i in items]


def offer_blocks(offer: OfferView, remove_value: str | None = None) -> list[dict[str, Any]]:
    """What goes out with the text: the price and each item by name and type; never a link to the media.
    `remove_value` (the card's button value): a Remove button that takes the offer off the card."""
    price = f"*Paid message: ${offer.price_cents / 100:,.2f}*" if offer.price_cents else "*Free media*"
    lines = [f"💰 {price}", *(f"• {mrkdwn(n)}" for n in _names(offer.items))]
    head = section("\n".join(lines))
    if remove_value is not None:
        head["accessory"] = {
            "type": "button",
            "action_id": REMOVE_OFFER,
            "value": remove_value,
            "text": _plain("Remove offer"),
        }
    out = [head]
    warned = [i for i in offer.items if i.media_uuid in offer.sent_before]
    if warned:
        names = ", ".join(mrkdwn(n) for n in _names(warned))
        out.append(context([f"⚠️ Already sent to this fan by the app: {names}"]))
    for url in offer.previews:
        out.append({"type": "image", "image_url": url, "alt_text": "blurred preview"})
    return out


def confirm_offer(offer: OfferView, fan_name: str, flagged: bool) -> dict[str, Any]:
    """Slack's dialog before a paid message goes out: the price and the items, named."""
    price = f"${offer.price_cents / 100:,.2f}"
    name = slack_name(fan_name, 40)
    names = ", ".join(_names(offer.items))
    warn = " The draft is flagged (see 🚩)." if flagged else ""
    ask = f"{warn} Send to {name}?"
    head = f"Charge {price} for {len(offer.items)} item{'s' if len(offer.items) != 1 else ''}: "
    text = head + cut(names, max(20, CONFIRM_TEXT_MAX - len(head) - len(ask) - 1)) + "." + ask
    return {
        "title": _plain(cut(f"Send paid message {price}", CONFIRM_TITLE_MAX)),
        "text": {"type": "plain_text", "text": cut(text, CONFIRM_TEXT_MAX)},
        "confirm": _plain(cut(f"Send for {price}", 30)),
        "deny": _plain("Go back"),
    }


def edit_offer_note(offer: OfferView) -> str:
    """The editor's line for a card with a paid offer: its Send sends the text with these items at this price."""
    names = ", ".join(mrkdwn(n) for n in _names(offer.items))
    return f"💰 Sent as a paid message: *${offer.price_cents / 100:,.2f}* for {cut(names, 400)}"
