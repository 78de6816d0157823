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
from safe_text import cut, neutralised
from slack import blocks
from slack.limits import MESSAGE_TEXT_MAX
from store.clock import utcnow
from store.drafts import Draft

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
    """The cards port: one channel, about one new post per second so Slack does not throttle us."""

    def __init__(
        self,
        client: WebClient,
        channel: str,
        *,
        post_interval: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.client = client
        self.channel = channel
        self.post_interval = post_interval
        self.clock = clock
        self._last_post = 0.0
        self._pace = threading.Lock()

    def post(self, draft: Draft) -> tuple[str, str]:
        payload = blocks.card(draft, self.clock())
        with self._pace:
            wait = self._last_post + self.post_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                response = self._call(
                    self.client.chat_postMessage,
                    channel=self.channel,
                    unfurl_links=False,
                    unfurl_media=False,
                    **payload,
                )
            finally:
                self._last_post = time.monotonic()
        return response.get("channel") or self.channel, response["ts"]

    def update(self, draft: Draft) -> None:
        self._call(
            self.client.chat_update, channel=draft.channel, ts=draft.ts, **blocks.card(draft, self.clock())
        )

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
