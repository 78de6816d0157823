"""Refuse signed requests that lack what our listeners read, before any listener sees them (both modes)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

logger = logging.getLogger(__name__)


def problem(body: Any) -> str | None:
    """Why `body` cannot be the Slack request it claims to be, or None when its shape is sound.

    Only what the listeners and Bolt's routing read is checked; anything else Slack adds is left alone.
    """
    if not isinstance(body, dict):
        return "not a JSON object"
    kind = body.get("type")
    if "command" in body and kind is None:
        return _slash_command(body)
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "block_actions without actions"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "an action without an action_id"
        return _user(body)
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict):
            return f"{kind} without a view"
        if not isinstance(view.get("callback_id"), str):
            return f"{kind} whose view has no callback_id"
        if not isinstance(view.get("private_metadata", ""), str):
            return f"{kind} whose private_metadata is not text"
        if not isinstance(view.get("state", {}), dict) or not isinstance(
            view.get("state", {}).get("values", {}), dict
        ):
            return f"{kind} whose view state is not an object"
        return _user(body)
    if kind == "event_callback" and not isinstance(body.get("event"), dict):
        return "event_callback without an event"
    return None


def _slash_command(body: dict) -> str | None:
    for field in ("command", "user_id", "response_url"):
        if not isinstance(body.get(field), str) or not body[field]:
            return f"a slash command without {field}"
    return None


def _user(body: dict) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        return f"{body.get('type')} without a user"
    return None


def middleware(req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
    """A global Bolt middleware: 400 and one log line for a malformed request; the listeners never run."""
    found = problem(req.body)
    if found is None:
        return next()
    logger.warning("Refused a malformed Slack request (%s): %s", req.mode, found)
    return BoltResponse(status=400, body={"error": found})
