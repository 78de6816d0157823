"""Fan context for the cards: read from Fanvue in bulk for the fans whose cached context is stale."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from fanvue.errors import FanvueError, MissingScopeError
from fanvue.insights import LASTING_ERRORS, MAX_BATCH_INSIGHTS, ChatStatus, FanInsights, InsightsClient
from store import fan_context, notes
from store.drafts import Draft
from store.fan_context import FanCard, FanContext

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh did: how many fans were stale, how many were stored, and what stood in the way."""

    stale: int = 0
    stored: int = 0
    # Set when Fanvue refused for lack of scopes: one sentence for the team, the same every time.
    missing_scope: str | None = None
    # Set when Fanvue was down, slow or answered oddly: context is filled in on a later refresh.
    failed: str | None = None


def refresh_context(
    db: sqlite_utils.Database,
    client: InsightsClient,
    creator_uuid: str,
    fan_uuids: Sequence[str],
    ttl: timedelta,
    now: datetime,
) -> RefreshReport:
    """Read the stale fans' context (insights, then online status) in bulk and store it.

    At most ceil(N/100) insights and ceil(N/100) status requests for N stale fans; none when all are fresh.
    `client` must hold `creator_uuid`'s own login: insights are always the token holder's fans. Never raises
    for Fanvue being down, slow or refusing: it logs, keeps the batches stored before the failure, says so in
    the report, and the next refresh tries again. A fan whose insights failed for a passing reason is not
    stored; a fan Fanvue says is not the creator's is stored as unavailable, so it is not asked for again
    until `ttl` has passed.
    """
    stale = fan_context.stale_fans(db, creator_uuid, fan_uuids, ttl, now)
    stored = 0
    for start in range(0, len(stale), MAX_BATCH_INSIGHTS):
        # Each batch is stored as soon as it is read: a failure later on keeps what came before it.
        chunk = stale[start : start + MAX_BATCH_INSIGHTS]
        try:
            read = client.fan_insights(chunk)
        except MissingScopeError as exc:
            logger.warning("Fan context is not available: %s", exc.message)
            return RefreshReport(stale=len(stale), stored=stored, missing_scope=exc.message)
        except FanvueError as exc:
            logger.warning("Fan context of %d fans not read this time: %s", len(stale) - start, exc.message)
            return RefreshReport(stale=len(stale), stored=stored, failed=exc.message)
        known = [uuid for uuid in chunk if uuid in read.insights or read.errors.get(uuid) in LASTING_ERRORS]
        try:
            statuses = client.online_statuses([uuid for uuid in known if uuid in read.insights])
        except FanvueError as exc:
            # Nothing of this batch is stored: presence would stay unknown until the context is read again.
            logger.warning("Online status of %d fans not read this time: %s", len(stale) - start, exc.message)
            return RefreshReport(stale=len(stale), stored=stored, failed=exc.message)
        contexts = [
            _context(
                creator_uuid, uuid, now, read.insights.get(uuid), read.errors.get(uuid), statuses.get(uuid)
            )
            for uuid in known
        ]
        changed = [c.fan_uuid for c in contexts if _shown_differently(db, c)]
        stored += fan_context.save(db, contexts)
        # Cards already in Slack show the context they were posted with: those whose fan's changed are shown
        # again (a card posted while Fanvue was slow or down gets its context this way).
        fan_context.touch_cards(db, creator_uuid, changed)
    return RefreshReport(stale=len(stale), stored=stored)


def _shown_differently(db: sqlite_utils.Database, fresh: FanContext) -> bool:
    before = fan_context.load(db, fresh.creator_uuid, fresh.fan_uuid)
    return before is None or dataclasses.replace(before, fetched_at=fresh.fetched_at) != fresh


def context_for(db: sqlite_utils.Database, creator_uuid: str, fan_uuid: str) -> FanContext | None:
    """The fan's context as last read for this creator (however old), or None when never read."""
    return fan_context.load(db, creator_uuid, fan_uuid)


def _context(
    creator_uuid: str,
    fan_uuid: str,
    now: datetime,
    insights: FanInsights | None,
    error: str | None,
    status: ChatStatus | None,
) -> FanContext:
    online = None if status is None else status.online
    last_seen_at = None if status is None else status.last_seen_at
    if insights is None:
        return FanContext(
            creator_uuid, fan_uuid, now, unavailable=str(error), online=online, last_seen_at=last_seen_at
        )
    return FanContext(
        creator_uuid,
        fan_uuid,
        now,
        status=insights.status,
        total_spend_cents=insights.total_spend_cents,
        biggest_payment_cents=insights.biggest_payment_cents,
        last_purchase_at=insights.last_purchase_at,
        subscribed_at=insights.subscribed_at,
        renews_at=insights.renews_at,
        auto_renew=insights.auto_renew,
        online=online,
        last_seen_at=last_seen_at,
    )


def fan_card(db: sqlite_utils.Database, draft: Draft) -> FanCard:
    """What the draft's card shows about its fan: the creator's cached context and newest team notes."""
    context = fan_context.load(db, draft.creator_uuid, draft.fan_uuid)
    return FanCard(
        context=context,
        is_top_spender=draft.is_top_spender,
        notes=notes.for_fan(db, draft.creator_uuid, draft.fan_uuid, notes.SHOWN_ON_CARD),
        no_insights=context is None and fan_context.insights_unavailable(db, draft.creator_uuid),
    )


def drafting_facts(
    db: sqlite_utils.Database, creator_uuid: str, fan_uuid: str, is_top_spender: bool
) -> tuple[str, ...]:
    """What the drafter is told about the fan, one fact a line: Fanvue's context and the team's newest notes.
    Text from Fanvue or a teammate is kept as it is; the prompt quotes it as data."""
    facts = ["The fan is one of the creator's top spenders."] if is_top_spender else []
    ctx = fan_context.load(db, creator_uuid, fan_uuid)
    if ctx is not None and ctx.has_insights:
        facts.append(f"Fanvue status: {ctx.status}")
        if ctx.renews_at is not None:
            renew = "on" if ctx.auto_renew else "off"
            facts.append(f"Subscription renews on {ctx.renews_at:%Y-%m-%d} (auto-renew {renew})")
        total, biggest = ctx.total_spend_cents or 0, ctx.biggest_payment_cents or 0
        facts.append(f"Spent ${total / 100:,.2f} in total; biggest single payment ${biggest / 100:,.2f}")
        if ctx.last_purchase_at is not None:
            facts.append(f"Last purchase on {ctx.last_purchase_at:%Y-%m-%d}")
    facts += [
        f"Team note: {note.text}" for note in notes.for_fan(db, creator_uuid, fan_uuid, notes.SHOWN_ON_CARD)
    ]
    return tuple(facts)
