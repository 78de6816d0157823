"""Audit filters from words (the /fanvue command) or options (the command line), checked in one place."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from store.clock import to_iso

DEFAULT_LIMIT = 20
MAX_LIMIT = 100  # in Slack: one answer holds at most this many
MAX_REPORT_LIMIT = 1_000_000  # on the command line; more than a desk's audit log holds in years
DEFAULT_STATS_PERIOD = "7d"
CREATOR_WORD = "creator:"  # `/fanvue audit creator:luna`

# What a teammate may type for an action, and the action the audit log records.
ACTIONS: dict[str, str] = {
    "drafted": "drafted",
    "posted": "posted",
    "updated": "updated",
    "claimed": "claimed",
    "taken": "taken",
    "taken-over": "taken-over",
    "released": "released",
    "sent": "sent",
    "edited": "edited-and-sent",
    "edited-and-sent": "edited-and-sent",
    "skipped": "skipped",
    "failed": "failed",
    "send-failed": "send-failed",
    "unknown": "unknown",
    "superseded": "superseded",
    "denied": "denied",
    "regenerated": "regenerated",
    "guardrail-warned": "guardrail-warned",
    "guardrail-confirmed": "guardrail-confirmed",
}
SCHEDULER = "scheduler"

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PERIOD = re.compile(r"^(\d{1,6})([mhdw])$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_FAN_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_HANDLE = re.compile(r"^[\w.-]{1,100}$")
# A word of a slash command: Slack's markup `<...>` (a mention may carry a name with spaces) or a plain word.
_WORD = re.compile(r"<[^<>]*>|[^\s<]+|<")
# With should_escape, Slack sends &, < and > typed by the user as entities, and its own markup as <...>.
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}


class FilterError(ValueError):
    """A filter the user typed cannot be understood; the message says which and why."""


@dataclass(frozen=True)
class AuditFilter:
    """Which audit entries to list; None means any."""

    actor: str | None = None
    fan_handle: str | None = None
    fan_uuid: str | None = None
    action: str | None = None
    since: str | None = None
    limit: int = DEFAULT_LIMIT
    creator: str | None = None  # a creator's handle, lowercase

    def describe(self) -> str:
        parts = [
            f"creator @{self.creator}" if self.creator else "",
            f"by {self.actor}" if self.actor else "",
            f"fan {self.fan_handle or self.fan_uuid}" if self.fan_handle or self.fan_uuid else "",
            f"action {self.action}" if self.action else "",
            f"since {self.since[:16].replace('T', ' ')} UTC" if self.since else "",
        ]
        return ", ".join(p for p in parts if p) or "everything"


def parse_period(text: str, now: datetime) -> str:
    """`30m`, `24h`, `7d`, `2w` back from `now`, or a date `2026-11-01` (from its midnight, UTC)."""
    text = text.strip().lower()
    match = _PERIOD.match(text)
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2)]
        try:
            return to_iso(now - timedelta(**{unit: amount}))
        except OverflowError as exc:
            raise FilterError(f"the period {text!r} is too long") from exc
    if _DATE.match(text):
        try:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError as exc:
            raise FilterError(f"{text!r} is not a date") from exc
        return to_iso(day)
    raise FilterError(f"{text!r} is not a period: use 30m, 24h, 7d, 2w or a date like 2026-11-01")


def is_period(word: str) -> bool:
    return bool(_PERIOD.match(word.lower()) or _DATE.match(word))


def command_words(text: str) -> list[str]:
    """The words of a slash command's text as Slack sends it (`should_escape: true`): markup such as
    `<@U123|Alice Smith>` is one word, and the entities of what the user typed become characters again."""
    words = _WORD.findall(text)
    return [word if word.startswith("<") else re.sub(r"&(lt|gt|amp);", _entity, word) for word in words]


def _entity(match: re.Match) -> str:
    return _ENTITIES[match.group(0)]


def parse_user(text: str) -> str:
    """A Slack user as `<@U123|name>` or `<@U123>` (how Slack sends a mention), `U123`, or the scheduler."""
    text = text.strip()
    match = _MENTION.match(text)
    if match:
        return match.group(1)
    if _USER_ID.match(text) or text == SCHEDULER:
        return text
    if text.startswith("@"):
        raise FilterError(
            f"{text} needs to be a mention, but reached the app as plain text: pick the teammate from the "
            "list Slack offers as you type @ (if that does not help, the /fanvue command needs "
            "should_escape: true, see the README), or give their user ID (U…)"
        )
    raise FilterError(
        f"{text!r} is not a Slack user (a mention like @alice picked from the list, or an ID U…)"
    )


def parse_action(text: str) -> str:
    action = ACTIONS.get(text.strip().lower())
    if action is None:
        raise FilterError(
            f"{text!r} is not an action; use one of {', '.join(sorted(set(ACTIONS) - {'edited-and-sent'}))}"
        )
    return action


def parse_limit(text: str, *, maximum: int = MAX_LIMIT) -> int:
    """A whole number from 1 to `maximum`, as typed (`limit N`) or given (`--limit N`)."""
    text = text.strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise FilterError(f"limit takes a number (a whole one), got {text[:40]!r}")
    # Thousands of digits would make int() itself refuse; anything this long is out of range anyway.
    value = int(text) if len(text) <= 30 else (-1 if text.startswith("-") else maximum + 1)
    if value < 1:
        raise FilterError(f"limit should be at least 1 (between 1 and {maximum}), got {text[:40]}")
    if value > maximum:
        raise FilterError(f"limit should be between 1 and {maximum}, got {text[:40]}")
    return value


def fan_filter(text: str) -> dict[str, str]:
    """A fan by handle, or by uuid when it looks like one."""
    text = text.strip()
    if _FAN_UUID.match(text):
        return {"fan_uuid": text.lower()}
    if not _HANDLE.match(text):
        raise FilterError(f"{text!r} is not a fan handle")
    return {"fan_handle": text}


def from_words(words: Sequence[str], now: datetime) -> AuditFilter:
    """Filters in any order: a mention or user ID, a fan handle, an action, a period, `limit N`."""
    found = AuditFilter()
    seen: set[str] = set()
    items = iter(words)
    change: dict[str, Any]
    for word in items:
        if word.lower() == "limit":
            kind, change = "limit", {"limit": parse_limit(next(items, ""))}
        elif word.lower().startswith(CREATOR_WORD):
            kind, change = "creator", {"creator": parse_creator(word[len(CREATOR_WORD) :])}
        elif word.startswith(("<@", "@")) or _USER_ID.match(word):
            kind, change = "teammate", {"actor": parse_user(word)}
        elif word.lower() in ACTIONS:
            kind, change = "action", {"action": parse_action(word)}
        elif is_period(word):
            kind, change = "period", {"since": parse_period(word, now)}
        else:
            kind, change = "fan", fan_filter(word)
        if kind in seen:
            raise FilterError(f"give one {kind} at most")
        seen.add(kind)
        found = replace(found, **change)
    return found


def parse_creator(text: str) -> str:
    """A creator's Fanvue handle (with or without @), lowercase."""
    handle = text.strip().lstrip("@")
    if not _HANDLE.match(handle):
        raise FilterError(f"{text!r} is not a creator's handle; write creator:HANDLE")
    return handle.lower()


def from_options(
    *,
    creator: str | None = None,
    fan: str | None = None,
    user: str | None = None,
    action: str | None = None,
    since: str | None = None,
    limit: int = DEFAULT_LIMIT,
    now: datetime,
) -> AuditFilter:
    """The command line's options, with the same checks as the words of the slash command."""
    return AuditFilter(
        actor=parse_user(user) if user else None,
        action=parse_action(action) if action else None,
        since=parse_period(since, now) if since else None,
        limit=parse_limit(str(limit), maximum=MAX_REPORT_LIMIT),
        creator=parse_creator(creator) if creator else None,
        **(fan_filter(fan) if fan else {}),
    )
