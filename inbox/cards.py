"""Keeping each Slack card in step with its draft; Slack being away delays a card, never loses it."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

from store import drafts
from store.db import Store
from store.drafts import Draft

logger = logging.getLogger(__name__)

RESYNC_TRIES = 3


class CardUnavailable(Exception):
    """Slack did not take the card now; it stays due and is tried again."""


class CardRejected(CardUnavailable):
    """Slack refused this card itself (its content, not the connection); other cards can still go."""


class CardsPort(Protocol):
    def post(self, draft: Draft) -> tuple[str, str]:
        """Post a new card; returns (channel, ts)."""

    def update(self, draft: Draft) -> None:
        """Replace an existing card with the draft's current state."""

    def notify(self, draft: Draft, user: str, text: str) -> None:
        """Tell one teammate something only they see, beside the card."""


@dataclass
class PublishReport:
    posted: int = 0
    updated: int = 0
    deferred: int = 0
    failed: int = 0


class CardPublisher:
    """Renders drafts to Slack one at a time per draft, so two threads never race an older card in."""

    def __init__(self, store: Store, port: CardsPort):
        self.store = store
        self.port = port
        self._locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def _lock(self, draft_id: int) -> threading.Lock:
        with self._guard:
            return self._locks[draft_id]

    def publish(self, draft_id: int) -> bool:
        """Bring one card up to date; False when Slack could not be reached (it stays due).

        Raises CardRejected when Slack refuses this card's content.
        """
        with self._lock(draft_id):
            force = False
            for _ in range(RESYNC_TRIES):
                draft = drafts.get(self.store.db, draft_id)
                if draft is None or (draft.card_rev <= draft.card_synced_rev and not force):
                    return True
                if draft.ts is None and draft.status != drafts.PENDING:
                    return True  # decided before it was ever shown: nothing for the team to see
                try:
                    if draft.ts is None:
                        channel, ts = self.port.post(draft)
                    else:
                        self.port.update(draft)
                        channel, ts = draft.channel, draft.ts
                except CardRejected:
                    logger.exception("Slack refused the card for draft %s; it stays due", draft_id)
                    raise
                except CardUnavailable as exc:
                    logger.warning("Card for draft %s not published yet: %s", draft_id, exc)
                    return False
                drafts.mark_card(self.store.db, draft, channel=channel, ts=ts, rev=draft.card_rev)
                # Changed meanwhile (by another process, whose own update may have reached Slack before
                # ours): the database counts the card as synced, yet Slack shows our older rendering.
                now = drafts.get(self.store.db, draft_id)
                force = now is not None and now.card_rev > draft.card_rev
                if not force:
                    return True
            return True

    def publish_due(self, max_posts: int) -> PublishReport:
        """Updates first, then new cards oldest-waiting first, at most `max_posts` new ones."""
        report = PublishReport()
        for draft in drafts.cards_to_publish(self.store.db):
            is_post = draft.ts is None
            if is_post and report.posted >= max_posts:
                report.deferred += 1
                continue
            try:
                published = self.publish(draft.id)
            except CardRejected:
                report.failed += 1
                continue
            if not published:
                report.failed += 1
                if is_post:
                    break  # Slack is away: the rest wait for the next cycle
                continue
            if is_post:
                report.posted += 1
            else:
                report.updated += 1
        return report

    def notify(self, draft: Draft, user: str, text: str) -> None:
        try:
            self.port.notify(draft, user, text)
        except CardUnavailable as exc:
            logger.warning("Could not tell %s about draft %s: %s", user, draft.id, exc)
