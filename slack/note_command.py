"""`/fanvue note FAN TEXT`, `/fanvue note FAN` (a box), `/fanvue notes FAN` and `/fanvue note remove ID`."""

from __future__ import annotations

import logging
import re
from typing import Any

from inbox.services import Services
from safe_text import slack_name
from slack import note_blocks
from slack.notes import (
    NOTE_USAGE,
    Fan,
    add_note,
    fan_label,
    fans_by_handle,
    may_remove,
    open_modal,
    show_again,
)
from store import notes
from store.notes import NoteError

logger = logging.getLogger(__name__)

WORDS = ("note", "notes")
# [creator:HANDLE ...] FAN [TEXT], the text kept as typed (line breaks included).
_ARGS = re.compile(r"^\s*((?:creator:\S*\s+)*)(\S+)\s*(.*)$", re.DOTALL | re.IGNORECASE)
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}


def answer(
    svc: Services, client, command: dict[str, Any], channel_creator: str | None
) -> dict[str, Any] | None:
    """The answer to a note word of /fanvue; None when the command is another one."""
    text = re.sub(r"&(lt|gt|amp);", lambda m: _ENTITIES[m.group(0)], command.get("text") or "")
    name, _, rest = text.strip().partition(" ")
    if name.lower() not in WORDS:
        return None
    user = command.get("user_id") or ""
    match = _ARGS.match(rest)
    if match is None:
        return note_blocks.said(NOTE_USAGE)
    named = [w.split(":", 1)[1] for w in match.group(1).split()]
    creator = named[-1] if named else channel_creator
    target, body = match.group(2), match.group(3).strip()
    if name.lower() == "note" and target.lower() == "remove":
        return _remove(svc, body, user)
    fans = fans_by_handle(svc, target, creator)
    if not fans:
        whose = f" of @{creator}" if creator else ""
        return note_blocks.said(f"No card of a fan @{_plain(target)}{whose} yet; check the handle.")
    if len(fans) > 1:
        creators = ", ".join(f"`creator:{_plain(f.creator_handle)}`" for f in fans)
        return note_blocks.said(f"@{_plain(target)} is a fan of several creators: add one of {creators}.")
    fan = fans[0]
    if name.lower() == "notes":
        return note_blocks.note_list(
            notes.for_fan(svc.store.db, fan.creator_uuid, fan.fan_uuid), fan.fan_handle
        )
    if not body:
        problem = open_modal(client, command.get("trigger_id") or "", fan)
        return note_blocks.said(problem or f"📝 Write the note about {fan_label(fan)} in the box.")
    return _add(svc, fan, body, user)


def _add(svc: Services, fan: Fan, text: str, user: str) -> dict[str, Any]:
    try:
        note = add_note(svc, fan, text, user)
    except NoteError as exc:
        return note_blocks.said(f"⚠️ Not kept: {exc}.")
    return note_blocks.said(f"📝 Note `#{note.id}` kept about {fan_label(fan)}; it shows on their cards.")


def _remove(svc: Services, number: str, user: str) -> dict[str, Any]:
    if not number.isdigit() or len(number) > 18:
        return note_blocks.said(
            "Say which note: `/fanvue note remove ID` (the ids are in `/fanvue notes FAN`)."
        )
    note = notes.get(svc.store.db, int(number))
    if note is None:
        return note_blocks.said(f"There is no note `#{number}`.")
    if not may_remove(svc, note, user):
        notes.refused(svc.store.db, note, user)
        return note_blocks.said(
            f"⚠️ Note `#{note.id}` was not removed: only its author or an approver of the creator may remove it."
        )
    if notes.remove(svc.store.db, note, user):
        show_again(svc, note.creator_uuid, note.fan_uuid)
    return note_blocks.said(f"Note `#{note.id}` removed.")


def _plain(text: str) -> str:
    return slack_name(text, 60)
