"""Fan-controlled text made safe to show: in Slack mrkdwn (no mention, link or forged line) and in a terminal."""

from __future__ import annotations

import logging
import re

# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators: each can start a new
# line, move the cursor, ring the bell or hide text once it reaches Slack or a terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Bidirectional overrides and isolates: they make a text read differently from what it is.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# What `visible` marks: the above, except the tab and the line feed a reader sees as what they are.
_HIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# An `&` that already starts one of the three entities Slack decodes.
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")
# The `<…>` tokens the app itself writes in its messages: a user or channel mention, a date.
_OWN_TOKEN = re.compile(
    r"<(?:@[UW][A-Z0-9]{2,30}|#C[A-Z0-9]{2,30}|!date\^\d{1,12}\^[^<>|]{1,60}\|[^<>|]{1,60})>"
)
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
# A spreadsheet takes a cell starting with one of these for a formula (OWASP's list, CSV injection).
_FORMULA_START = ("=", "+", "-", "@")
CUT_MARK = "…"


def mrkdwn(text: str) -> str:
    """Escape Slack's control characters, so `<!channel>`, `<@U…>` or `<url|label>` show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn_once(text: str) -> str:
    """Like `mrkdwn` for a message the app composed, which may hold parts escaped already: `&amp;`,
    `&lt;` and `&gt;` stay as they are, so nothing is escaped twice; no `<` or `>` is left."""
    return _BARE_AMP.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str) -> str:
    """A name or handle on one line: every control character and line break becomes a space."""
    return _BIDI.sub("", _CONTROL.sub(" ", text))


def cut(text: str, limit: int, mark: str = CUT_MARK) -> str:
    """`text` whole when it fits `limit`, else its start and `mark`, `limit` characters in all."""
    return text if len(text) <= limit else text[: max(0, limit - len(mark))] + mark


def slack_name(text: str, limit: int | None = None) -> str:
    """A fan's name or handle for Slack mrkdwn: one line, cut to `limit` characters first, escaped."""
    line = one_line(text)
    return mrkdwn(cut(line, limit) if limit else line)


def visible(text: str) -> str:
    """Text as a reader must see it before it is sent: invisible controls and direction overrides shown as
    `⟨U+0007⟩`, line breaks (`\\n`, `\\r\\n`) kept as line breaks."""
    return _HIDDEN.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text.replace("\r\n", "\n"))


def mention(user_id: str) -> str:
    """`<@U…>` for what looks like a Slack user id, anything else as escaped text (never a broadcast)."""
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else mrkdwn(one_line(user_id))


def neutralised(message: str) -> str:
    """A finished mrkdwn message with only the app's own tokens left active (user and channel mentions,
    dates): broadcasts (`<!channel>`), links and stray `<`, `>` or `&` show as typed. Text escaped
    already is left as it is."""
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group())
        return f"\x00{len(kept) - 1}\x00"

    held = _OWN_TOKEN.sub(keep, message.replace("\x00", " "))
    safe = _BARE_AMP.sub("&amp;", held).replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], safe)


def terminal(text: str) -> str:
    """Text for a terminal or a log: control characters shown as visible escapes, never acted on."""
    text = _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return _CONTROL.sub(
        lambda m: repr(m.group())[1:-1] if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def terminal_lines(text: str) -> str:
    """Like `terminal`, but keeping line feeds: for a traceback, whose lines are the program's own."""
    return "\n".join(terminal(line) for line in text.split("\n"))


def csv_cell(value: object) -> object:
    """A CSV cell: text as `terminal` shows it, and a leading `'` where a spreadsheet would see a formula.

    Numbers are left as they are; a handle like `=HYPERLINK(…)` becomes `'=HYPERLINK(…)`, shown, not run.
    """
    if not isinstance(value, str):
        return value
    text = terminal(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class SafeFormatter(logging.Formatter):
    """A log formatter whose every record is one line of visible text, whatever a fan's name or message
    holds (escape sequences, BEL, carriage returns, a line break that would fake another record).
    Tracebacks keep their own line breaks."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return terminal(super().formatMessage(record))

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return terminal_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 (logging's name)
        return terminal_lines(super().formatStack(stack_info))
