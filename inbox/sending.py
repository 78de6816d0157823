"""Send: the draft or a teammate's edit goes out once, only if the fan has not written since the draft."""

from __future__ import annotations

import logging
import time

from fanvue.errors import (
    FanvueError,
    MalformedResponse,
    NotContactableError,
    NotFoundError,
    SendOutcomeUnknown,
)
from fanvue.message_text import text_problem
from inbox import conversation as conv
from inbox.offers import media_client
from inbox.outcome import Kind, Outcome, changed_meanwhile, end_send, load_for_decision, plain
from inbox.reconcile import reconcile
from inbox.redraft import redraft_from_history
from inbox.services import Services
from store import drafts, earnings, offers
from store.db import StoreError
from store.drafts import Draft

logger = logging.getLogger(__name__)

# Longest check before a send goes out: well inside the ten minutes after which a claim counts as stuck.
CHECK_DEADLINE = 120.0
VANISHED = "This chat no longer exists in Fanvue (the fan left or the chat was removed); nothing was sent."
NOT_CLAIMED = (
    "Could not record this send in the app's database ({reason}), so nothing was sent. "
    "Tell whoever runs the app."
)
NOT_FINISHED = (
    "Could not record what became of this send in the app's database ({reason}); the reply may have "
    "gone out. The card is checked against the chat once the database can be written again."
)
INTERRUPTED = "Sending was interrupted by an internal error; checking whether the reply reached Fanvue."


def send(svc: Services, draft_id: int, version: int, actor: str, text: str | None = None) -> Outcome:
    """Send the draft (or the teammate's edit) once, only if the fan has not written since."""
    draft = load_for_decision(svc, draft_id, version, actor, "edit" if text is not None else "send")
    if isinstance(draft, Outcome):
        return draft
    final = (draft.draft_text if text is None else text).strip()
    problem = text_problem(final)
    if problem:
        return Outcome(Kind.INVALID, problem, draft)
    try:
        # The claim is a write: a database that cannot take it stops the send here, before Fanvue.
        if not drafts.claim_for_send(svc.store.db, draft, version, actor, final):
            return changed_meanwhile(svc, draft.id, "while you clicked")
    except StoreError as exc:
        logger.error("Draft %s not sent: the claim could not be recorded: %s", draft.id, exc)
        return Outcome(Kind.FAILED, NOT_CLAIMED.format(reason=exc.reason), draft)
    claimed = _stored(svc, draft.id)
    try:
        outcome = _send_claimed(svc, claimed, actor, edited=final != draft.draft_text.strip())
    except StoreError as exc:
        # Left `sending`: the cycle settles it from the chat once it is stale and the database writable.
        logger.error("Draft %s: what became of the send could not be recorded: %s", draft.id, exc)
        return Outcome(Kind.UNKNOWN, NOT_FINISHED.format(reason=exc.reason), draft)
    except Exception:
        # Whether the reply left is not known: `unknown` lets reconciling look in the chat instead of
        # leaving the card stuck in `sending`, and the error still reaches the app's error handler.
        end_send(svc, claimed, Kind.UNKNOWN, actor=actor, error=INTERRUPTED)
        svc.cards.publish(draft.id)
        raise
    svc.cards.publish(draft.id)
    return outcome


