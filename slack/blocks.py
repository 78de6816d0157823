"""Block Kit for the draft card and the edit modal: pure functions from a draft to Slack payloads."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from store import drafts
from store.clock import from_iso
from store.drafts import Draft

SEND, EDIT, SKIP, REGENERATE = "draft_send", "draft_edit", "draft_skip", "draft_regenerate"
EDIT_VIEW = "draft_edit_submit"
EDIT_BLOCK, EDIT_INPUT = "reply", "text"
EDIT_MAX = 3000  # Slack's limit for a plain_text_input, under Fanvue's 5000
CONTEXT_TEXT_MAX = 280
SECTION_MAX = 3000
NOTE_MAX = 500  # notices and errors under the draft: keeps the whole card well inside Slack's message size
CONFIRM_TEXT_MAX = 300  # Slack's limit for a confirm dialog's text

_MEDIA_LABEL = {"image": "🖼️ photo", "video": "🎬 video", "audio": "🎙️ voice note", "gif": "🎞️ gif"}


def card(draft: Draft, now: datetime) -> dict[str, Any]:
    """The whole message for a draft in its current state: `text` fallback plus blocks."""
    blocks: list[dict[str, Any]] = [_header(draft, now)]
    if draft.context:
        blocks.append(_section(_context_lines(draft)))
    blocks.append({"type": "divider"})
    if draft.status == drafts.PENDING:
        blocks.append(_section(f"*Draft reply* (v{draft.version}):\n{_quote(draft.draft_text)}"))
        if draft.flags:
            blocks.append(
                _section(f"🚩 *Check before sending:* {_escape(_cut(flag_summary(draft.flags), NOTE_MAX))}")
            )
        notes = [
            _cut(n, NOTE_MAX)
            for n in (draft.notice, draft.error and f"⚠️ {_escape(_cut(draft.error, NOTE_MAX))}")
            if n
        ]
        notes += _drafting_notes(draft)
        if notes:
            blocks.append(_context(notes))
        blocks.append(_actions(draft))
    else:
        blocks.append(_section(_outcome(draft)))
    return {"text": _fallback(draft), "blocks": blocks}


def button_value(draft: Draft) -> str:
    return f"{draft.id}:{draft.version}"


def parse_button_value(value: str) -> tuple[int, int]:
    """`id:version` from a button; ValueError for anything else."""
    draft_id, _, version = value.partition(":")
    return _row_number(draft_id), _row_number(version)


def edit_modal(draft: Draft) -> dict[str, Any]:
    """The modal a teammate edits a draft in; the draft id and version travel in private_metadata."""
    return {
        "type": "modal",
        "callback_id": EDIT_VIEW,
        "title": {"type": "plain_text", "text": "Edit reply"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"draft_id": draft.id, "version": draft.version}),
        "blocks": [
            _context([f"Reply to *{_escape(draft.fan_name)}* (@{_escape(draft.fan_handle)}) on Fanvue"]),
            {
                "type": "input",
                "block_id": EDIT_BLOCK,
                "label": {"type": "plain_text", "text": "Message"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_INPUT,
                    "multiline": True,
                    "max_length": EDIT_MAX,
                    "initial_value": draft.draft_text[:EDIT_MAX],
                },
            },
        ],
    }


def parse_edit_metadata(metadata: str) -> tuple[int, int]:
    """(draft id, version) from the modal's private_metadata; ValueError when it is not ours."""
    try:
        data = json.loads(metadata)
        return _row_number(data["draft_id"]), _row_number(data["version"])
    except (TypeError, KeyError, json.JSONDecodeError) as exc:
        raise ValueError("not an edit modal of this app") from exc


def _row_number(value: object) -> int:
    """A draft id or version: SQLite refuses integers past 64 bits with an error, not with "no such row"."""
    number = int(value)
    if not 0 <= number < 2**63:
        raise ValueError(f"{value!r} is not a draft id or version")
    return number


def _header(draft: Draft, now: datetime) -> dict[str, Any]:
    waited = _duration(now - from_iso(draft.waiting_since))
    unread = f"{draft.unread_count} unread" if draft.unread_count else "no unread"
    line = f"💬 *{_escape(draft.fan_name)}* (@{_escape(draft.fan_handle)}) · {unread} · waiting {waited}"
    return _section(line)


def _context_lines(draft: Draft) -> str:
    lines = []
    for turn in draft.context:
        who = _escape(draft.fan_name) if turn["from_fan"] else "You"
        lines.append(f"*{who}:* {_turn_text(turn)}")
    return _cut("\n".join(lines), SECTION_MAX)


def _turn_text(turn: dict[str, Any]) -> str:
    parts = []
    kind = (turn.get("type") or "").upper()
    if "TIP" in kind:
        price = turn.get("price_cents")
        parts.append(f"💸 tip{f' ${price / 100:.2f}' if price else ''}")
    if turn.get("media_type") or turn.get("has_media"):
        parts.append(f"[{_MEDIA_LABEL.get((turn.get('media_type') or '').lower(), '📎 media')}]")
    if turn.get("text"):
        parts.append(_escape(_cut(turn["text"], CONTEXT_TEXT_MAX)))
    return " ".join(parts) or "_(empty message)_"


