"""The /fanvue slash command: the inbox at a glance, the audit log and the team's numbers, only to the asker."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from fanvue.errors import FanvueError
from fanvue.models import UnreadCounts
from inbox.services import Services
from slack import command_blocks, home, note_command
from slack.handoff import RunLater, acknowledge_then
from store import earnings, filters, queries
from store.clock import utcnow
from store.filters import FilterError

logger = logging.getLogger(__name__)

COMMAND = "/fanvue"
WAITING_LISTED = 10


def register_commands(app: App, svc: Services, run_later: RunLater) -> None:
    """Acknowledge in the request thread; the answer (Fanvue, the database, permalinks) comes via respond()."""

    def answer(body: dict[str, Any], command: dict[str, Any], respond, client: WebClient) -> None:
        text, channel, user = command.get("text") or "", command.get("channel_id"), command.get("user_id")
        message = note_command.answer(svc, client, command, _channel_creator(svc, channel)) or answer_for(
            svc, client, text, utcnow(), channel, user=user
        )
        respond(**message, response_type="ephemeral", replace_original=False)

    app.command(COMMAND)(acknowledge_then(run_later, answer))


def answer_for(
    svc: Services,
    client: WebClient,
    text: str,
    now: datetime,
    channel: str | None = None,
    *,
    user: str | None = None,
) -> dict[str, Any]:
    """The answer to `/fanvue <text>`; anything it cannot read gets the usage, never an error. Serving
    several creators, `creator:HANDLE` picks one; in a creator's own channel it is that creator."""
    words = filters.command_words(text)
    name, rest = (words[0].lower(), words[1:]) if words else ("unread", [])
    try:
        named = [w for w in rest if w.lower().startswith(filters.CREATOR_WORD)]
        creator = filters.parse_creator(named[0][len(filters.CREATOR_WORD) :]) if named else None
        if len(named) > 1:
            raise FilterError("give one creator at most")
        creator = creator or _channel_creator(svc, channel)
        plain = [w for w in rest if w not in named]
        if name == "unread" and not plain:
            return unread(svc, client, now, creator)
        if name == "audit":
            found = filters.from_words(plain, now)
            found = replace(found, creator=creator) if creator else found
            return command_blocks.audit_list(queries.audit_entries(svc.store.db, found), found.describe())
        if name == "stats" and len(plain) <= 1:
            period = plain[0] if plain else filters.DEFAULT_STATS_PERIOD
            start = filters.parse_period(period, now)
            team = queries.decision_stats(svc.store.db, start, creator)
            credit = earnings.revenue_credit(svc.store.db, start, now, creator)
            return command_blocks.stats(team, f"{period} of @{creator}" if creator else period, credit)
    except FilterError as exc:
        return command_blocks.usage(str(exc))
    if name in home.COMMAND_WORDS and not rest and user:
        return home.command_answer(svc, client, name, user)
    if name == "help" and not rest:
        return command_blocks.usage()
    return command_blocks.usage(f"`/fanvue {' '.join(words)}` is not a /fanvue command.")


def _channel_creator(svc: Services, channel: str | None) -> str | None:
    """The creator whose cards go to `channel`, when exactly one does (a desk file names it)."""
    if svc.desk is None or not channel:
        return None
    mine = svc.desk.creators_in(channel)
    return mine[0] if len(mine) == 1 else None


def unread(svc: Services, client: WebClient, now: datetime, creator: str | None = None) -> dict[str, Any]:
    """Local numbers always; Fanvue's counts when Fanvue answers (summed over the creators served)."""
    counts, problem = None, None
    try:
        counts = _fanvue_counts(svc, creator)
    except FanvueError as exc:
        logger.warning("/fanvue: Fanvue's unread counts are unavailable: %s", exc)
        problem = str(exc)
    backlog = queries.backlog(
        svc.store.db, limit=WAITING_LISTED, creator=creator, priority=svc.cards.priority
    )
    links = {
        card.draft_id: link for card in backlog.oldest if (link := permalink(client, card.channel, card.ts))
    }
    webhooks = svc.webhook_health() if svc.webhook_health is not None else None
    overdue = svc.sla.overdue(svc.store.db, creator) if svc.sla is not None else None
    return command_blocks.unread(counts, problem, backlog, links, now, webhooks=webhooks, overdue=overdue)


def _fanvue_counts(svc: Services, creator: str | None) -> UnreadCounts:
    if svc.desk is None:
        return svc.fanvue.unread_counts()
    chats = messages = 0
    for inbox in svc.inboxes():
        if creator is None or inbox.handle == creator:
            counted = inbox.client.unread_counts()
            chats, messages = chats + counted.chats, messages + counted.messages
    return UnreadCounts(chats=chats, messages=messages)


def permalink(client: WebClient, channel: str | None, ts: str | None) -> str | None:
    """A link to the card, or None when it has none yet or Slack will not say."""
    if not channel or not ts:
        return None
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as exc:
        logger.warning("No permalink for card %s in %s: %s", ts, channel, exc.response.get("error"))
        return None
