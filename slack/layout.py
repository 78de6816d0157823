"""Block Kit pieces that always fit Slack's limits: sections, context, long text over several sections."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from safe_text import cut
from slack.limits import CONTEXT_ELEMENTS_MAX, SECTION_TEXT_MAX, TEXT_OBJECT_MAX

_ENTITY_MAX = len("&amp;")
_WRAP_LOOKBACK = 200  # how far back a long line may break at a space rather than inside a word
_PIECE_MIN = 200  # a long line starts in the current text when at least this much room is left


def section(text: str) -> dict[str, Any]:
    """A mrkdwn section; callers keep text within the limit, the cut only guards against a mistake."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, SECTION_TEXT_MAX)}}


def context(texts: list[str]) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": cut(t, TEXT_OBJECT_MAX)} for t in texts[:CONTEXT_ELEMENTS_MAX]
        ],
    }


def json_size(blocks: list[dict[str, Any]]) -> int:
    """How long the blocks are as Slack receives them, the measure of MESSAGE_BLOCKS_JSON_MAX."""
    return len(json.dumps(blocks, ensure_ascii=False))


def pack(lines: list[str], limit: int = SECTION_TEXT_MAX, prefix: str = "") -> list[str]:
    """Lines (escaped mrkdwn) packed into as few texts of at most `limit` characters as they fit, keeping
    every character: a line too long for what is left of a text continues in the next, after `prefix`."""
    chunks: list[str] = []
    chunk = ""
    for line in lines:
        while line:
            room = limit - len(chunk) - (1 if chunk else 0)
            if len(line) <= room:
                chunk, line = (f"{chunk}\n{line}" if chunk else line), ""
                continue
            if room >= _PIECE_MIN or not chunk:
                end = _break(line, room, prefix)
                chunk = f"{chunk}\n{line[:end]}" if chunk else line[:end]
                line = prefix + line[end:]
            chunks.append(chunk)
            chunk = ""
    if chunk or not chunks:
        chunks.append(chunk)
    return chunks


def _break(line: str, room: int, prefix: str) -> int:
    """Where a line too long for `room` ends its first piece: never inside an entity such as `&amp;`,
    at a space when one is near, and after `prefix` so that every piece carries some of the text."""
    end = room
    amp = line.rfind("&", end - _ENTITY_MAX + 1, end)
    if amp > len(prefix) and ";" not in line[amp:end]:
        end = amp
    space = line.rfind(" ", max(len(prefix) + 1, end - _WRAP_LOOKBACK), end)
    return space + 1 if space > len(prefix) else end


def local_time(moment: datetime, tokens: str = "{time}", fallback: str = "%H:%M") -> str:
    """A time Slack shows in each reader's own time zone (`tokens`, such as `{date_short} {time}`), with
    `fallback` (a strftime format) in UTC where it cannot."""
    return f"<!date^{int(moment.timestamp())}^{tokens}|{moment:{fallback}} UTC>"
