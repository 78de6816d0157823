"""Taking cards: Take, Take over, Edit that takes, Take next, and freeing takes nobody acts on."""

from __future__ import annotations

import logging

from inbox import decisions
from inbox.outcome import Kind, Outcome, changed_meanwhile, load_for_decision
from inbox.services import Services
from store import takes
from store.drafts import Draft

logger = logging.getLogger(__name__)

NONE_FREE = "No card is waiting for someone to take it. 🎉"


def take(svc: Services, draft_id: int, version: int, actor: str) -> Outcome:
    """I'll take it: the card is the clicker's until they decide, let it lapse or someone takes it over."""
    draft = load_for_decision(svc, draft_id, version, actor, "take")
    if isinstance(draft, Outcome):
        return draft
    if takes.holder(draft, svc.take_minutes) == actor:
        return Outcome(Kind.TAKEN, "You already have this card.", draft)
    if not takes.take(svc.store.db, draft, version, actor, svc.take_minutes):
        return changed_meanwhile(svc, draft_id, "while you clicked")
    svc.cards.publish(draft_id)
    return Outcome(Kind.TAKEN, None, draft)


def take_over(svc: Services, draft_id: int, version: int, actor: str) -> Outcome:
    """The clicker confirmed taking the card from whoever has it; both names go in the audit log."""
    draft = load_for_decision(svc, draft_id, version, actor, "take-over")
    if isinstance(draft, Outcome):
        return draft
    holder = takes.holder(draft, svc.take_minutes)
    if holder is None:
        return take(svc, draft_id, version, actor)
    if holder == actor:
        return Outcome(Kind.TAKEN, "You already have this card.", draft)
    if not takes.take_over(svc.store.db, draft, version, actor, holder):
        return changed_meanwhile(svc, draft_id, "hands while you clicked")
    svc.cards.publish(draft_id)
    return Outcome(Kind.TAKEN, f"You took this card over from <@{holder}>.", draft)


def start_edit(svc: Services, draft_id: int, version: int, actor: str) -> Outcome:
    """Edit opens the editor as before; on a card nobody has, opening it takes the card too."""
    outcome = decisions.start_edit(svc, draft_id, version, actor)
    draft = outcome.draft
    if outcome.kind is Kind.EDITING and draft is not None and takes.holder(draft, svc.take_minutes) is None:
        if takes.take(svc.store.db, draft, version, actor, svc.take_minutes):
            svc.cards.publish(draft_id)
    return outcome


def take_next(svc: Services, actor: str) -> Outcome:
    """The most urgent card nobody has, taken for `actor` (never the same card for two teammates)."""
    draft = takes.take_next(
        svc.store.db, actor, svc.take_minutes, lambda d: svc.may_decide(actor, d.creator_handle)
    )
    if draft is None:
        return Outcome(Kind.MISSING, NONE_FREE)
    svc.cards.publish(draft.id)
    return Outcome(Kind.TAKEN, None, draft)


def mine(svc: Services, actor: str) -> list[Draft]:
    """The cards `actor` has now."""
    return takes.held_by(svc.store.db, actor, svc.take_minutes)


def release_lapsed(svc: Services) -> int:
    """Free the cards whose taker did nothing for TAKE_MINUTES (the cycle runs this); their cards say so."""
    released = takes.release_lapsed(svc.store.db, svc.take_minutes)
    for draft_id in released:
        svc.cards.publish(draft_id)
    if released:
        logger.info("Freed %d taken card(s) nobody acted on for %d min", len(released), svc.take_minutes)
    return len(released)
