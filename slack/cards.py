"""Posting and updating draft cards through Slack's Web API, paced for chat.postMessage's limit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from inbox.cards import CardGone, CardRejected, CardUnavailable
from inbox.selling import OfferView
from safe_text import cut, neutralised
from slack import blocks
from slack.limits import MESSAGE_TEXT_MAX
from store.clock import utcnow
from store.drafts import Draft
from store.fan_context import FanCard

logger = logging.getLogger(__name__)

# Errors about the message itself: retrying the same card cannot help, but other cards may go through.
_CARD_ERRORS = {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "too_many_attachments",
    "invalid_attachments",
    "no_text",
}
# The message behind a card cannot be changed any more (deleted by someone, or too old to edit).
_GONE_ERRORS = {"cant_update_message", "message_not_found", "edit_window_closed"}


class SlackCards:
    """The cards port: about one new post per second per channel so Slack does not throttle us.

    Cards go to `channel`, or with `channels` to the channel it names for the draft's creator; with
    `name_creator` their header names the creator (an app serving several)."""

    def __init__(
        self,
        client: WebClient,
        channel: str,
        *,
        post_interval: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        channels: Callable[[str], str] | None = None,
        name_creator: bool = False,
        fan: Callable[[Draft], FanCard] | None = None,
    ):
        self.offer: Callable[[Draft], OfferView | None] | None = None  # the card's paid offer, when set
        self.templates: Callable[[Draft], bool] | None = None  # whether the card offers Template
        self.client = client
        self.channel = channel
        self.post_interval = post_interval
        self.clock = clock
        self._channels = channels
        self._name_creator = name_creator
        self._fan = fan  # what the team knows about the card's fan, read when the card is rendered
        self.sla_minutes: Callable[[str], int] | None = None  # a creator's SLA, for the card's age line
        self._last_post: dict[str, float] = {}
        self._paces: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def channel_for(self, draft: Draft) -> str:
        """Where the draft's card is, or goes when it is first posted."""
        if draft.channel:
            return draft.channel
        return self._channels(draft.creator_handle) if self._channels is not None else self.channel

    def _card(self, draft: Draft) -> dict:
        creator = draft.creator_handle if self._name_creator else None
        offer = self.offer(draft) if self.offer is not None else None
        sla = self.sla_minutes(draft.creator_handle) if self.sla_minutes is not None else None
        fan = self._fan(draft) if self._fan else None
        templates = self.templates(draft) if self.templates is not None else True
        return blocks.card(
            draft, self.clock(), creator=creator, fan=fan, offer=offer, sla_minutes=sla, templates=templates
        )

    def _pace(self, channel: str) -> threading.Lock:
        # Slack's posting limit is per channel: cards to different channels do not wait for each other.
        with self._guard:
            return self._paces.setdefault(channel, threading.Lock())

    def post(self, draft: Draft) -> tuple[str, str]:
        payload = self._card(draft)
        channel = self.channel_for(draft)
        with self._pace(channel):
            wait = self._last_post.get(channel, 0.0) + self.post_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                response = self._call(
                    self.client.chat_postMessage,
                    channel=channel,
                    unfurl_links=False,
                    unfurl_media=False,
                    **payload,
                )
            finally:
                self._last_post[channel] = time.monotonic()
        return response.get("channel") or channel, response["ts"]

    def update(self, draft: Draft) -> None:
        self._call(self.client.chat_update, channel=draft.channel, ts=draft.ts, **self._card(draft))

    def notify(self, draft: Draft, user: str, text: str) -> None:
        """An ephemeral message to one teammate. Only the app's own mentions and dates stay active in it: a
        fan's name inside cannot ping the channel or disguise a link, whether or not the caller escaped it."""
        self._call(
            self.client.chat_postEphemeral,
            channel=draft.channel or self.channel,
            user=user,
            text=cut(neutralised(text), MESSAGE_TEXT_MAX),
        )

    @staticmethod
    def _call(method, **kwargs):
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            kind = (
                CardGone
                if error in _GONE_ERRORS
                else CardRejected
                if error in _CARD_ERRORS
                else CardUnavailable
            )
            raise kind(f"Slack answered {error or exc.response.status_code}") from exc
        except (SlackClientError, OSError) as exc:
            raise CardUnavailable(f"Slack could not be reached: {exc}") from exc
