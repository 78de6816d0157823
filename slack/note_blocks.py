"""Block Kit for the team's notes about a fan: the Note button's modal and the `/fanvue notes` list."""

from __future__ import annotations

import json
from typing import Any

from safe_text import slack_name
from slack.fan_context_blocks import note_line
from slack.layout import context, pack, section
from store.notes import NOTE_MAX, Note

NOTE = "fan_note"  # the card's Note button
NOTE_VIEW = "fan_note_submit"
NOTE_BLOCK, NOTE_INPUT = "note", "text"
NAME_MAX = 80
LIST_MAX = 20  # notes listed in one answer, newest first (all of them fit one message)


def note_modal(
    fan_name: str, fan_handle: str, creator_handle: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    """The modal a teammate writes a note about a fan in; what it is about travels in private_metadata."""
    whose = f" (a fan of @{slack_name(creator_handle, NAME_MAX)})" if creator_handle else ""
    about = f"About *{slack_name(fan_name, NAME_MAX)}* (@{slack_name(fan_handle, NAME_MAX)}){whose}."
    hint = (
        "Likes, boundaries, promises, purchases discussed: what the team should remember. The newest notes "
        "show on the fan's cards and help the drafter; the fan never sees them."
    )
    return {
        "type": "modal",
        "callback_id": NOTE_VIEW,
        "title": {"type": "plain_text", "text": "Note about a fan"},
        "submit": {"type": "plain_text", "text": "Keep note"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": [
            context([about, hint]),
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "label": {"type": "plain_text", "text": "Note"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": NOTE_INPUT,
                    "multiline": True,
                    "max_length": NOTE_MAX,
                },
            },
        ],
    }


def submitted_note(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})
    return values.get(NOTE_BLOCK, {}).get(NOTE_INPUT, {}).get("value") or ""


def note_list(notes: list[Note], fan_handle: str) -> dict[str, Any]:
    """Every note about the fan with its id (newest first), for `/fanvue notes`."""
    handle = slack_name(fan_handle, NAME_MAX)
    if not notes:
        text = f"No team notes about @{handle} yet. Add one: `/fanvue note {handle} <text>`."
        return {"text": text, "blocks": [section(text)]}
    head = (
        f"📝 *Team notes about @{handle}* ({len(notes)}, newest first; remove one: `/fanvue note remove ID`)"
    )
    lines = [note_line(note, limit=NOTE_MAX, with_id=True) for note in notes[:LIST_MAX]]
    if len(notes) > LIST_MAX:
        lines.append(f"_({len(notes) - LIST_MAX} older notes not shown)_")
    return {"text": f"Team notes about @{handle}", "blocks": [section(c) for c in pack([head, *lines])]}


def said(text: str) -> dict[str, Any]:
    """A one-line answer (the app's own words)."""
    return {"text": text, "blocks": [section(text)]}
