"""Drafting a reply from a chat's history, for a new card or a card whose fan wrote again."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence

from fanvue.models import Message, User
from inbox import conversation as conv
from inbox.services import Services
from store import audit, drafts
from store.clock import to_iso
from store.drafts import Draft, NewDraft

logger = logging.getLogger(__name__)


def new_draft(svc: Services, fan: User, history: Sequence[Message], unread_count: int) -> NewDraft | None:
    """The draft for the fan's latest message in `history`; None when the fan has not written."""
    creator = svc.creator.get()
    latest = conv.latest_fan_message(history, creator.uuid)
    if latest is None:
        return None
    turns = conv.to_turns(history, creator.uuid)
    drafted = svc.drafter.draft(conv.conversation(svc.creator.name, fan.name, fan.handle, turns))
    return NewDraft(
        creator_uuid=creator.uuid,
        fan_uuid=fan.uuid,
        fan_handle=fan.handle,
        fan_name=fan.name,
        fan_message_uuid=latest.uuid,
        fan_message_at=to_iso(latest.sent_at),
        waiting_since=conv.waiting_since(turns),
        unread_count=max(unread_count, len([t for t in conv.conversation("", "", "", turns).unanswered()])),
        draft_text=drafted.text,
        drafted_by=drafted.drafted_by,
        context=conv.card_context(turns),
    )


def redraft_from_history(
    svc: Services, draft: Draft, history: Sequence[Message], *, from_status: str, actor: str = audit.SCHEDULER,
    unread_count: int = 0,
) -> Draft | None:
    """Point the card at the fan's newest message with a new draft; None if another change won."""
    fan = User(uuid=draft.fan_uuid, handle=draft.fan_handle, display_name=draft.fan_name, nickname=None)
    fresh = new_draft(svc, fan, history, unread_count)
    if fresh is None:
        return None
    notice = "The fan wrote again: new messages and a new draft." if from_status == drafts.SENDING else None
    try:
        return drafts.redraft(svc.store.db, draft, fresh, from_status=from_status, actor=actor, notice=notice)
    except sqlite3.IntegrityError:
        logger.info("Draft %s: the fan's newest message already has a card", draft.id)
        return None
