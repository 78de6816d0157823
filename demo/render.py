"""Block Kit as the plain text lines a reader of the card sees."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

RULE = "─" * 8
_TOKEN = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def render_blocks(message_blocks: list[dict[str, Any]], users: Mapping[str, str] | None = None) -> list[str]:
    """Section and header text, context on one line, dividers as a rule, buttons as [Label]."""
    lines: list[str] = []
    for block in message_blocks:
        kind = block.get("type")
        if kind in ("section", "header"):
            lines.extend(mrkdwn_text((block.get("text") or {}).get("text", ""), users).splitlines())
        elif kind == "context":
            parts = [
                mrkdwn_text(e.get("text") or e.get("alt_text", ""), users) for e in block.get("elements", [])
            ]
            lines.append("  " + " · ".join(p for p in parts if p))
        elif kind == "actions":
            labels = [(e.get("text") or {}).get("text", "?") for e in block.get("elements", [])]
            lines.append(" ".join(f"[{label}]" for label in labels))
        elif kind == "divider":
            lines.append(RULE)
    return lines


def without_history(message_blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A card's first block and what follows its divider: the draft or the outcome, not the chat."""
    kinds = [b.get("type") for b in message_blocks]
    cut = kinds.index("divider") + 1 if "divider" in kinds else 1
    return message_blocks[:1] + message_blocks[cut:]


def mrkdwn_text(text: str, users: Mapping[str, str] | None = None) -> str:
    """Slack's <...> tokens (mentions, dates, links) in readable form, then its escaped characters."""
    names = users or {}

    def readable(match: re.Match) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + names.get(target[1:], label or target[1:])
        if target.startswith("!"):
            return label or "@" + target[1:].split("^")[0]
        if target.startswith("#"):
            return "#" + (label or target[1:])
        return label or target

    return _TOKEN.sub(readable, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