def _outcome(draft: Draft) -> str:
    who = f"<@{draft.decided_by}>" if draft.decided_by else "the app"
    when = _slack_time(draft.decided_at or draft.updated_at)
    text = _quote(draft.final_text or draft.draft_text)
    if draft.status == drafts.SENT:
        return f"✅ *Sent by {who} at {when}*\n{text}"
    if draft.status == drafts.SKIPPED:
        return f"⏭️ *Skipped by {who} at {when}*: the chat stays unread in Fanvue."
    if draft.status == drafts.SUPERSEDED:
        return f"↩️ *Answered in Fanvue* ({_slack_time(draft.updated_at)}): no reply needed from here."
    if draft.status == drafts.FAILED:
        return f"❌ *Not sent* ({who} at {when}): {_escape(draft.error or 'Fanvue refused it')}\n{text}"
    if draft.status == drafts.SENDING:
        return f"⏳ *Sending…* ({who})\n{text}"
    return f"❓ *Checking whether the reply reached Fanvue* ({who})\n{text}"


def _actions(draft: Draft) -> dict[str, Any]:
    value = button_value(draft)
    send = {
        "type": "button",
        "action_id": SEND,
        "style": "primary",
        "value": value,
        "text": {"type": "plain_text", "text": "Send"},
    }
    if draft.flags:
        send["confirm"] = _confirm_send(draft)
    return {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            send,
            {
                "type": "button",
                "action_id": EDIT,
                "value": value,
                "text": {"type": "plain_text", "text": "Edit"},
            },
            {
                "type": "button",
                "action_id": REGENERATE,
                "value": value,
                "text": {"type": "plain_text", "text": "Regenerate"},
            },
            {
                "type": "button",
                "action_id": SKIP,
                "value": value,
                "text": {"type": "plain_text", "text": "Skip"},
            },
        ],
    }


def _confirm_send(draft: Draft) -> dict[str, Any]:
    """Slack's own dialog before a flagged draft goes out: it names the rules the draft breaks."""
    rules = ", ".join(dict.fromkeys(flag.get("rule", "") for flag in draft.flags))
    text = f"This draft {flag_summary(draft.flags)}. Send it to {draft.fan_name} anyway?"
    return {
        "title": {"type": "plain_text", "text": _cut(f"Flagged: {rules}", 100)},
        "text": {"type": "mrkdwn", "text": _cut(_escape(text), CONFIRM_TEXT_MAX)},
        "confirm": {"type": "plain_text", "text": "Send anyway"},
        "deny": {"type": "plain_text", "text": "Go back"},
        "style": "danger",
    }


def flag_summary(flags: list[dict[str, str]]) -> str:
    """`moves the fan to another app or site (other-apps: “snapchat”)`, one flag after another."""
    return "; ".join(f"{f.get('message', '')} ({f.get('rule', '')}: “{f.get('match', '')}”)" for f in flags)


def flagged_edit_error(flags: list[dict[str, str]]) -> str:
    """Shown under the modal's text: what is wrong, and how to send it anyway."""
    return _cut(
        f"🚩 This text {flag_summary(flags)}. Change it, or submit the same text again to send it anyway.",
        NOTE_MAX,
    )


def _drafting_notes(draft: Draft) -> list[str]:
    """Small print: which model wrote the draft and how long it took, or why the template stood in."""
    seconds = f" in {draft.latency_ms / 1000:.1f} s" if draft.latency_ms is not None else ""
    model = _escape(_cut(draft.model or "the LLM", 80))
    if draft.fallback_reason:
        return [
            f"⚠️ {model} gave no usable draft{seconds} ({_escape(_cut(draft.fallback_reason, 200))}): "
            "this is the template draft"
        ]
    if draft.model:
        tokens = ""
        if draft.prompt_tokens is not None and draft.completion_tokens is not None:
            tokens = f" · {draft.prompt_tokens}+{draft.completion_tokens} tokens"
        return [f"Drafted by {model}{seconds}{tokens}"]
    return []


def _fallback(draft: Draft) -> str:
    state = {
        drafts.PENDING: "Draft reply",
        drafts.SENT: "Sent",
        drafts.SKIPPED: "Skipped",
        drafts.SUPERSEDED: "Answered in Fanvue",
        drafts.FAILED: "Not sent",
    }.get(draft.status, "Sending")
    return _escape(
        f"{state} for {draft.fan_name} (@{draft.fan_handle}): {_cut(draft.final_text or draft.draft_text, 200)}"
    )


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_MAX)}}


def _context(texts: list[str]) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": _cut(t, SECTION_MAX)} for t in texts[:10]],
    }


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in _escape(_cut(text, SECTION_MAX - 200)).splitlines() or [""])


def _escape(text: str) -> str:
    """Slack's three control characters; fans' words must not become mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _duration(delta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def _slack_time(iso: str) -> str:
    """HH:MM in each reader's own time zone, with a UTC fallback."""
    moment = from_iso(iso)
    return f"<!date^{int(moment.timestamp())}^{{time}}|{moment:%H:%M} UTC>"
