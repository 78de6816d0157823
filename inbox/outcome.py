"""What a teammate's click came to, and the checks every button makes before it does anything."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import safe_text
from inbox.services import Services
from store import audit, drafts
from store.drafts import Draft


class Kind(StrEnum):
    """Every way a decision can end."""

    MISSING = "missing"  # the card is not in the database
    DENIED = "denied"  # the clicker is not an approver
    DECIDED = "decided"  # someone decided first
    STALE = "stale"  # the card changed since the clicker saw it
    INVALID = "invalid"  # the click or the text cannot be acted on
    EDITING = "editing"  # the editor may open on `draft`
    SENT = "sent"
    SKIPPED = "skipped"
    REGENERATED = "regenerated"
    SUPERSEDED = "superseded"  # the creator answered in Fanvue
    FAN_WROTE_AGAIN = "fan_wrote_again"
    RELEASED = "released"  # nothing was sent; the card waits again
    FAILED = "failed"
    UNKNOWN = "unknown"  # whether the reply arrived is not known yet


@dataclass(frozen=True)
class Outcome:
    """What happened, and what to tell the teammate who clicked in Slack mrkdwn (None: the card says it all)."""

    kind: Kind
    message: str | None = None
    draft: Draft | None = None


def plain(text: str) -> str:
    """A message built from words Fanvue or a fan chose, for Slack: on one line, no mention, link or markup."""
    return safe_text.mrkdwn(safe_text.one_line(text))


def load_for_decision(svc: Services, draft_id: int, version: int, actor: str, action: str) -> Draft | Outcome:
    """Checks shared by every button: the card exists, the clicker may decide, the card is current.

    Returns the draft to act on, or the outcome that stops the click.
    """
    draft = drafts.get(svc.store.db, draft_id)
    if draft is None:
        return Outcome(Kind.MISSING, "This card is not in the database any more; nothing was done.")
    refusal = svc.refusal(actor, draft.creator_handle)
    if refusal is not None:
        audit.record(
            svc.store.db,
            action="denied",
            actor=actor,
            draft_id=draft.id,
            fan_uuid=draft.fan_uuid,
            fan_handle=draft.fan_handle,
            details={"attempted": action},
        )
        return Outcome(Kind.DENIED, refusal, draft)
    if draft.status != drafts.PENDING:
        return decided(draft)
    if draft.version != version:
        return Outcome(
            Kind.STALE,
            "This card was updated since you saw it (the fan wrote again). "
            "Look at the new draft and decide again.",
            draft,
        )
    return draft


def changed_meanwhile(svc: Services, draft_id: int, what: str) -> Outcome:
    """The guarded update lost: someone decided first, or the card changed `what` (while …)."""
    current = drafts.get(svc.store.db, draft_id)
    if current is not None and current.status != drafts.PENDING:
        return decided(current)
    return Outcome(Kind.STALE, f"This card changed {what}; look at it again.", current)


def decided(draft: Draft) -> Outcome:
    """Someone got there first: say who, and what became of the card."""
    who = f"<@{draft.decided_by}>" if draft.decided_by else "the scheduler"
    message = {
        drafts.SENT: f"Already sent by {who}.",
        drafts.SENDING: f"{who} is sending this reply right now.",
        drafts.UNKNOWN: f"{who} sent this reply; checking whether it reached Fanvue.",
        drafts.SKIPPED: f"Already skipped by {who}.",
        drafts.FAILED: "Fanvue refused this reply; it cannot be sent.",
        drafts.SUPERSEDED: "The creator already answered this fan in Fanvue.",
    }.get(draft.status, f"This card is {draft.status}.")
    return Outcome(Kind.DECIDED, message, draft)
