"""Block Kit for who has a card: the taker line and the Take / Take over button (pure functions)."""

from __future__ import annotations

from typing import Any

from safe_text import mention, slack_name
from slack.layout import context, local_time
from store.clock import from_iso
from store.drafts import Draft

TAKE, TAKE_OVER = "draft_take", "draft_take_over"
NAME_MAX = 80


def taker_line(draft: Draft) -> list[dict[str, Any]]:
    """`🙋 @alice has this card since 14:02`, or nothing when nobody has it."""
    if not draft.taker:
        return []
    since = f" since {local_time(from_iso(draft.taken_at))}" if draft.taken_at else ""
    return [context([f"🙋 {mention(draft.taker)} has this card{since}"])]


def take_button(draft: Draft, value: str) -> dict[str, Any]:
    """I'll take it on a free card; Take over, behind Slack's confirm dialog, on a taken one."""
    if not draft.taker:
        return _button(TAKE, "I'll take it", value)
    button = _button(TAKE_OVER, "Take over", value)
    button["confirm"] = {
        "title": {"type": "plain_text", "text": "Take this card over?"},
        "text": {
            "type": "mrkdwn",
            "text": f"{mention(draft.taker)} has this card. Take it over from them, for "
            f"*{slack_name(draft.fan_name, NAME_MAX)}*'s reply? They are named in the audit log with you.",
        },
        "confirm": {"type": "plain_text", "text": "Take over"},
        "deny": {"type": "plain_text", "text": "Leave it"},
    }
    return button


def _button(action_id: str, label: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": label},
    }
