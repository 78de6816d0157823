"""Block Kit for the App Home tab and /fanvue mine|next: pure functions from a teammate's queue to views."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from safe_text import slack_name
from slack.command_blocks import duration
from slack.layout import context, section
from store.clock import from_iso

TAKE_NEXT = "home_take_next"
FREE_LISTED = 20  # waiting cards the Home tab lists; the rest are counted
NAME_MAX = 40
HOME_BLOCKS_MAX = 100  # Slack's limit for a Home view
# A permalink as Slack gives it: nothing in it may close the `<url|label>` link or start another.
_LINK = re.compile(r"https://[^\s<>|]{1,300}")


@dataclass(frozen=True)
class QueueCard:
    """One card in a teammate's queue, with the link to it when Slack gave one."""

    draft_id: int
    fan_name: str
    fan_handle: str
    waiting_since: str
    link: str | None = None
    taken_at: str | None = None


@dataclass(frozen=True)
class Today:
    """The team's decisions since midnight UTC."""

    sent: int
    skipped: int
    median_reply_seconds: float | None
    overdue: int | None = None  # cards waiting past their SLA now; None: no SLA watch


def home_view(
    held: list[QueueCard],
    free: list[QueueCard],
    free_total: int,
    today: Today,
    now: datetime,
    banner: str | None = None,
) -> dict[str, Any]:
    """The Home tab for one teammate: what they hold, what waits for anyone, the team's day, Take next."""
    blocks: list[dict[str, Any]] = [section(banner)] if banner else []
    blocks.append(section(f"*Your cards* ({len(held)})"))
    blocks += [section(_line(c, now)) for c in held] or [context(["You have no cards right now."])]
    blocks.append({"type": "divider"})
    blocks.append(
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*Waiting for someone to take them* ({free_total})"},
            "accessory": take_next_button(),
        }
    )
    room = HOME_BLOCKS_MAX - len(blocks) - 4
    listed = free[: min(FREE_LISTED, room)]
    blocks += [section(_line(c, now)) for c in listed] or [context(["Nothing is waiting. 🎉"])]
    if free_total > len(listed):
        blocks.append(context([f"…and {free_total - len(listed)} more, oldest listed first."]))
    blocks.append({"type": "divider"})
    blocks.append(section(f"*Today* (since midnight UTC)\n{today_line(today)}"))
    return {"type": "home", "blocks": blocks}


def take_next_button() -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": TAKE_NEXT,
        "style": "primary",
        "value": "next",
        "text": {"type": "plain_text", "text": "Take next"},
    }


def today_line(today: Today) -> str:
    median = (
        f"median reply time {duration(today.median_reply_seconds)}"
        if today.median_reply_seconds is not None
        else "no reply time yet"
    )
    late = "" if today.overdue is None else f" · {today.overdue} overdue now"
    return f"{today.sent} sent · {today.skipped} skipped · {median}{late}"


def taken_banner(card: QueueCard | None, problem: str | None = None) -> str:
    """What Take next came to, for the top of the Home tab and the teammate's DM."""
    if card is None:
        return f"ℹ️ {problem or 'No card is waiting for someone to take it.'}"
    name = slack_name(card.fan_name, NAME_MAX)
    where = f": <{card.link}|open the card>" if card.link and _LINK.fullmatch(card.link) else ""
    return f"🙋 You took the card for *{name}* (@{slack_name(card.fan_handle, NAME_MAX)}){where}"


def mine_message(held: list[QueueCard], now: datetime) -> dict[str, Any]:
    """`/fanvue mine`: the cards the asker has, linked."""
    if not held:
        return {"text": "You have no cards right now.", "blocks": [section("You have no cards right now.")]}
    lines = [_line(c, now) for c in held[:FREE_LISTED]]
    head = f"*Your cards* ({len(held)})"
    return {"text": f"You have {len(held)} card(s).", "blocks": [section("\n".join([head, *lines]))]}


def next_message(card: QueueCard | None, problem: str | None = None) -> dict[str, Any]:
    """`/fanvue next` (and the DM after Take next): the card just taken, linked, or why there is none."""
    text = taken_banner(card, problem)
    return {"text": text, "blocks": [section(text)]}


def _line(card: QueueCard, now: datetime) -> str:
    waited = duration((now - from_iso(card.waiting_since)).total_seconds())
    where = f"<{card.link}|open card>" if card.link and _LINK.fullmatch(card.link) else "_no link_"
    name, handle = slack_name(card.fan_name, NAME_MAX), slack_name(card.fan_handle, NAME_MAX)
    return f"• *{name}* (@{handle}) · waiting {waited} · {where}"
