"""What a teammate's click came to, and the checks every button makes before it does anything."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import safe_text
from inbox.services import Services
from store import clock, drafts, takes
from store.drafts import Draft

# The decisions a teammate's take reserves for them; Skip keeps its own rules.
TAKE_RULED = frozenset({"send", "edit", "regenerate", "take"})
HELD = (
    "{who} has this card (took it {ago}); nothing was done. "
    "To decide on it yourself, press *Take over* on the card."
)


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
    TAKEN = "taken"  # the clicker has the card now
    HELD = "held"  # another teammate has the card
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
        drafts.record(svc.store.db, draft, action="denied", actor=actor, details={"attempted": action})
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
    return _take_rule(svc, draft, actor, action)


def _take_rule(svc: Services, draft: Draft, actor: str, action: str) -> Draft | Outcome:
    """A card someone has is theirs to send, edit or regenerate until they let it lapse or it is taken
    over; the taker's own action keeps their take alive."""
    holder = takes.holder(draft, svc.take_minutes)
    if holder == actor:
        takes.touch(svc.store.db, draft.id, actor)
    elif holder is not None and action in TAKE_RULED:
        return Outcome(Kind.HELD, HELD.format(who=f"<@{holder}>", ago=taken_ago(draft)), draft)
    return draft


def taken_ago(draft: Draft) -> str:
    """How long ago the card was taken, in words."""
    if not draft.taken_at:
        return "just now"
    minutes = int((clock.utcnow() - clock.from_iso(draft.taken_at)).total_seconds() // 60)
    return "just now" if minutes < 1 else f"{minutes} min ago"


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


# How a send that was tried ends in the database: the draft's new status, and the audit action unless named.
_SEND_ENDS = {
    Kind.SENT: (drafts.SENT, "sent"),
    Kind.FAILED: (drafts.FAILED, "failed"),
    Kind.RELEASED: (drafts.PENDING, "send-failed"),
    Kind.UNKNOWN: (drafts.UNKNOWN, "unknown"),
}


def end_send(
    svc: Services,
    draft: Draft,
    kind: Kind,
    *,
    actor: str,
    details: dict[str, object] | None = None,
    from_statuses: tuple[str, ...] = (drafts.SENDING,),
    action: str | None = None,
    error: str | None = None,
    message_uuid: str | None = None,
) -> Draft | None:
    """Close a send as `kind` (sent, failed for good, released to wait again) or mark it unknown; the draft
    as stored now."""
    status, default_action = _SEND_ENDS[kind]
    drafts.finish(
        svc.store.db,
        draft,
        to_status=status,
        from_statuses=from_statuses,
        action=action or default_action,
        actor=actor,
        error=error,
        fanvue_message_uuid=message_uuid,
        details=details,
    )
    return drafts.get(svc.store.db, draft.id)
