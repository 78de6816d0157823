"""Home tab requests as Slack sends them: the app_home_opened event and a button pressed in a Home view."""

from __future__ import annotations

import json
import time

from standins.slack_envelopes import app_home_opened_event, event_callback
from standins.slack_requests import API_APP_ID, TEAM_DOMAIN, VERIFICATION_TOKEN, find_button, payload_body


def home_opened_body(user: str) -> str:
    """The Events API JSON body Slack posts when `user` opens the app's Home tab (HTTP mode)."""
    return json.dumps(event_callback(app_home_opened_event(user)))


def home_action_payload(user: str, view: dict, action_id: str, *, team_id: str = "T0TEAM") -> dict:
    """A block_actions payload for a button in `user`'s Home tab (`view` as views.publish answered it):
    the container is the view, and there is no channel and no response_url."""
    button = find_button(view.get("blocks") or [], action_id) or {}
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view.get("id", "")},
        "trigger_id": f"{int(time.time())}.{abs(hash((user, time.time())))}",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "home",
                "text": button.get("text") or {"type": "plain_text", "text": action_id},
                "value": button.get("value", ""),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def home_action_body(user: str, view: dict, action_id: str) -> str:
    return payload_body(home_action_payload(user, view, action_id))
