"""Who the fan is to the creator, as one compact mrkdwn line (and its context block) for a card."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from safe_text import mention, slack_name
from slack.layout import context
from store.fan_context import FanCard, FanContext
from store.notes import Note

SEPARATOR = " · "
TOP_SPENDER = "⭐ top spender"
NOT_READ = "fan context not read yet"
NO_INSIGHTS = "no fan insights with this Fanvue login"
STATUS_MAX = 40  # a status Fanvue adds without notice is shown, cut to this
# "Online now" only while the reading is this recent; after that the line says when they were seen online.
ONLINE_FRESH = timedelta(minutes=5)
_UNAVAILABLE = {
    "not_found": "Fanvue has no insights for this fan",
    "forbidden": "Fanvue does not show this fan's insights",
}


def context_line(
    ctx: FanContext | None, is_top_spender: bool, now: datetime, *, no_insights: bool = False
) -> str:
    """E.g. `⭐ top spender · subscriber, renews 12 Jan (auto-renew on) · spent $1,234.00, biggest $200.00,
    last purchase 3 days ago · online now`. Anything Fanvue sends as text is shown escaped, on one line."""
    parts = [TOP_SPENDER] if is_top_spender else []
    if ctx is None:
        return SEPARATOR.join([*parts, NO_INSIGHTS if no_insights else NOT_READ])
    if ctx.has_insights:
        parts += [_status(ctx, now), _spending(ctx, now)]
    else:
        parts.append(_UNAVAILABLE.get(ctx.unavailable or "", "fan insights not available"))
    presence = _presence(ctx, now)
    if presence:
        parts.append(presence)
    return SEPARATOR.join(parts)


def context_block(
    ctx: FanContext | None, is_top_spender: bool, now: datetime, *, no_insights: bool = False
) -> dict[str, Any]:
    """The line as a Block Kit context block, for the card."""
    return context([context_line(ctx, is_top_spender, now, no_insights=no_insights)])


NOTE_SHOWN_MAX = 300  # characters of a note on a card; `/fanvue notes` shows them whole
NOTES_LABEL = "📝 *Team notes* (written by the team, not the fan):"


def fan_blocks(fan: FanCard, now: datetime) -> list[dict[str, Any]]:
    """The context line, then the team's newest notes, one line each, as context blocks."""
    shown = [context_block(fan.context, fan.is_top_spender, now, no_insights=fan.no_insights)]
    if fan.notes:
        shown.append(context(["\n".join([NOTES_LABEL, *(note_line(note) for note in fan.notes)])]))
    return shown


def note_line(note: Note, *, limit: int = NOTE_SHOWN_MAX, with_id: bool = False) -> str:
    """One note on one line, escaped: `“likes cats” — @author, 3 Jan` (with its id for `/fanvue notes`)."""
    number = f"`#{note.id}` " if with_id else ""
    day = note.created_at[:10]
    return f"{number}“{slack_name(note.text, limit)}” — {mention(note.author)}, {day}"


def money(cents: int) -> str:
    """Integer USD cents as dollars: 123400 -> $1,234.00."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{rest:02d}"


def _status(ctx: FanContext, now: datetime) -> str:
    status = ctx.status or ""
    if status == "subscriber":
        if ctx.renews_at is None:
            return "subscriber"
        renew = "auto-renew on" if ctx.auto_renew else "auto-renew off"
        return f"subscriber, renews {_date(ctx.renews_at, now)} ({renew})"
    if status == "expired":
        return "subscription expired"
    if status == "follower":
        return "follower, not subscribed"
    if status == "not_contactable":
        return "⚠️ not contactable"
    return slack_name(status, STATUS_MAX)


def _spending(ctx: FanContext, now: datetime) -> str:
    total = ctx.total_spend_cents or 0
    if total <= 0 and ctx.last_purchase_at is None:
        return "no purchases yet"
    text = f"spent {money(total)}, biggest {money(ctx.biggest_payment_cents or 0)}"
    if ctx.last_purchase_at is not None:
        text += f", last purchase {_ago(now - ctx.last_purchase_at)}"
    return text


def _presence(ctx: FanContext, now: datetime) -> str | None:
    if ctx.online:
        age = now - ctx.fetched_at
        return "online now" if age < ONLINE_FRESH else f"online {_ago(age)}"
    if ctx.last_seen_at is not None:
        return f"last seen {_ago(now - ctx.last_seen_at)}"
    return None  # offline with no time: the fan hides it, or it was not read


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return f"{hours // 24} days ago"


def _date(moment: datetime, now: datetime) -> str:
    day = f"{moment.day} {moment:%b}"
    return day if moment.year == now.year else f"{day} {moment.year}"
