"""Keeping each Slack card in step with its draft; Slack being away delays a card, never loses it."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from store import drafts
from store.db import Store
from store.drafts import Draft
from store.fan_context import DEFAULT_PRIORITY

logger = logging.getLogger(__name__)

RESYNC_TRIES = 3
CHANNEL_WORKERS = 8  # channels whose cards are published at once


class CardUnavailable(Exception):
    """Slack did not take the card now; it stays due and is tried again."""


class CardRejected(CardUnavailable):
    """Slack refused this card itself (its content, not the connection); other cards can still go."""


class CardGone(CardRejected):
    """The card's Slack message cannot be updated any more (deleted, or too old to edit)."""


PUBLISHED, UNREACHABLE, REJECTED = "published", "unreachable", "rejected"


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

    def __init__(
        self,
        store: Store,
        port: CardsPort,
        *,
        channel_of: Callable[[Draft], str] | None = None,
        priority: str = DEFAULT_PRIORITY,
    ):
        self.store = store
        self.port = port
        # CARD_PRIORITY: which new cards go first when more wait than a cycle may post.
        self.priority = priority
        # Where each card goes; Slack paces posts per channel, so channels are published side by side.
        self.channel_of = channel_of
        self._locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def _lock(self, draft_id: int) -> threading.Lock:
        with self._guard:
            return self._locks[draft_id]

    def publish(self, draft_id: int) -> bool:
        """Bring one card up to date; False when it did not reach Slack (it stays due and is tried again)."""
        return self._publish(draft_id) == PUBLISHED

    def _publish(self, draft_id: int) -> str:
        with self._lock(draft_id):
            force = False
            for _ in range(RESYNC_TRIES):
                draft = drafts.get(self.store.db, draft_id)
                if draft is None or (draft.card_rev <= draft.card_synced_rev and not force):
                    return PUBLISHED
                if draft.ts is None and draft.status != drafts.PENDING:
                    return PUBLISHED  # decided before it was ever shown: nothing for the team to see
                try:
                    if draft.ts is None or draft.channel is None:  # both are set, and cleared, together
                        channel, ts = self.port.post(draft)
                    else:
                        self.port.update(draft)
                        channel, ts = draft.channel, draft.ts
                except CardGone as exc:
                    if draft.status != drafts.PENDING:
                        logger.warning(
                            "Card for draft %s is gone from Slack (%s); its outcome is in the audit log",
                            draft_id,
                            exc,
                        )
                        drafts.mark_synced(self.store.db, draft.id, draft.card_rev)
                        return PUBLISHED
                    logger.warning(
                        "Card for draft %s is gone from Slack (%s); posting it again", draft_id, exc
                    )
                    drafts.forget_card(self.store.db, draft.id)
                    force = True
                    continue
                except CardRejected:
                    logger.exception("Slack refused the card for draft %s; it stays due", draft_id)
                    return REJECTED
                except CardUnavailable as exc:
                    logger.warning("Card for draft %s not published yet: %s", draft_id, exc)
                    return UNREACHABLE
                drafts.mark_card(self.store.db, draft, channel=channel, ts=ts, rev=draft.card_rev)
                # Changed meanwhile (by another process, whose own update may have reached Slack before
                # ours): the database counts the card as synced, yet Slack shows our older rendering.
                now = drafts.get(self.store.db, draft_id)
                force = now is not None and now.card_rev > draft.card_rev
                if not force:
                    return PUBLISHED
            return PUBLISHED

    def publish_due(self, max_posts: int) -> PublishReport:
        """Updates first, then new cards oldest-waiting first (top spenders and subscribers before them with
        CARD_PRIORITY=value), at most `max_posts` new ones per channel; each channel on its own thread when
        cards go to several."""
        due = drafts.cards_to_publish(self.store.db, self.priority)
        if self.channel_of is None:
            return self._publish_channel(due, max_posts)
        by_channel: dict[str, list[Draft]] = {}
        for draft in due:
            by_channel.setdefault(self.channel_of(draft), []).append(draft)
        if len(by_channel) <= 1:
            return self._publish_channel(due, max_posts)
        report = PublishReport()
        with ThreadPoolExecutor(max_workers=min(CHANNEL_WORKERS, len(by_channel))) as pool:
            parts = [pool.submit(self._publish_channel, cards, max_posts) for cards in by_channel.values()]
            for part in parts:
                done = part.result()
                report.posted += done.posted
                report.updated += done.updated
                report.deferred += done.deferred
                report.failed += done.failed
        return report

    def _publish_channel(self, due: list[Draft], max_posts: int) -> PublishReport:
        report = PublishReport()
        for draft in due:
            is_post = draft.ts is None
            if is_post and report.posted >= max_posts:
                report.deferred += 1
                continue
            outcome = self._publish(draft.id)
            if outcome == REJECTED:
                report.failed += 1
                continue
            if outcome == UNREACHABLE:
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
