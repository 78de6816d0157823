"""Block Kit for the edit modal: a draft's text in a box, its id and version in private_metadata."""

from __future__ import annotations

import json
from typing import Any

from inbox.selling import OfferView
from safe_text import slack_name
from slack.attach_blocks import edit_offer_note
from slack.layout import context
from slack.limits import INPUT_TEXT_MAX
from store.drafts import Draft

EDIT_VIEW = "draft_edit_submit"
EDIT_BLOCK, EDIT_INPUT = "reply", "text"
EDIT_MAX = INPUT_TEXT_MAX  # what the editor holds, under Fanvue's 5000
NAME_MAX = 80  # characters of a fan's name or handle in the card's header, the modal and the fallback


def edit_modal(draft: Draft, offer: OfferView | None = None) -> dict[str, Any]:
    """The modal a teammate edits a draft in; the draft id and version travel in private_metadata.

    The box holds Slack's 3000 characters at most: a longer draft starts cut there, and the modal says
    so, since what is sent is what is in the box.
    """
    notes = [
        f"Reply to *{slack_name(draft.fan_name, NAME_MAX)}* (@{slack_name(draft.fan_handle, NAME_MAX)}) on Fanvue"
    ]
    if len(draft.draft_text) > EDIT_MAX:
        notes.append(
            f"⚠️ The draft has {len(draft.draft_text)} characters; the box holds its first {EDIT_MAX}. "
            "What you send is what is in the box."
        )
    submit = "Send"
    if offer is not None and offer.price_cents:  # Send here is the paid message's confirmation too
        notes.append(edit_offer_note(offer))
        submit = f"Send for ${offer.price_cents / 100:,.2f}"
    return {
        "type": "modal",
        "callback_id": EDIT_VIEW,
        "title": {"type": "plain_text", "text": "Edit reply"},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"draft_id": draft.id, "version": draft.version}),
        "blocks": [
            context(notes),
            {
                "type": "input",
                "block_id": EDIT_BLOCK,
                "label": {"type": "plain_text", "text": "Message"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_INPUT,
                    "multiline": True,
                    "max_length": EDIT_MAX,
                    "initial_value": draft.draft_text[:EDIT_MAX],
                },
            },
        ],
    }


def parse_edit_metadata(metadata: str) -> tuple[int, int]:
    """(draft id, version) from the modal's private_metadata; ValueError when it is not ours."""
    try:
        data = json.loads(metadata)
        return row_number(data["draft_id"]), row_number(data["version"])
    except (TypeError, KeyError, json.JSONDecodeError) as exc:
        raise ValueError("not an edit modal of this app") from exc


def row_number(value: str | int) -> int:
    """A draft id or version: SQLite refuses integers past 64 bits with an error, not with "no such row"."""
    number = int(value)
    if not 0 <= number < 2**63:
        raise ValueError(f"{value!r} is not a draft id or version")
    return number
