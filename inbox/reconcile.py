"""Settling sends whose outcome is unknown: our exact text in the chat means it was delivered."""

from __future__ import annotations

import logging
from datetime import timedelta

from fanvue.errors import FanvueError, NotFoundError
from inbox import conversation as conv
from inbox.outcome import Kind, Outcome
from inbox.services import Services
from store import audit, drafts
from store.clock import to_iso, utcnow
from store.drafts import Draft

logger = logging.getLogger(__name__)


def reconcile(svc: Services, draft: Draft, *, actor: str = audit.SCHEDULER) -> Outcome:
    """Look for the reply among the creator's messages after the fan message it answers."""
    try:
        chat = conv.read_since(svc, draft)
    except NotFoundError:
        # The chat is gone: whether the reply arrived can never be checked, and nothing can be sent there.
        error = (
            "This chat no longer exists in Fanvue, so whether the reply arrived cannot be checked; "
            "it will not be sent again."
        )
        drafts.finish(
            svc.store.db,
            draft,
            to_status=drafts.FAILED,
            from_statuses=drafts.IN_FLIGHT,
            action="failed",
            actor=actor,
            error=error,
            details={"error": error, "reconciled": True},
        )
        return Outcome(Kind.FAILED, error, drafts.get(svc.store.db, draft.id))
    except FanvueError as exc:
        logger.warning("Draft %s: could not check whether the send arrived: %s", draft.id, exc)
        return Outcome(
            Kind.UNKNOWN,
            "Fanvue did not confirm the send and could not be checked yet; "
            "the card will say what happened once it can.",
            draft,
        )
    text = (draft.final_text or "").strip()
    found = next(
        (m for m in chat.newer if m.sender_uuid == chat.creator_uuid and (m.text or "").strip() == text), None
    )
    if found is not None:
        action = "edited-and-sent" if text != draft.draft_text.strip() else "sent"
        drafts.finish(
            svc.store.db,
            draft,
            to_status=drafts.SENT,
            from_statuses=drafts.IN_FLIGHT,
            action=action,
            actor=actor,
            fanvue_message_uuid=found.uuid,
            details={"text": text, "message_uuid": found.uuid, "reconciled": True},
        )
        return Outcome(Kind.SENT, None, drafts.get(svc.store.db, draft.id))
    error = "The send was interrupted and the message is not in the chat, so it was not delivered. Try again."
    drafts.finish(
        svc.store.db,
        draft,
        to_status=drafts.PENDING,
        from_statuses=drafts.IN_FLIGHT,
        action="send-failed",
        actor=actor,
        error=error,
        details={"error": error, "reconciled": True},
    )
    return Outcome(Kind.RELEASED, error, drafts.get(svc.store.db, draft.id))


STUCK_AFTER = timedelta(minutes=10)


def reconcile_in_flight(svc: Services, statuses: tuple[str, ...] = (drafts.UNKNOWN,)) -> int:
    """Settle drafts whose send outcome is open; returns how many settled.

    Each cycle settles `unknown` ones, and `sending` ones only once they are older than any send can take:
    a younger one may be in a click handler's hands right now (in this process or another one).
    At start, before any handler runs, every draft left in `sending` by a crash is settled.
    """
    stuck_before = to_iso(utcnow() - STUCK_AFTER)
    candidates = drafts.with_status(svc.store.db, *statuses)
    if drafts.SENDING not in statuses:
        candidates += [
            d
            for d in drafts.with_status(svc.store.db, drafts.SENDING)
            if (d.decided_at or d.updated_at) < stuck_before
        ]
    settled = 0
    for draft in candidates:
        outcome = reconcile(svc, draft)
        if outcome.kind is not Kind.UNKNOWN:
            settled += 1
            svc.cards.publish(draft.id)
    return settled
