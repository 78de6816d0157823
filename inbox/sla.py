"""SLA clocks on waiting cards: their state (on time, due soon, overdue) and the nudges when overdue."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from store import clock, takes
from store import sla as marks
from store.drafts import Draft
from store.sla import DEFAULT_SLA_MINUTES

logger = logging.getLogger(__name__)

DUE_SOON = 0.8  # of the SLA: the card turns orange
ON_TIME, SOON, OVERDUE = "on-time", "due-soon", "overdue"
LOUDER = 2  # times the SLA: the second nudge, also shown in the channel
BATCH_OVER = 3  # more nudges than this in one channel in one cycle: one message lists them


def sla_state(waiting_since: datetime, now: datetime, minutes: int) -> str:
    """On time, due soon (from 80% of the SLA) or overdue, for a fan waiting since `waiting_since`."""
    age = now - waiting_since
    limit = timedelta(minutes=minutes)
    if age >= limit:
        return OVERDUE
    return SOON if age >= limit * DUE_SOON else ON_TIME


def nudge_level(waiting_since: datetime, now: datetime, minutes: int) -> int:
    """0 before the SLA, 1 from it, 2 from twice it."""
    age = now - waiting_since
    limit = timedelta(minutes=minutes)
    return 2 if age >= limit * LOUDER else 1 if age >= limit else 0


@dataclass(frozen=True)
class QuietHours:
    """A span of local time (it may cross midnight) in which nudges wait."""

    start: time
    end: time
    tz: ZoneInfo

    def holds(self, now: datetime) -> bool:
        local = now.astimezone(self.tz).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_quiet_hours(text: str, tz: str | None) -> QuietHours:
    """`23:00-07:00` in `tz` (UTC without one); ValueError with what is wrong."""
    parts = text.replace(" ", "").split("-")
    if len(parts) != 2:
        raise ValueError(f"should be two times like 23:00-07:00, got {text!r}")
    try:
        start, end = (time.fromisoformat(p) for p in parts)
    except ValueError:
        raise ValueError(f"should be two times like 23:00-07:00 (HH:MM), got {text!r}") from None
    if start == end:
        raise ValueError(f"starts and ends at the same time ({text!r})")
    return QuietHours(start, end, ZoneInfo(tz or "UTC"))


class NudgePort(Protocol):
    def nudge(self, channel: str, draft: Draft, level: int, mention: str, minutes: int) -> None:
        """One card's nudge in its thread (level 2 shown in the channel too)."""

    def overdue_list(self, channel: str, cards: list[tuple[Draft, int, int]], mention: str) -> None:
        """One message listing overdue cards of a channel: (draft, level, SLA minutes) each, with links."""


@dataclass
class SlaPolicy:
    """SLA_MINUTES, the desk file's per-creator `sla_minutes` and QUIET_HOURS."""

    minutes: int = DEFAULT_SLA_MINUTES
    per_creator: Callable[[str], int | None] = lambda _handle: None
    quiet: QuietHours | None = None

    def minutes_for(self, creator_handle: str) -> int:
        return self.per_creator(creator_handle) or self.minutes


@dataclass
class Nudge:
    draft: Draft
    level: int
    before: int
    mention: str


class SlaWatch:
    """Run by the cycle after its cards are published: cards whose state changed are shown again, and the
    nudges that are due go out (held back in quiet hours, then sent if the card still waits)."""

    def __init__(self, policy: SlaPolicy, port: NudgePort, channel_of: Callable[[Draft], str]) -> None:
        self.policy = policy
        self.port = port
        self.channel_of = channel_of

    def overdue(self, db: Any, creator: str | None = None) -> tuple[int, int]:
        """Cards waiting past their SLA now, and of them those past twice it (for /fanvue)."""
        now = clock.utcnow()
        levels = [
            nudge_level(clock.from_iso(since), now, self.policy.minutes_for(handle))
            for handle, since in marks.waits(db, creator)
        ]
        return sum(1 for level in levels if level >= 1), sum(1 for level in levels if level >= LOUDER)

    def run(self, svc: Any) -> int:
        """One pass; returns the nudge messages sent."""
        now = clock.utcnow()
        due: list[Nudge] = []
        for draft, shown, sent in marks.waiting(svc.store.db):
            minutes = self.policy.minutes_for(draft.creator_handle)
            since = clock.from_iso(draft.waiting_since)
            state = sla_state(since, now, minutes)
            if state != shown:
                # A card first seen here was most likely just posted, on time: only remember that. Any other
                # state is shown again (cards posted before the SLA clocks, a fan who waited long).
                rerender = shown is not None or state != ON_TIME
                marks.set_state(svc.store.db, draft.id, state, minutes, rerender=rerender)
                if rerender:
                    svc.cards.publish(draft.id)
            level = nudge_level(since, now, minutes)
            if level > sent:
                due.append(Nudge(draft, level, sent, _mention(svc, draft)))
        if not due or (self.policy.quiet is not None and self.policy.quiet.holds(now)):
            return 0
        by_channel: dict[str, list[Nudge]] = {}
        for nudge in due:
            by_channel.setdefault(nudge.draft.channel or self.channel_of(nudge.draft), []).append(nudge)
        messages = 0
        for channel, nudges in by_channel.items():
            if len(nudges) > BATCH_OVER:
                messages += self._batch(svc, channel, nudges)
            else:
                messages += sum(self._one(svc, channel, n) for n in nudges)
        return messages

    def _one(self, svc: Any, channel: str, nudge: Nudge) -> int:
        draft = nudge.draft
        if not marks.claim_nudge(svc.store.db, draft, nudge.level, {"to": nudge.mention or None}):
            return 0
        try:
            self.port.nudge(
                channel, draft, nudge.level, nudge.mention, self.policy.minutes_for(draft.creator_handle)
            )
        except Exception:
            logger.warning("Could not nudge about draft %s; trying again next cycle", draft.id, exc_info=True)
            marks.unclaim_nudge(svc.store.db, draft.id, nudge.level, nudge.before)
            return 0
        return 1

    def _batch(self, svc: Any, channel: str, nudges: list[Nudge]) -> int:
        details = {"batched": True}
        claimed = [
            n
            for n in nudges
            if marks.claim_nudge(svc.store.db, n.draft, n.level, {"to": n.mention or None, **details})
        ]
        if not claimed:
            return 0
        cards = [(n.draft, n.level, self.policy.minutes_for(n.draft.creator_handle)) for n in claimed]
        mentions = sorted({m for n in claimed for m in n.mention.split() if m})
        try:
            self.port.overdue_list(channel, cards, " ".join(mentions))
        except Exception:
            logger.warning(
                "Could not post the overdue list to %s; trying again next cycle", channel, exc_info=True
            )
            for nudge in claimed:
                marks.unclaim_nudge(svc.store.db, nudge.draft.id, nudge.level, nudge.before)
            return 0
        return 1


def _mention(svc: Any, draft: Draft) -> str:
    """Who a nudge is for: the card's taker, else the creator's approver group, else its approvers."""
    holder = takes.holder(draft, svc.take_minutes)
    if holder:
        return f"<@{holder}>"
    desk = getattr(svc.desk, "desk_of", None)
    entry = desk(draft.creator_handle) if desk is not None else None
    if entry is not None and entry.approver_group:
        return f"<!subteam^{entry.approver_group}>"
    approvers = svc.desk.approvers_for(draft.creator_handle) if svc.desk is not None else svc.approvers
    return " ".join(f"<@{user}>" for user in sorted(approvers))
