"""Settling sends whose outcome is unknown: our exact text in the chat means it was delivered."""

from __future__ import annotations

import logging
from datetime import timedelta

from fanvue.errors import FanvueError, NotFoundError
from inbox import conversation as conv
from inbox.outcome import Kind, Outcome, end_send
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
        return _settle(svc, draft, Kind.FAILED, actor, error)
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
        details = {"text": text, "message_uuid": found.uuid, "reconciled": True}
        sent = end_send(
            svc,
            draft,
            Kind.SENT,
            actor=actor,
            action=action,
            message_uuid=found.uuid,
            details=details,
            from_statuses=drafts.IN_FLIGHT,
        )
        return Outcome(Kind.SENT, None, sent)
    error = "The send was interrupted and the message is not in the chat, so it was not delivered. Try again."
    return _settle(svc, draft, Kind.RELEASED, actor, error)


def _settle(svc: Services, draft: Draft, kind: Kind, actor: str, error: str) -> Outcome:
    """The send did not arrive: `kind` says whether it may be tried again."""
    details = {"error": error, "reconciled": True}
    ended = end_send(
        svc, draft, kind, actor=actor, error=error, details=details, from_statuses=drafts.IN_FLIGHT
    )
    return Outcome(kind, error, ended)


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