def _send_claimed(svc: Services, draft: Draft, actor: str, *, edited: bool) -> Outcome:
    started = time.monotonic()
    try:
        chat = conv.read_since(svc, draft)
    except NotFoundError as exc:
        return _fail(svc, draft, actor, VANISHED, exc)
    except FanvueError as exc:
        return _release(
            svc, draft, actor, f"Could not check the chat before sending, so nothing was sent: {exc}"
        )
    if chat.creator_answered:
        drafts.supersede(svc.store.db, draft, from_status=drafts.SENDING, actor=actor)
        return Outcome(
            Kind.SUPERSEDED, "The creator already answered this fan in Fanvue, so nothing was sent."
        )
    if chat.fan_wrote:
        fresh = redraft_from_history(svc, draft, chat.history, from_status=drafts.SENDING, actor=actor)
        if fresh is None:
            return _release(svc, draft, actor, f"{draft.fan_name} wrote again; nothing was sent.")
        return Outcome(
            Kind.FAN_WROTE_AGAIN,
            plain(
                f"{draft.fan_name} wrote again since this draft, so nothing was sent. "
                "The card now shows the new message and a new draft."
            ),
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
        return Outcome(Kind.STALE, "This card changed while the chat was checked; nothing was sent.", current)
    return _deliver(svc, draft, actor, edited=edited)


def _deliver(svc: Services, draft: Draft, actor: str, *, edited: bool) -> Outcome:
    """The one call that sends, and the record of what became of it."""
    text = draft.final_text
    if text is None:  # claim_for_send stores it: without it, no text was approved
        return _release(svc, draft, actor, "The approved text was not recorded, so nothing was sent.")
    offer = earnings.offer_for(svc.store.db, draft.id)  # a paid message: its price and media go with the text
    if offer is not None and offer.price_cents:
        refused = _resold(svc, draft, offer.media_uuids)
        if refused:
            return _release(svc, draft, actor, refused)
    try:
        client = svc.inbox_for(draft.creator_uuid).client
        if offer is None:
            message_uuid = client.send_message(draft.fan_uuid, text)
        else:
            message_uuid = client.send_message(
                draft.fan_uuid,
                text,
                price_cents=offer.price_cents,
                media_uuids=offer.media_uuids,
                template_uuid=offer.template_uuid,
            )
    except NotContactableError as exc:
        return _fail(svc, draft, actor, f"Fanvue refused the message: {_reason(exc)}", exc)
    except NotFoundError as exc:
        return _fail(svc, draft, actor, VANISHED, exc)
    except (SendOutcomeUnknown, MalformedResponse) as exc:
        # MalformedResponse here is a 2xx whose body lacks the message's uuid: Fanvue took the message.
        end_send(
            svc, draft, Kind.UNKNOWN, actor=actor, error=str(exc), details={"error": str(exc), "text": text}
        )
        return reconcile(svc, _stored(svc, draft.id), actor=actor)
    except FanvueError as exc:
        return _release(svc, draft, actor, f"Fanvue did not take the message, nothing was sent: {exc}")
    action = "edited-and-sent" if edited else "sent"
    details: dict[str, object] = {"text": text, "message_uuid": message_uuid}
    if offer is not None:
        details["price_cents"] = offer.price_cents
        details["media_uuids"] = list(offer.media_uuids)
        details["items"] = [item.name for item in offers.items_for(svc.store.db, draft.id)]
        details["confirmed_by"] = actor  # Send of a paid message asks first, naming the price and items
    if edited:
        details["draft"] = draft.draft_text
    flags = svc.guard_for(draft).check(text)
    if flags:
        details["flags"] = [flag.rule for flag in flags]  # sent after a teammate confirmed the warning
    sent = end_send(
        svc, draft, Kind.SENT, actor=actor, action=action, message_uuid=message_uuid, details=details
    )
    return Outcome(Kind.SENT, None, sent)


def _resold(svc: Services, draft: Draft, media_uuids: tuple[str, ...]) -> str | None:
    """Why the paid message must not go out: the fan already bought one of its items (asked again now)."""
    try:
        found = media_client(svc, draft).purchased(draft.fan_uuid, media_uuids)
    except FanvueError as exc:
        return f"Could not ask Fanvue whether the fan already bought these items, so nothing was sent: {exc}"
    bought = [uuid for uuid in media_uuids if found.get(uuid)]
    if not bought:
        return None
    names = {item.media_uuid: item.name for item in offers.items_for(svc.store.db, draft.id)}
    listed = ", ".join(names.get(uuid) or uuid for uuid in bought)
    return (
        f"{draft.fan_name} already bought {listed}; a paid message cannot sell it again, so nothing was sent."
    )


def _fail(svc: Services, draft: Draft, actor: str, reason: str, exc: FanvueError) -> Outcome:
    """Fanvue will not take this reply however often it is tried: the card closes with the reason."""
    end_send(
        svc,
        draft,
        Kind.FAILED,
        actor=actor,
        error=reason,
        details={"error": _reason(exc), "text": draft.final_text},
    )
    return Outcome(Kind.FAILED, plain(reason))


def _release(svc: Services, draft: Draft, actor: str, error: str) -> Outcome:
    """Nothing reached the fan: the card goes back to waiting, with the reason shown."""
    released = end_send(svc, draft, Kind.RELEASED, actor=actor, error=error, details={"error": error})
    return Outcome(Kind.RELEASED, plain(error), released)


def _reason(exc: FanvueError) -> str:
    """Fanvue's own words when it gave some, for the card and the teammate."""
    if isinstance(exc.body, dict) and isinstance(exc.body.get("message"), str):
        return exc.body["message"]
    return str(exc)


def _stored(svc: Services, draft_id: int) -> Draft:
    """The draft as it is stored now, mid-send: it was claimed a moment ago and drafts are never deleted."""
    draft = drafts.get(svc.store.db, draft_id)
    if draft is None:
        raise LookupError(f"Draft {draft_id} is gone from the database while it was being sent")
    return draft
