"""The /fanvue slash command: the inbox at a glance, the audit log and the team's numbers, only to the asker."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from fanvue.errors import FanvueError
from inbox.services import Services
from slack import command_blocks
from slack.handoff import RunLater, acknowledge_then
from store import filters, queries
from store.clock import utcnow
from store.filters import FilterError

logger = logging.getLogger(__name__)

COMMAND = "/fanvue"
WAITING_LISTED = 10


def register_commands(app: App, svc: Services, run_later: RunLater) -> None:
    """Acknowledge in the request thread; the answer (Fanvue, the database, permalinks) comes via respond()."""

    def answer(body: dict[str, Any], command: dict[str, Any], respond, client: WebClient) -> None:
        message = answer_for(svc, client, command.get("text") or "", utcnow())
        respond(**message, response_type="ephemeral", replace_original=False)

    app.command(COMMAND)(acknowledge_then(run_later, answer))


def answer_for(svc: Services, client: WebClient, text: str, now: datetime) -> dict[str, Any]:
    """The answer to `/fanvue <text>`; anything it cannot read gets the usage, never an error."""
    words = filters.command_words(text)
    name, rest = (words[0].lower(), words[1:]) if words else ("unread", [])
    try:
        if name == "unread" and not rest:
            return unread(svc, client, now)
        if name == "audit":
            found = filters.from_words(rest, now)
            return command_blocks.audit_list(queries.audit_entries(svc.store.db, found), found.describe())
        if name == "stats" and len(rest) <= 1:
            period = rest[0] if rest else filters.DEFAULT_STATS_PERIOD
            team = queries.decision_stats(svc.store.db, filters.parse_period(period, now))
            return command_blocks.stats(team, period)
    except FilterError as exc:
        return command_blocks.usage(str(exc))
    if name == "help" and not rest:
        return command_blocks.usage()
    return command_blocks.usage(f"`/fanvue {' '.join(words)}` is not a /fanvue command.")


def unread(svc: Services, client: WebClient, now: datetime) -> dict[str, Any]:
    """Local numbers always; Fanvue's counts when Fanvue answers."""
    counts, problem = None, None
    try:
        counts = svc.fanvue.unread_counts()
    except FanvueError as exc:
        logger.warning("/fanvue: Fanvue's unread counts are unavailable: %s", exc)
        problem = str(exc)
    backlog = queries.backlog(svc.store.db, limit=WAITING_LISTED)
    links = {
        card.draft_id: link for card in backlog.oldest if (link := permalink(client, card.channel, card.ts))
    }
    return command_blocks.unread(counts, problem, backlog, links, now)


def permalink(client: WebClient, channel: str | None, ts: str | None) -> str | None:
    """A link to the card, or None when it has none yet or Slack will not say."""
    if not channel or not ts:
        return None
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as exc:
        logger.warning("No permalink for card %s in %s: %s", ts, channel, exc.response.get("error"))
        return None
