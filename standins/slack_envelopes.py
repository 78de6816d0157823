"""Socket Mode envelopes and connections as the stand-in keeps them, and the Events API wrapper."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from standins.slack_requests import VERIFICATION_TOKEN
from standins.slack_state import APP_ID, BOT_USER_ID, TEAM_ID
from standins.ws_frames import WsPeer

# Envelope types whose acknowledgement may carry a payload (a modal's response_action, a command's answer).
ACCEPTS_RESPONSE = {"view_submission", "block_suggestion", "slash_commands"}


@dataclass(eq=False)
class Link:
    """One open WebSocket from the app."""

    number: int
    peer: WsPeer
    retiring_since: float | None = None


@dataclass(eq=False)
class Envelope:
    """One payload on its way to the app, until it is acknowledged or Slack gives up."""

    envelope_id: str
    type: str
    payload: dict
    accepts_response_payload: bool
    lose_ack: bool = False
    retry_attempt: int = 0
    deliveries: int = 0
    link: Link | None = None
    sent_at: float = 0.0
    acked: bool = False
    given_up: bool = False

    def message(self) -> dict:
        message: dict[str, Any] = {
            "envelope_id": self.envelope_id,
            "payload": self.payload,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api" or self.retry_attempt:
            message["retry_attempt"] = self.retry_attempt
            message["retry_reason"] = "timeout" if self.retry_attempt else ""
        return message

    def summary(self) -> dict:
        return {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "deliveries": self.deliveries,
            "retry_attempt": self.retry_attempt,
            "acked": self.acked,
            "given_up": self.given_up,
            "connection": self.link.number if self.link is not None else None,
        }


def event_callback(event: dict, *, team_id: str = TEAM_ID) -> dict:
    """The Events API wrapper Slack puts around a bot event."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def app_home_opened_event(user: str, *, channel: str = "D0HOME", tab: str = "home") -> dict:
    """The app_home_opened event for `user` opening the app's Home tab."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
