"""The team's notes about fans in Slack: the card's Note button and modal, and `/fanvue note(s)`."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError, SlackClientError

from inbox.services import Services
from safe_text import slack_name
from slack import blocks, note_blocks
from slack.handoff import RunLater, acknowledge_then
from store import drafts, notes
from store.fan_context import touch_cards
from store.notes import NoteError

logger = logging.getLogger(__name__)

NOTE_USAGE = (
    "`/fanvue note FAN-HANDLE TEXT` keeps a note about a fan (`/fanvue note FAN-HANDLE` opens a box for it); "
    "`/fanvue notes FAN-HANDLE` lists them with their ids; `/fanvue note remove ID` removes one (its author "
    "or an approver)."
)
NOT_OURS = "This is not one of this app's notes; nothing was kept."
MODAL_FAILED = "Slack could not open the note box ({error}); nothing was kept. Try again."


@dataclass(frozen=True)
class Fan:
    """A fan of one creator, as the cards know them."""

    creator_uuid: str
    creator_handle: str
    fan_uuid: str
    fan_handle: str
    fan_name: str

    def metadata(self) -> dict[str, str]:
        return {"creator": self.creator_uuid, "fan": self.fan_uuid}


def register_notes(app: App, svc: Services, run_later: RunLater) -> None:
    """The Note button opens the modal; submitting it keeps the note (problems shown in the modal)."""

    def open_box(body: dict[str, Any], action: dict[str, Any], respond, client) -> None:
        try:
            draft_id, _ = blocks.parse_button_value(action.get("value", ""))
        except ValueError:
            return
        draft = drafts.get(svc.store.db, draft_id)
        if draft is None:
            return
        fan = Fan(draft.creator_uuid, draft.creator_handle, draft.fan_uuid, draft.fan_handle, draft.fan_name)
        problem = open_modal(client, body.get("trigger_id", ""), fan)
        if problem:
            client.chat_postEphemeral(channel=draft.channel or "", user=body["user"]["id"], text=problem)

    def check(ack, body: dict[str, Any], view: dict[str, Any]) -> bool:
        fan = _fan_of_modal(svc, view.get("private_metadata", ""))
        if fan is None:
            ack(response_action="errors", errors={note_blocks.NOTE_BLOCK: NOT_OURS})
            return False
        try:
            notes.check_text(note_blocks.submitted_note(view))
        except NoteError as exc:
            ack(response_action="errors", errors={note_blocks.NOTE_BLOCK: _sentence(str(exc))})
            return False
        ack()
        return True

    def keep(body: dict[str, Any], view: dict[str, Any], respond, client) -> None:
        fan = _fan_of_modal(svc, view.get("private_metadata", ""))
        if fan is not None:
            add_note(svc, fan, note_blocks.submitted_note(view), body["user"]["id"])

    # The card's note buttons, listed as slack.listeners lists the decision buttons.
    on_click: dict[str, Callable[..., None]] = {note_blocks.NOTE: open_box}
    for action_id, work in on_click.items():
        app.action(action_id)(acknowledge_then(run_later, work))
    app.view(note_blocks.NOTE_VIEW)(acknowledge_then(run_later, keep, check))


def open_modal(client, trigger_id: str, fan: Fan) -> str | None:
    """Open the note box; the reason when Slack would not."""
    view = note_blocks.note_modal(fan.fan_name, fan.fan_handle, fan.creator_handle, fan.metadata())
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        logger.warning("Could not open the note box: %s", error)
        return MODAL_FAILED.format(error=error or "no answer")
    except (SlackClientError, OSError) as exc:
        return MODAL_FAILED.format(error=type(exc).__name__)
    return None


def add_note(svc: Services, fan: Fan, text: str, author: str) -> notes.Note:
    """Keep the note (NoteError when its text is not one), and show it on the fan's waiting card."""
    note = notes.add(
        svc.store.db,
        creator_uuid=fan.creator_uuid,
        creator_handle=fan.creator_handle,
        fan_uuid=fan.fan_uuid,
        fan_handle=fan.fan_handle,
        text=text,
        author=author,
    )
    assert note is not None  # only an import skips duplicates
    show_again(svc, fan.creator_uuid, fan.fan_uuid)
    return note


def show_again(svc: Services, creator_uuid: str, fan_uuid: str) -> None:
    touch_cards(svc.store.db, creator_uuid, [fan_uuid])
    card = drafts.open_for_fan(svc.store.db, fan_uuid, creator_uuid)
    if card is not None and card.ts is not None:
        svc.cards.publish(card.id)  # not reaching Slack now: the next cycle shows it


def _fan_of_modal(svc: Services, metadata: str) -> Fan | None:
    try:
        data = json.loads(metadata)
        creator_uuid, fan_uuid = str(data["creator"]), str(data["fan"])
    except (TypeError, KeyError, ValueError):
        return None
    return fan_by_uuid(svc, creator_uuid, fan_uuid)


def fan_by_uuid(svc: Services, creator_uuid: str, fan_uuid: str) -> Fan | None:
    row = svc.store.db.execute(
        "SELECT creator_uuid, creator_handle, fan_uuid, fan_handle, fan_name FROM drafts "
        "WHERE creator_uuid = ? AND fan_uuid = ? ORDER BY id DESC LIMIT 1",
        [creator_uuid, fan_uuid],
    ).fetchone()
    return None if row is None else Fan(*row)


def fans_by_handle(svc: Services, handle: str, creator: str | None) -> list[Fan]:
    """The fans with this handle on the cards (of the creator by handle, when given), one per creator."""
    sql = (
        "SELECT creator_uuid, creator_handle, fan_uuid, fan_handle, fan_name FROM drafts "
        "WHERE lower(fan_handle) = lower(?)"
    )
    params = [handle.lstrip("@")]
    if creator:
        sql, params = sql + " AND lower(creator_handle) = lower(?)", [*params, creator.lstrip("@")]
    found: dict[tuple[str, str], Fan] = {}
    for row in svc.store.db.execute(sql + " ORDER BY id DESC", params).fetchall():
        found.setdefault((row[0], row[2]), Fan(*row))
    return list(found.values())


def may_remove(svc: Services, note: notes.Note, user: str) -> bool:
    """Its author, or one of the approvers listed for the note's creator."""
    if user == note.author:
        return True
    approvers = svc.desk.approvers_for(note.creator_handle) if svc.desk is not None else svc.approvers
    return user in approvers


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def fan_label(fan: Fan) -> str:
    whose = f" of @{slack_name(fan.creator_handle, 40)}" if fan.creator_handle else ""
    return f"@{slack_name(fan.fan_handle, 40)}{whose}"
