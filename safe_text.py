"""Fan-controlled text made safe to show: in Slack mrkdwn (no mention, link or forged line) and in a terminal."""

from __future__ import annotations

import re

# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators: each can start a new
# line, move the cursor, ring the bell or hide text once it reaches Slack or a terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Bidirectional overrides and isolates: they make a text read differently from what it is.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def mrkdwn(text: str) -> str:
    """Escape Slack's control characters, so `<!channel>`, `<@U…>` or `<url|label>` show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str) -> str:
    """A name or handle on one line: every control character and line break becomes a space."""
    return _BIDI.sub("", _CONTROL.sub(" ", text))


def slack_name(text: str) -> str:
    """A fan's name or handle for Slack mrkdwn: one line, escaped."""
    return mrkdwn(one_line(text))


def terminal(text: str) -> str:
    """Text for a terminal or a log: control characters shown as visible escapes, never acted on."""
    text = _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return _CONTROL.sub(
        lambda m: repr(m.group())[1:-1] if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )
