"""What a teammate's click does: send (after a freshness check), skip, regenerate, or open an edit."""

from __future__ import annotations

from drafting.guardrails import Flag
from fanvue.errors import FanvueError
from inbox import conversation as conv
from inbox.outcome import Kind, Outcome, changed_meanwhile, load_for_decision, plain
from inbox.redraft import fan_of, new_draft, save_redraft
from inbox.sending import send
from inbox.services import Services
from store import audit, drafts
from store.db import write

__all__ = ["edit_confirmed", "flagged_edit", "load_for_decision", "regenerate", "send", "skip", "start_edit"]

REGENERATE_TRIES = 3  # a drafter may repeat itself; ask again a couple of times for different wording
WARNED, CONFIRMED = "guardrail-warned", "guardrail-confirmed"


def skip(svc: Services, draft_id: int, version: int, actor: str) -> Outcome:
    """Leave the fan's message for the creator: no reply, the chat stays unread in Fanvue."""
    draft = load_for_decision(svc, draft_id, version, actor, "skip")
    if isinstance(draft, Outcome):
        return draft
    if not drafts.skip(svc.store.db, draft, version, actor):
        return changed_meanwhile(svc, draft_id, "while you clicked")
    svc.cards.publish(draft_id)
    return Outcome(Kind.SKIPPED, None, drafts.get(svc.store.db, draft_id))


def start_edit(svc: Services, draft_id: int, version: int, actor: str) -> Outcome:
    """Edit opens the editor on the card's draft, if the clicker may still decide on it."""
    draft = load_for_decision(svc, draft_id, version, actor, "edit")
    return draft if isinstance(draft, Outcome) else Outcome(Kind.EDITING, None, draft)


def regenerate(svc: Services, draft_id: int, version: int, actor: str) -> Outcome:
    """Draft the reply again from the chat as it is now: a new version on the same card."""
    draft = load_for_decision(svc, draft_id, version, actor, "regenerate")
    if isinstance(draft, Outcome):
        return draft
    try:
        chat = conv.read_since(svc, draft)
    except FanvueError as exc:
        return Outcome(
            Kind.FAILED,
            plain(f"Could not read the chat to draft again, so the card is unchanged: {exc}"),
            draft,
        )
    if chat.creator_answered:
        drafts.supersede(svc.store.db, draft, from_status=drafts.PENDING, actor=actor)
        svc.cards.publish(draft.id)
        return Outcome(
            Kind.SUPERSEDED, "The creator already answered this fan in Fanvue; no new draft needed."
        )
    fresh = None
    for attempt in range(REGENERATE_TRIES):
        fresh = new_draft(
            svc,
            fan_of(draft),
            chat.history,
            draft.unread_count,
            inbox=svc.inbox_for(draft.creator_uuid),
            variant=draft.version + attempt,
        )
        if fresh is None or fresh.draft_text.strip() != draft.draft_text.strip():
            break
    if fresh is None:
        return Outcome(
            Kind.FAILED, "The chat has no message from the fan to answer; the card is unchanged.", draft
        )
    saved = save_redraft(
        svc,
        draft,
        fresh,
        from_status=drafts.PENDING,
        actor=actor,
        action="regenerated",
        reason="a teammate asked for another draft",
    )
    if saved is None:
        return changed_meanwhile(svc, draft.id, "while the new draft was written")
    svc.cards.publish(draft.id)
    return Outcome(Kind.REGENERATED, None, saved)


def flagged_edit(svc: Services, draft_id: int, version: int, actor: str, text: str) -> list[Flag]:
    """The rules an edited text breaks that this teammate has not yet confirmed.

    The first submission of a flagged text is recorded as a warning and its flags returned (the modal shows
    them); submitting the very same text again is recorded as the teammate's confirmation and passes.
    """
    draft = drafts.get(svc.store.db, draft_id)
    flags = svc.guard_for(draft).check(text.strip())
    if not flags or draft is None:
        return flags
    seen = _guardrail_rows(svc, draft_id, version, actor, text)
    details = {"text": text.strip(), "version": version, "rules": [f.rule for f in flags]}
    action = CONFIRMED if WARNED in seen else WARNED
    with write(svc.store.db):
        drafts.record(svc.store.db, draft, action=action, actor=actor, details=details)
    return [] if action == CONFIRMED else flags


def edit_confirmed(svc: Services, draft_id: int, version: int, actor: str, text: str) -> bool:
    """True when the text breaks no rule, or the teammate confirmed it by submitting it twice."""
    guard = svc.guard_for(drafts.get(svc.store.db, draft_id))
    return not guard.check(text.strip()) or CONFIRMED in _guardrail_rows(svc, draft_id, version, actor, text)


def _guardrail_rows(svc: Services, draft_id: int, version: int, actor: str, text: str) -> set[str]:
    return {
        row["action"]
        for row in audit.for_draft(svc.store.db, draft_id)
        if row["action"] in (WARNED, CONFIRMED)
        and row["actor"] == actor
        and row["details"].get("version") == version
        and row["details"].get("text") == text.strip()
    }
