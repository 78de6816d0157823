"""The poll cycle: every creator's waiting Fanvue chats become drafts, drafts become Slack cards."""

from __future__ import annotations

import logging

from inbox.creator_poll import CycleReport, poll_creator
from inbox.reconcile import reconcile_in_flight
from inbox.services import Services
from inbox.takes import release_lapsed
from store import accounts

__all__ = ["CycleReport", "run_cycle"]

logger = logging.getLogger(__name__)


def run_cycle(svc: Services, *, max_posts: int = 30) -> CycleReport:
    """One pass; safe to run any number of times (one card per fan message)."""
    report = CycleReport()
    if svc.desk is None:
        inbox = svc.single_inbox()
        if inbox.uuid not in svc.claimed:
            # Rows kept before creators were told apart belong to the one creator this login serves.
            accounts.claim_unowned(svc.store.db, inbox.uuid, inbox.handle)
            svc.claimed.add(inbox.uuid)
        poll_creator(svc, inbox, report)
    else:
        svc.desk.poll(svc, report)
    report.reconciled = reconcile_in_flight(svc)
    release_lapsed(svc)
    report.cards = svc.cards.publish_due(max_posts)
    if svc.sla is not None:
        svc.sla.run(svc)  # card ages shown, overdue nudges sent
    logger.info("Cycle done: %s", report.summary())
    return report
