"""Signed request bodies shaped like the ones Slack sends to an app's request URL."""

from __future__ import annotations

import itertools
import json
import time
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

API_APP_ID = "A0APP"
TEAM_DOMAIN = "example"
# Slack's deprecated verification token; Bolt ignores it but every payload carries one.
VERIFICATION_TOKEN = "verification-token"
_SUBMISSIONS = itertools.count(1)


def sign_request(secret: str, body: str, timestamp: int | None = None) -> dict:
    """Headers Slack adds to a request: form content type, timestamp and v0 signature."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


def find_button(blocks: list, action_id: str) -> dict | None:
    """The button with `action_id` in a message's blocks, if there is one."""
    for block in blocks:
        for element in block.get("elements", []) + ([block["accessory"]] if "accessory" in block else []):
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def block_action_payload(
    *,
    user_id: str,
    user_name: str,
    action_id: str,
    value: str,
    channel_id: str,
    message_ts: str,
    message: dict,
    trigger_id: str,
    response_url: str,
    block_id: str = "actions",
    team_id: str = "T0TEAM",
    action_ts: str | None = None,
) -> dict:
    """A block_actions payload for a button clicked on a posted message."""
    button = find_button(message.get("blocks") or [], action_id) or {}
    label = button.get("text") or {"type": "plain_text", "text": value, "emoji": True}
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "message": {**message, "ts": message_ts},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": label,
                "value": value,
                "type": "button",
                "action_ts": action_ts or f"{time.time():.6f}",
            }
        ],
    }


def view_submission_payload(
    *,
    user_id: str,
    user_name: str,
    view: dict,
    values: dict,
    view_id: str = "V1",
    team_id: str = "T0TEAM",
    trigger_id: str | None = None,
) -> dict:
    """A view_submission payload for the modal `view` submitted with input `values`.

    Like Slack, every submission gets a trigger_id of its own unless one is given.
    """
    trigger_id = trigger_id or f"{int(time.time())}.{next(_SUBMISSIONS)}.view"
    submitted = {
        "type": "modal",
        "blocks": [],
        "private_metadata": "",
        "callback_id": "",
        "external_id": "",
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": None,
        "previous_view_id": None,
        **view,
        "id": view_id,
        "team_id": team_id,
        "state": {"values": values},
        "hash": "1700000000.abcdef12",
        "root_view_id": view_id,
        "app_id": API_APP_ID,
        "app_installed_team_id": team_id,
        "bot_id": "B0BOT",
    }
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def slash_command_fields(
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    response_url: str,
    trigger_id: str,
    team_id: str = "T0TEAM",
) -> dict:
    """The form fields of a slash command invocation."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_id.lower(),
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def payload_body(payload: dict) -> str:
    """Interaction payloads arrive as one form field holding JSON."""
    return urlencode({"payload": json.dumps(payload)})


def block_action_body(
    *,
    user_id: str,
    user_name: str,
    action_id: str,
    value: str,
    channel_id: str,
    message_ts: str,
    message: dict,
    trigger_id: str,
    response_url: str,
    block_id: str = "actions",
    team_id: str = "T0TEAM",
) -> str:
    """Form body "payload=<JSON>" of a block_actions interaction."""
    return payload_body(
        block_action_payload(
            user_id=user_id,
            user_name=user_name,
            action_id=action_id,
            value=value,
            channel_id=channel_id,
            message_ts=message_ts,
            message=message,
            trigger_id=trigger_id,
            response_url=response_url,
            block_id=block_id,
            team_id=team_id,
        )
    )


def view_submission_body(
    *, user_id: str, user_name: str, view: dict, values: dict, view_id: str = "V1", team_id: str = "T0TEAM"
) -> str:
    """Form body "payload=<JSON>" of a view_submission."""
    return payload_body(
        view_submission_payload(
            user_id=user_id, user_name=user_name, view=view, values=values, view_id=view_id, team_id=team_id
        )
    )


def slash_command_body(
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    response_url: str,
    trigger_id: str,
    team_id: str = "T0TEAM",
) -> str:
    """Plain form body of a slash command, as Slack posts it."""
    return urlencode(
        slash_command_fields(
            command=command,
            text=text,
            user_id=user_id,
            user_name=user_name,
            channel_id=channel_id,
            response_url=response_url,
            trigger_id=trigger_id,
            team_id=team_id,
        )
    )
