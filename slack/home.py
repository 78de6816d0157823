"""The App Home tab and Take next: listeners that publish each teammate's own queue (views.publish)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, time
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from inbox import takes as take_flow
from inbox.outcome import Kind
from inbox.services import Services
from slack import home_blocks
from slack.handoff import RunLater, acknowledge_then
from slack.home_blocks import QueueCard, Today
from store import clock, queries, takes
from store.drafts import Draft

logger = logging.getLogger(__name__)

COMMAND_WORDS = ("mine", "next")  # /fanvue mine, /fanvue next
PERMALINKS_KEPT = 5000  # card links remembered (a card's permalink never changes)


class Home:
    """Builds and publishes Home tabs; remembers card links and who has looked at their Home here."""

    def __init__(self, svc: Services):
        self.svc = svc
        self._links: dict[tuple[str, str], str] = {}
        self.viewers: set[str] = set()
        self._lock = threading.Lock()

    def link(self, client: WebClient, draft: Draft) -> str | None:
        """The card's permalink (chat.getPermalink, once per card), or None when Slack will not say."""
        if not draft.channel or not draft.ts:
            return None
        key = (draft.channel, draft.ts)
        with self._lock:
            if key in self._links:
                return self._links[key]
        try:
            found = client.chat_getPermalink(channel=draft.channel, message_ts=draft.ts).get("permalink")
        except (SlackApiError, SlackClientError, OSError) as exc:
            logger.warning("No permalink for card %s: %s", draft.id, exc)
            return None
        if isinstance(found, str):
            with self._lock:
                if len(self._links) >= PERMALINKS_KEPT:
                    self._links.clear()
                self._links[key] = found
        return found if isinstance(found, str) else None

    def card(self, client: WebClient, draft: Draft) -> QueueCard:
        return QueueCard(
            draft.id,
            draft.fan_name,
            draft.fan_handle,
            draft.waiting_since,
            self.link(client, draft),
            draft.taken_at,
        )

    def held(self, client: WebClient, user: str) -> list[QueueCard]:
        return [self.card(client, d) for d in take_flow.mine(self.svc, user)]

    def view(self, client: WebClient, user: str, now: datetime, banner: str | None = None) -> dict[str, Any]:
        """The Home tab `user` sees now: only cards of creators they may decide on."""
        svc = self.svc
        free = [
            d
            for d in takes.free_cards(svc.store.db, svc.take_minutes, takes.NEXT_CANDIDATES * 4)
            if svc.may_decide(user, d.creator_handle)
        ]
        listed = [self.card(client, d) for d in free[: home_blocks.FREE_LISTED]]
        return home_blocks.home_view(self.held(client, user), listed, len(free), today(svc, now), now, banner)

    def publish(self, client: WebClient, user: str, banner: str | None = None) -> None:
        with self._lock:
            self.viewers.add(user)
        try:
            client.views_publish(user_id=user, view=self.view(client, user, clock.utcnow(), banner))
        except (SlackApiError, SlackClientError, OSError) as exc:
            logger.warning("Could not publish the Home tab of %s: %s", user, exc)

    def after_decision(self, client: WebClient, user: str) -> None:
        """Refresh the Home tab of a teammate who has looked at it, after one of their decisions."""
        with self._lock:
            seen = user in self.viewers
        if seen:
            self.publish(client, user)

    def take_next(self, client: WebClient, user: str) -> dict[str, Any]:
        """Take the most urgent free card for `user`; the answer (a message with its link) for them."""
        outcome = take_flow.take_next(self.svc, user)
        if outcome.kind is not Kind.TAKEN or outcome.draft is None:
            return home_blocks.next_message(None, outcome.message)
        return home_blocks.next_message(self.card(client, outcome.draft))


def today(svc: Services, now: datetime) -> Today:
    """The team's numbers since midnight UTC."""
    midnight = clock.to_iso(datetime.combine(now.date(), time.min, tzinfo=now.tzinfo))
    team = queries.decision_stats(svc.store.db, midnight)
    return Today(
        sent=sum(t.sent + t.edited for t in team.teammates),
        skipped=sum(t.skipped for t in team.teammates),
        median_reply_seconds=team.median_reply_seconds,
        overdue=svc.sla.overdue(svc.store.db)[0] if svc.sla is not None else None,
    )


def register(app: App, svc: Services, run_later: RunLater) -> Home:
    """The Home tab opens with the teammate's queue; Take next takes a card and tells them where it is.

    `app_home_opened` must have a listener: Bolt's Socket Mode adapter does not acknowledge an event no
    listener takes, and Slack would deliver it again and again."""
    home = Home(svc)

    def opened(body: dict[str, Any], event: dict[str, Any], respond, client: WebClient) -> None:
        if event.get("tab", "home") == "home" and isinstance(event.get("user"), str):
            home.publish(client, event["user"])

    def take_next(body: dict[str, Any], action: dict[str, Any], respond, client: WebClient) -> None:
        user = body["user"]["id"]
        answer = home.take_next(client, user)
        home.publish(client, user, banner=answer["text"])
        try:  # the Home tab cannot open a channel: a DM carries the link too
            client.chat_postMessage(
                channel=user, text=answer["text"], blocks=answer["blocks"], unfurl_links=False
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            logger.warning("Could not DM %s the card they took: %s", user, exc)

    app.event("app_home_opened")(acknowledge_then(run_later, opened))
    app.action(home_blocks.TAKE_NEXT)(acknowledge_then(run_later, take_next))
    return home


def command_answer(svc: Services, client: WebClient, word: str, user: str) -> dict[str, Any]:
    """`/fanvue mine` (the asker's cards) and `/fanvue next` (take the most urgent free card), linked."""
    home = Home(svc)
    if word == "next":
        return home.take_next(client, user)
    return home_blocks.mine_message(home.held(client, user), clock.utcnow())
