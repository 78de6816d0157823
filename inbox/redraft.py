"""Drafting a reply from a chat's history, for a new card, a card whose fan wrote again, or Regenerate."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Sequence

from drafting.base import StyleExample
from fanvue.models import Message, User
from inbox import conversation as conv
from inbox.creators import CreatorInbox
from inbox.fan_context import drafting_facts
from inbox.services import Services
from store import audit, drafts
from store.clock import to_iso
from store.drafts import Draft, NewDraft

logger = logging.getLogger(__name__)


def style_examples(svc: Services, creator_uuid: str) -> tuple[StyleExample, ...]:
    """The team's most recent rewrites of this creator's drafts; read on the caller's thread."""
    pairs = audit.edited_pairs(svc.store.db, creator_uuid, svc.style_examples)
    return tuple(StyleExample(draft=draft, sent=sent) for draft, sent in pairs)


def new_draft(
    svc: Services,
    fan: User,
    history: Sequence[Message],
    unread_count: int,
    *,
    inbox: CreatorInbox,
    examples: tuple[StyleExample, ...] | None = None,
    variant: int = 0,
) -> NewDraft | None:
    """The draft for the fan's latest message in `history` with the creator of `inbox`, in that creator's
    voice; None when the fan has not written.

    With `examples` given it reads only the fan's context and notes from the database (each thread has its
    own connection), so it can run on any thread.
    """
    latest = conv.latest_fan_message(history, inbox.uuid)
    if latest is None:
        return None
    turns = conv.to_turns(history, inbox.uuid)
    if examples is None:
        examples = style_examples(svc, inbox.uuid)
    conversation = dataclasses.replace(
        conv.conversation(inbox.name, fan.name, fan.handle, turns),
        style_examples=examples,
        variant=variant,
        fan_facts=drafting_facts(svc.store.db, inbox.uuid, fan.uuid, fan.is_top_spender),
    )
    drafted = inbox.drafter.draft(conversation)
    return NewDraft(
        creator_uuid=inbox.uuid,
        creator_handle=inbox.handle.lower(),
        fan_uuid=fan.uuid,
        fan_handle=fan.handle,
        fan_name=fan.name,
        fan_message_uuid=latest.uuid,
        fan_message_at=to_iso(latest.sent_at),
        waiting_since=conv.waiting_since(turns),
        unread_count=max(unread_count, len(conversation.unanswered())),
        draft_text=drafted.text,
        drafted_by=drafted.drafted_by,
        context=conv.card_context(turns),
        model=drafted.model,
        latency_ms=drafted.latency_ms,
        prompt_tokens=drafted.prompt_tokens,
        completion_tokens=drafted.completion_tokens,
        fallback_reason=drafted.fallback_reason,
        flags=[flag.to_dict() for flag in inbox.guard.check(drafted.text)],
        is_top_spender=fan.is_top_spender,
    )


def redraft_from_history(
    svc: Services,
    draft: Draft,
    history: Sequence[Message],
    *,
    from_status: str,
    actor: str = audit.SCHEDULER,
) -> Draft | None:
    """Point the card at the fan's newest message with a new draft; None if another change won."""
    fresh = new_draft(svc, fan_of(draft), history, 0, inbox=svc.inbox_for(draft.creator_uuid))
    if fresh is None:
        return None
    notice = "The fan wrote again: new messages and a new draft." if from_status == drafts.SENDING else None
    return save_redraft(svc, draft, fresh, from_status=from_status, actor=actor, notice=notice)


def save_redraft(
    svc: Services,
    draft: Draft,
    fresh: NewDraft,
    *,
    from_status: str,
    actor: str,
    notice: str | None = None,
    action: str = "updated",
    reason: str = "fan wrote again",
) -> Draft | None:
    """Store a new version of the card's draft; None if another change won."""
    try:
        return drafts.redraft(
            svc.store.db,
            draft,
            fresh,
            from_status=from_status,
            actor=actor,
            notice=notice,
            action=action,
            reason=reason,
        )
    except sqlite3.IntegrityError:
        logger.info("Draft %s: the fan's newest message already has a card", draft.id)
        return None


def fan_of(draft: Draft) -> User:
    flag = {"isTopSpender": True} if draft.is_top_spender else {}
    return User(
        uuid=draft.fan_uuid, handle=draft.fan_handle, display_name=draft.fan_name, nickname=None, extra=flag
    )
