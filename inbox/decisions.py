"""What a teammate's click does: send (after a freshness check), skip, or open an edit."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from drafting.guardrails import Flag
from fanvue.errors import (
    FanvueError,
    MalformedResponse,
    NotContactableError,
    NotFoundError,
    SendOutcomeUnknown,
)
from inbox import conversation as conv
from inbox.reconcile import reconcile
from inbox.redraft import fan_of, new_draft, redraft_from_history, save_redraft
from inbox.services import Services
from store import audit, drafts
from store.db import write
from store.drafts import Draft

logger = logging.getLogger(__name__)

MAX_TEXT = 5000
# Longest check before a send goes out: well inside the ten minutes after which a claim counts as stuck.
CHECK_DEADLINE = 120.0
VANISHED = "This chat no longer exists in Fanvue (the fan left or the chat was removed); nothing was sent."
REGENERATE_TRIES = 3  # a drafter may repeat itself; ask again a couple of times for different wording
WARNED, CONFIRMED = "guardrail-warned", "guardrail-confirmed"


@dataclass(frozen=True)
class Outcome:
    """What happened, and what to tell the teammate who clicked (None: the card says it all)."""

    kind: str
    message: str | None = None
    draft: Draft | None = None


def load_for_decision(svc: Services, draft_id: int, version: int, actor: str, action: str) -> Outcome:
    """Checks shared by every button: the card exists, the clicker may decide, the card is current."""
    draft = drafts.get(svc.store.db, draft_id)
    if draft is None:
        return Outcome("missing", "This card is not in the database any more; nothing was done.")
    if not svc.may_decide(actor):
        audit.record(
            svc.store.db,
            action="denied",
            actor=actor,
            draft_id=draft.id,
            fan_uuid=draft.fan_uuid,
            fan_handle=draft.fan_handle,
            details={"attempted": action},
        )
        return Outcome("denied", "Only the team's approvers can decide on replies; nothing was done.", draft)
    if draft.status != drafts.PENDING:
        return Outcome("decided", _already(draft), draft)
    if draft.version != version:
        return Outcome(
            "stale",
            "This card was updated since you saw it (the fan wrote again). "
            "Look at the new draft and decide again.",
            draft,
        )
    return Outcome("ok", None, draft)


def send(svc: Services, draft_id: int, version: int, actor: str, text: str | None = None) -> Outcome:
    """Send the draft (or the teammate's edit) once, only if the fan has not written since."""
    checked = load_for_decision(svc, draft_id, version, actor, "edit" if text is not None else "send")
    if checked.kind != "ok":
        return checked
    draft = checked.draft
    final = (draft.draft_text if text is None else text).strip()
    problem = text_problem(final)
    if problem:
        return Outcome("invalid", problem, draft)
    if not drafts.claim_for_send(svc.store.db, draft, version, actor, final):
        current = drafts.get(svc.store.db, draft.id)
        if current.status != drafts.PENDING:
            return Outcome("decided", _already(current), current)
        return Outcome("stale", "This card changed while you clicked; look at it again.", current)
    claimed = drafts.get(svc.store.db, draft.id)
    try:
        outcome = _send_claimed(svc, claimed, actor, edited=final != draft.draft_text.strip())
    except Exception:
        # Whether the reply left is not known: `unknown` lets reconciling look in the chat instead of
        # leaving the card stuck in `sending`, and the error still reaches the app's error handler.
        drafts.finish(
            svc.store.db,
            claimed,
            to_status=drafts.UNKNOWN,
            from_statuses=(drafts.SENDING,),
            action="unknown",
            actor=actor,
            error="Sending was interrupted by an internal error; checking whether the reply reached Fanvue.",
        )
        svc.cards.publish(draft.id)
        raise
    svc.cards.publish(draft.id)
    return outcome


def skip(svc: Services, draft_id: int, version: int, actor: str) -> Outcome:
    """Leave the fan's message for the creator: no reply, the chat stays unread in Fanvue."""
    checked = load_for_decision(svc, draft_id, version, actor, "skip")
    if checked.kind != "ok":
        return checked
    if not drafts.skip(svc.store.db, checked.draft, version, actor):
        current = drafts.get(svc.store.db, draft_id)
        return Outcome("decided", _already(current), current)
    svc.cards.publish(draft_id)
    return Outcome("skipped", None, drafts.get(svc.store.db, draft_id))


def regenerate(svc: Services, draft_id: int, version: int, actor: str) -> Outcome:
    """Draft the reply again from the chat as it is now: a new version on the same card."""
    checked = load_for_decision(svc, draft_id, version, actor, "regenerate")
    if checked.kind != "ok":
        return checked
    draft = checked.draft
    try:
        creator = svc.creator.get()
        history = svc.fanvue.messages(draft.fan_uuid, size=svc.history_size)
    except FanvueError as exc:
        return Outcome(
            "failed", f"Could not read the chat to draft again, so the card is unchanged: {exc}", draft
        )
    newer = conv.newer_than(history, draft.fan_message_uuid, draft.fan_message_at)
    if conv.creator_answered(newer, creator.uuid):
        drafts.finish(
            svc.store.db,
            draft,
            to_status=drafts.SUPERSEDED,
            from_statuses=(drafts.PENDING,),
            action="superseded",
            actor=actor,
            details={"reason": "the creator answered in Fanvue"},
        )
        svc.cards.publish(draft.id)
        return Outcome("superseded", "The creator already answered this fan in Fanvue; no new draft needed.")
    fresh = None
    for attempt in range(REGENERATE_TRIES):
        fresh = new_draft(svc, fan_of(draft), history, draft.unread_count, variant=draft.version + attempt)
        if fresh is None or fresh.draft_text.strip() != draft.draft_text.strip():
            break
    if fresh is None:
        return Outcome(
            "failed", "The chat has no message from the fan to answer; the card is unchanged.", draft
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
        current = drafts.get(svc.store.db, draft.id)
        if current.status != drafts.PENDING:
            return Outcome("decided", _already(current), current)
        return Outcome(
            "stale", "This card changed while the new draft was written; look at it again.", current
        )
    svc.cards.publish(draft.id)
    return Outcome("regenerated", None, saved)


def flagged_edit(svc: Services, draft_id: int, version: int, actor: str, text: str) -> list[Flag]:
    """The rules an edited text breaks that this teammate has not yet confirmed.

    The first submission of a flagged text is recorded as a warning and its flags returned (the modal shows
    them); submitting the very same text again is recorded as the teammate's confirmation and passes.
    """
    flags = svc.guard.check(text.strip())
    if not flags:
        return []
    draft = drafts.get(svc.store.db, draft_id)
    if draft is None:
        return flags
    seen = _guardrail_rows(svc, draft_id, version, actor, text)
    details = {"text": text.strip(), "version": version, "rules": [f.rule for f in flags]}
    action = CONFIRMED if WARNED in seen else WARNED
    with write(svc.store.db):
        audit.record(
            svc.store.db,
            action=action,
            actor=actor,
            draft_id=draft.id,
            fan_uuid=draft.fan_uuid,
            fan_handle=draft.fan_handle,
            details=details,
        )
    return [] if action == CONFIRMED else flags


def edit_confirmed(svc: Services, draft_id: int, version: int, actor: str, text: str) -> bool:
    """True when the text breaks no rule, or the teammate confirmed it by submitting it twice."""
    return not svc.guard.check(text.strip()) or CONFIRMED in _guardrail_rows(
        svc, draft_id, version, actor, text
    )


def _guardrail_rows(svc: Services, draft_id: int, version: int, actor: str, text: str) -> set[str]:
    return {
        row["action"]
        for row in audit.for_draft(svc.store.db, draft_id)
        if row["action"] in (WARNED, CONFIRMED)
        and row["actor"] == actor
        and row["details"].get("version") == version
        and row["details"].get("text") == text.strip()
    }


def text_problem(text: str) -> str | None:
    if not text:
        return "The reply is empty. Write something to send, or Skip the card."
    if len(text) > MAX_TEXT:
        return f"The reply is {len(text)} characters; Fanvue takes at most {MAX_TEXT}."
    return None


def _send_claimed(svc: Services, draft: Draft, actor: str, *, edited: bool) -> Outcome:
    started = time.monotonic()
    try:
        creator = svc.creator.get()
        history = svc.fanvue.messages(draft.fan_uuid, size=svc.history_size)
    except NotFoundError as exc:
        return _fail(svc, draft, actor, VANISHED, exc)
    except FanvueError as exc:
        return _release(
            svc, draft, actor, f"Could not check the chat before sending, so nothing was sent: {exc}"
        )
    newer = conv.newer_than(history, draft.fan_message_uuid, draft.fan_message_at)
    if conv.creator_answered(newer, creator.uuid):
        drafts.finish(
            svc.store.db,
            draft,
            to_status=drafts.SUPERSEDED,
            from_statuses=(drafts.SENDING,),
            action="superseded",
            actor=actor,
            details={"reason": "the creator answered in Fanvue"},
        )
        return Outcome("superseded", "The creator already answered this fan in Fanvue, so nothing was sent.")
    if conv.fan_wrote(newer, creator.uuid):
        fresh = redraft_from_history(svc, draft, history, from_status=drafts.SENDING, actor=actor)
        name = draft.fan_name
        if fresh is None:
            return _release(svc, draft, actor, f"{name} wrote again; nothing was sent.")
        return Outcome(
            "fan_wrote_again",
            f"{name} wrote again since this draft, so nothing was sent. "
            "The card now shows the new message and a new draft.",
            fresh,
        )
    if time.monotonic() - started > CHECK_DEADLINE:
        # Fanvue was slow (429s, retries): what the teammate saw may be old, and a claim held this long
        # could be taken for a crashed one.
        return _release(
            svc,
            draft,
            actor,
            "Fanvue took too long to answer the check before sending, so nothing "
            "was sent. Look at the card again and decide.",
        )
    current = drafts.get(svc.store.db, draft.id)
    if current is None or current.status != drafts.SENDING or current.version != draft.version:
        logger.warning("Draft %s changed hands while it was being checked; not sending", draft.id)
        return Outcome("stale", "This card changed while the chat was checked; nothing was sent.", current)
    text = draft.final_text
    try:
        message_uuid = svc.fanvue.send_message(draft.fan_uuid, text)
    except NotContactableError as exc:
        return _fail(svc, draft, actor, f"Fanvue refused the message: {_reason(exc)}", exc)
    except NotFoundError as exc:
        return _fail(svc, draft, actor, VANISHED, exc)
    except (SendOutcomeUnknown, MalformedResponse) as exc:
        # MalformedResponse here is a 2xx whose body lacks the message's uuid: Fanvue took the message.
        drafts.finish(
            svc.store.db,
            draft,
            to_status=drafts.UNKNOWN,
            from_statuses=(drafts.SENDING,),
            action="unknown",
            actor=actor,
            error=str(exc),
            details={"error": str(exc), "text": text},
        )
        return reconcile(svc, drafts.get(svc.store.db, draft.id), actor=actor)
    except FanvueError as exc:
        return _release(svc, draft, actor, f"Fanvue did not take the message, nothing was sent: {exc}")
    action = "edited-and-sent" if edited else "sent"
    details = {"text": text, "message_uuid": message_uuid}
    if edited:
        details["draft"] = draft.draft_text
    flags = svc.guard.check(text)
    if flags:
        details["flags"] = [flag.rule for flag in flags]  # sent after a teammate confirmed the warning
    drafts.finish(
        svc.store.db,
        draft,
        to_status=drafts.SENT,
        from_statuses=(drafts.SENDING,),
        action=action,
        actor=actor,
        fanvue_message_uuid=message_uuid,
        details=details,
    )
    return Outcome("sent", None, drafts.get(svc.store.db, draft.id))


def _fail(svc: Services, draft: Draft, actor: str, reason: str, exc: FanvueError) -> Outcome:
    """Fanvue will not take this reply however often it is tried: the card closes with the reason."""
    drafts.finish(
        svc.store.db,
        draft,
        to_status=drafts.FAILED,
        from_statuses=(drafts.SENDING,),
        action="failed",
        actor=actor,
        error=reason,
        details={"error": _reason(exc), "text": draft.final_text},
    )
    return Outcome("failed", reason)


def _release(svc: Services, draft: Draft, actor: str, error: str) -> Outcome:
    """Nothing reached the fan: the card goes back to waiting, with the reason shown."""
    drafts.finish(
        svc.store.db,
        draft,
        to_status=drafts.PENDING,
        from_statuses=(drafts.SENDING,),
        action="send-failed",
        actor=actor,
        error=error,
        details={"error": error},
    )
    return Outcome("released", error, drafts.get(svc.store.db, draft.id))


def _reason(exc: FanvueError) -> str:
    """Fanvue's own words when it gave some, for the card and the teammate."""
    if isinstance(exc.body, dict) and isinstance(exc.body.get("message"), str):
        return exc.body["message"]
    return str(exc)


def _already(draft: Draft) -> str:
    who = f"<@{draft.decided_by}>" if draft.decided_by else "the scheduler"
    return {
        drafts.SENT: f"Already sent by {who}.",
        drafts.SENDING: f"{who} is sending this reply right now.",
        drafts.UNKNOWN: f"{who} sent this reply; checking whether it reached Fanvue.",
        drafts.SKIPPED: f"Already skipped by {who}.",
        drafts.FAILED: "Fanvue refused this reply; it cannot be sent.",
        drafts.SUPERSEDED: "The creator already answered this fan in Fanvue.",
    }.get(draft.status, f"This card is {draft.status}.")
