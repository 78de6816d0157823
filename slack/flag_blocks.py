"""The guardrails' findings on the card: the 🚩 list, Send's confirm dialog, the editor's error."""

from __future__ import annotations

from typing import Any

from safe_text import cut, mrkdwn, one_line, slack_name
from slack.layout import section
from slack.limits import CONFIRM_TEXT_MAX, CONFIRM_TITLE_MAX

NOTE_MAX = 500  # a notice or an error under the draft, the editor's error
FLAGS_SHOWN = 5
MATCH_MAX = 60  # the words that made a rule flag the draft
NAME_MAX = 40  # the fan's name in the confirm dialog


def confirm_send(flags: list[dict[str, str]], fan_name: str) -> dict[str, Any]:
    """Slack's own dialog before a flagged draft goes out: it names the rules the draft breaks, whole; when
    they do not fit the dialog's 300 characters it points to the card's list instead of cutting it."""
    rules = list(dict.fromkeys(one_line(str(flag.get("rule", ""))) for flag in flags))
    name = slack_name(fan_name, NAME_MAX)
    ask = f" Send it to {name} anyway?"
    text = next(
        (
            candidate + ask
            for candidate in (
                f"This draft {mrkdwn(flag_summary(flags))}.",
                f"This draft breaks {_plural(len(rules), 'rule')}: {mrkdwn(', '.join(rules))}.",
                f"This draft breaks {_plural(len(rules), 'rule')}, listed on the card under 🚩.",
            )
            if len(candidate + ask) <= CONFIRM_TEXT_MAX
        ),
        f"This draft breaks {_plural(len(rules), 'rule')}, listed on the card under 🚩. Send it anyway?",
    )
    return {
        "title": {"type": "plain_text", "text": cut(f"Flagged: {', '.join(rules)}", CONFIRM_TITLE_MAX)},
        "text": {"type": "mrkdwn", "text": text},
        "confirm": {"type": "plain_text", "text": "Send anyway"},
        "deny": {"type": "plain_text", "text": "Go back"},
        "style": "danger",
    }


def flag_list(flags: list[dict[str, str]]) -> dict[str, Any]:
    """What the guardrails found in the whole draft, one flag a line; past FLAGS_SHOWN, how many more."""
    lines = ["🚩 *Check before sending:*"]
    lines += [f"• {mrkdwn(_flag_text(flag))}" for flag in flags[:FLAGS_SHOWN]]
    if len(flags) > FLAGS_SHOWN:
        lines.append(f"…and {len(flags) - FLAGS_SHOWN} more.")
    return section("\n".join(lines))


def _flag_text(flag: dict[str, str]) -> str:
    message = one_line(cut(str(flag.get("message", "")), NOTE_MAX))
    match = one_line(cut(str(flag.get("match", "")), MATCH_MAX))
    return f"{message} ({one_line(str(flag.get('rule', '')))}: “{match}”)"


def flag_summary(flags: list[dict[str, str]]) -> str:
    """`moves the fan to another app or site (other-apps: “snapchat”)`, one flag after another."""
    return "; ".join(_flag_text(f) for f in flags)


def flagged_edit_error(flags: list[dict[str, str]]) -> str:
    """Shown under the modal's text (plain text): what is wrong, and how to send it anyway."""
    advice = " Change it, or submit the same text again to send it anyway."
    return f"🚩 This text {cut(flag_summary(flags), NOTE_MAX - len(advice) - 20)}.{advice}"


def _plural(n: int, one: str) -> str:
    return f"{n} {one if n == 1 else one + 's'}"
