"""The SLA on a card (its age line) and the nudges about overdue cards, posted through Slack's Web API."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from inbox.sla import LOUDER, OVERDUE, SOON, sla_state
from safe_text import slack_name
from slack.layout import context
from store import drafts
from store.clock import from_iso, utcnow
from store.drafts import Draft

logger = logging.getLogger(__name__)

NAME_MAX = 80
BATCH_LINKS = 30  # cards linked in one overdue list (each link is one Slack call); the rest are counted
COLOUR = {OVERDUE: "🔴", SOON: "🟠"}
ON_TIME_COLOUR = "🟢"


def _minutes(delta: timedelta) -> int:
    return max(1, round(delta.total_seconds() / 60))


def age_words(draft: Draft, now: datetime, minutes: int) -> str:
    """`🟢 on time: due in 9 min`, `🟠 due soon: due in 2 min`, `🔴 overdue by 4 min` (SLA 15 min)."""
    since = from_iso(draft.waiting_since)
    state = sla_state(since, now, minutes)
    due = since + timedelta(minutes=minutes)
    if state == OVERDUE:
        return f"🔴 *overdue by {_minutes(now - due)} min* (SLA {minutes} min)"
    word = "due soon" if state == SOON else "on time"
    return f"{COLOUR.get(state, ON_TIME_COLOUR)} {word}: due in {_minutes(due - now)} min (SLA {minutes} min)"


def sla_line(draft: Draft, now: datetime, minutes: int | None) -> list[dict[str, Any]]:
    """The age line of a waiting card; nothing on a decided one or without an SLA."""
    if minutes is None or draft.status != drafts.PENDING:
        return []
    return [context([age_words(draft, now, minutes)])]


def nudge_text(draft: Draft, level: int, mention: str, minutes: int, now: datetime) -> str:
    who = f"{mention} " if mention else ""
    fan = slack_name(draft.fan_name, NAME_MAX)
    late = _minutes(now - from_iso(draft.waiting_since) - timedelta(minutes=minutes))
    if level >= LOUDER:
        return f"🚨 {who}*{fan}* still waits: overdue by {late} min, twice the {minutes} min SLA."
    return f"⏰ {who}*{fan}* is waiting: overdue by {late} min (SLA {minutes} min)."


class SlackNudges:
    """The nudge port: thread replies, and one list per channel when many cards go overdue at once."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def nudge(self, channel: str, draft: Draft, level: int, mention: str, minutes: int) -> None:
        self.client.chat_postMessage(
            channel=channel,
            thread_ts=draft.ts,
            reply_broadcast=level >= LOUDER,
            text=nudge_text(draft, level, mention, minutes, utcnow()),
        )

    def overdue_list(self, channel: str, cards: list[tuple[Draft, int, int]], mention: str) -> None:
        now = utcnow()
        lines = [f"⏰ {mention + ' ' if mention else ''}*{len(cards)} cards are overdue:*"]
        for index, (draft, level, minutes) in enumerate(cards):
            if index == BATCH_LINKS:
                lines.append(f"…and {len(cards) - BATCH_LINKS} more (`/fanvue` lists what waits).")
                break
            fan = slack_name(draft.fan_name, NAME_MAX)
            late = _minutes(now - from_iso(draft.waiting_since) - timedelta(minutes=minutes))
            loud = " 🚨" if level >= LOUDER else ""
            link = self._permalink(channel, draft.ts) if draft.ts else None
            name = f"<{link}|{fan}>" if link else fan
            lines.append(f"• {name}: overdue by {late} min{loud}")
        self.client.chat_postMessage(channel=channel, text="\n".join(lines))

    def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            return self.client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except Exception:
            logger.info("No permalink for the card %s in %s", ts, channel, exc_info=True)
            return None
