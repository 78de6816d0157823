"""Block Kit for the draft card: pure functions from a draft to Slack payloads (the edit modal: edit_blocks)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from inbox.selling import OfferView
from safe_text import cut, mention, mrkdwn, mrkdwn_once, one_line, slack_name, visible
from slack.attach_blocks import ATTACH, TEMPLATE, confirm_offer, offer_blocks
from slack.edit_blocks import EDIT_BLOCK as EDIT_BLOCK
from slack.edit_blocks import EDIT_INPUT as EDIT_INPUT
from slack.edit_blocks import EDIT_MAX as EDIT_MAX
from slack.edit_blocks import EDIT_VIEW as EDIT_VIEW
from slack.edit_blocks import NAME_MAX as NAME_MAX
from slack.edit_blocks import edit_modal as edit_modal
from slack.edit_blocks import parse_edit_metadata as parse_edit_metadata
from slack.edit_blocks import row_number
from slack.fan_context_blocks import fan_blocks
from slack.flag_blocks import NOTE_MAX, confirm_send, flag_list
from slack.flag_blocks import flagged_edit_error as flagged_edit_error  # the edit modal's, for listeners
from slack.layout import context, json_size, local_time, pack, section
from slack.limits import MESSAGE_BLOCKS_JSON_MAX, SECTION_TEXT_MAX
from slack.note_blocks import NOTE
from slack.sla_blocks import sla_line
from slack.take_blocks import take_button, taker_line
from store import drafts
from store.clock import from_iso
from store.drafts import Draft
from store.fan_context import FanCard

SEND, EDIT, SKIP, REGENERATE = "draft_send", "draft_edit", "draft_skip", "draft_regenerate"
HISTORY_NAME_MAX = 40  # a fan's name before each of their messages
CONTEXT_TEXT_MAX = 280  # each earlier message: the chat is context, the draft is what matters
FALLBACK_TEXT_MAX = 200
HISTORY_ROOM = 600  # what is kept for the chat when the draft is long; the chat takes what is left
CUT_LABEL = "… _(cut)_"
QUOTE = "> "

DIVIDER = {"type": "divider"}
_SELL = ((ATTACH, "Attach"), (TEMPLATE, "Template"))  # selling from the card (slack.attach)
_MEDIA_LABEL = {"image": "🖼️ photo", "video": "🎬 video", "audio": "🎙️ voice note", "gif": "🎞️ gif"}


def card(
    draft: Draft,
    now: datetime,
    *,
    creator: str | None = None,
    fan: FanCard | None = None,
    offer: OfferView | None = None,
    sla_minutes: int | None = None,
    templates: bool = True,
) -> dict[str, Any]:
    """The whole message for a draft in its current state: `text` fallback plus blocks.

    The draft is shown whole, over several sections when it is long; when it cannot be (its escaped text
    is longer than one message holds), the card says so and has no Send button: the teammate reads and
    sends it from the editor. The chat above the draft gets the room that is left. `fan`: what the team
    knows about the fan (context line and notes), under the header; `offer`: the paid offer that goes out
    with the text (its Send asks for a confirmation naming price and items); `templates` False: no Template
    button (an agency login, which Fanvue gives no saved templates).
    """
    head = [_header(draft, now, creator), *(fan_blocks(fan, now) if fan is not None else [])]
    head += sla_line(draft, now, sla_minutes)
    if draft.status == drafts.PENDING:
        body = _pending(draft, head, offer, templates=templates)
    else:
        body = _decided(draft, head)
    history = (
        _history(draft, MESSAGE_BLOCKS_JSON_MAX - json_size([*head, *body]) - 2) if draft.context else []
    )
    return {"text": _fallback(draft), "blocks": [*head, *history, *body]}


def _pending(
    draft: Draft, head: list[dict[str, Any]], offer: OfferView | None = None, *, templates: bool = True
) -> list[dict[str, Any]]:
    notes = [
        mrkdwn_once(cut(n, NOTE_MAX)) for n in (draft.notice, draft.error and f"⚠️ {draft.error}") if n
    ] + _drafting_notes(draft)
    after = [*([flag_list(draft.flags)] if draft.flags else []), *([context(notes)] if notes else [])]
    after += taker_line(draft)
    if offer is not None:
        after = [*offer_blocks(offer, button_value(draft)), *after]
    if draft.drafted_by == drafts.COMING:  # the fan is still writing: the draft follows, Send with it
        return [
            DIVIDER,
            section("✍️ *A draft is coming* once the fan stops writing."),
            *after,
            _actions(draft, send=False, templates=templates),
        ]
    whole = _actions(draft, send=True, offer=offer, templates=templates)
    room = MESSAGE_BLOCKS_JSON_MAX - json_size([*head, DIVIDER, *after, whole, _too_long(draft)])
    shown, complete = _quoted_sections(
        f"*Draft reply* (v{draft.version}):", draft.draft_text, room - (HISTORY_ROOM if draft.context else 0)
    )
    if complete:
        return [DIVIDER, *shown, *after, whole]
    return [DIVIDER, *shown, _too_long(draft), *after, _actions(draft, send=False, templates=templates)]


def _too_long(draft: Draft) -> dict[str, Any]:
    editor = f" (the editor holds its first {EDIT_MAX})" if len(draft.draft_text) > EDIT_MAX else ""
    return section(
        f"✂️ *This draft is too long to show here in full* ({len(draft.draft_text)} characters), so it "
        f"cannot be sent from the card. Open *Edit* to read it{editor} and send what you see there."
    )


def _decided(draft: Draft, head: list[dict[str, Any]]) -> list[dict[str, Any]]:
    heading, text = _outcome(draft)
    if text is None:
        return [DIVIDER, section(heading)]
    room = MESSAGE_BLOCKS_JSON_MAX - json_size([*head, DIVIDER]) - (HISTORY_ROOM if draft.context else 0)
    shown, complete = _quoted_sections(heading, text, room - 400)
    if complete:
        return [DIVIDER, *shown]
    more = (
        "✂️ *The text is too long to show here in full* "
        f"({len(text)} characters); `python app.py audit --format json` has all of it."
    )
    return [DIVIDER, *shown, section(more)]


def _quoted_sections(heading: str, text: str, room: int) -> tuple[list[dict[str, Any]], bool]:
    """`heading` and `text` quoted line by line (so no line of it can pass for the app's own), as sections
    of at most Slack's 3000 characters; as many as `room` holds, and whether that was all of them."""
    lines = [heading, *(QUOTE + line for line in mrkdwn(visible(text)).split("\n"))]
    sections = [section(chunk) for chunk in pack(lines, SECTION_TEXT_MAX, prefix=QUOTE)]
    shown: list[dict[str, Any]] = []
    for block in sections:
        if json_size([*shown, block]) > room:
            return shown or [section(heading)], False
        shown.append(block)
    return shown, True


def button_value(draft: Draft) -> str:
    return f"{draft.id}:{draft.version}"


def parse_button_value(value: str) -> tuple[int, int]:
    """`id:version` from a button; ValueError for anything else."""
    draft_id, _, version = value.partition(":")
    return row_number(draft_id), row_number(version)


def _header(draft: Draft, now: datetime, creator: str | None = None) -> dict[str, Any]:
    waited = _duration(now - from_iso(draft.waiting_since))
    unread = f"{draft.unread_count} unread" if draft.unread_count else "no unread"
    name, handle = slack_name(draft.fan_name, NAME_MAX), slack_name(draft.fan_handle, NAME_MAX)
    # An app serving several creators says whose fan this is (a creator's handle is Fanvue data too).
    to = f"to *@{slack_name(creator, NAME_MAX)}* · " if creator else ""
    return section(f"💬 {to}*{name}* (@{handle}) · {unread} · waiting {waited}")


def _history(draft: Draft, room: int) -> list[dict[str, Any]]:
    """The chat, newest kept: one line per message, the fan's quoted; what does not fit `room` is left
    out and counted. No message can start a line of its own, so none passes for the app's or yours."""
    name = slack_name(draft.fan_name, HISTORY_NAME_MAX)
    lines = [
        f"{QUOTE}*{name}:* {_turn_text(turn)}" if turn["from_fan"] else f"*You:* {_turn_text(turn)}"
        for turn in draft.context
    ]
    kept: list[str] = []
    for line in reversed(lines):
        text = "\n".join([*_left_out(len(lines) - len(kept) - 1), line, *kept])
        if len(text) > SECTION_TEXT_MAX or json_size([section(text)]) > room:
            break
        kept.insert(0, line)
    return [section("\n".join([*_left_out(len(lines) - len(kept)), *kept]))]


def _left_out(count: int) -> list[str]:
    """The line that says how many earlier messages the card leaves out (none when it shows them all)."""
    return [f"_({count} earlier {'message' if count == 1 else 'messages'} not shown)_"] if count else []


def _turn_text(turn: dict[str, Any]) -> str:
    parts = []
    kind = (turn.get("type") or "").upper()
    if "TIP" in kind:
        price = turn.get("price_cents")
        parts.append(f"💸 tip{f' ${price / 100:.2f}' if isinstance(price, int | float) and price else ''}")
    if turn.get("media_type") or turn.get("has_media"):
        media = _MEDIA_LABEL.get(str(turn.get("media_type") or "").lower(), "📎 media")
        parts.append(f"[{media}]")
    if turn.get("text"):
        parts.append(mrkdwn(cut(one_line(str(turn["text"])), CONTEXT_TEXT_MAX, CUT_LABEL)))
    return " ".join(parts) or "_(empty message)_"


def _outcome(draft: Draft) -> tuple[str, str | None]:
    """The decided card's heading, and the text it shows quoted under it (None: no text)."""
    who = mention(draft.decided_by) if draft.decided_by else "the app"
    when = local_time(from_iso(draft.decided_at or draft.updated_at))
    text = draft.final_text or draft.draft_text
    if draft.status == drafts.SENT:
        return f"✅ *Sent by {who} at {when}*", text
    if draft.status == drafts.SKIPPED:
        return f"⏭️ *Skipped by {who} at {when}*: the chat stays unread in Fanvue.", None
    if draft.status == drafts.SUPERSEDED:
        answered = local_time(from_iso(draft.updated_at))
        return f"↩️ *Answered in Fanvue* ({answered}): no reply needed from here.", None
    if draft.status == drafts.FAILED:
        reason = mrkdwn_once(one_line(cut(draft.error or "Fanvue refused it", NOTE_MAX)))
        return f"❌ *Not sent* ({who} at {when}): {reason}", text
    if draft.status == drafts.SENDING:
        return f"⏳ *Sending…* ({who})", text
    return f"❓ *Checking whether the reply reached Fanvue* ({who})", text


def _actions(
    draft: Draft, *, send: bool, offer: OfferView | None = None, templates: bool = True
) -> dict[str, Any]:
    """The buttons; without Send when the card could not show the whole draft."""
    value = button_value(draft)
    buttons = []
    if send:
        button = {
            "type": "button",
            "action_id": SEND,
            "style": "primary",
            "value": value,
            "text": {"type": "plain_text", "text": "Send"},
        }
        if draft.flags:
            button["confirm"] = confirm_send(draft.flags, draft.fan_name)
        if offer is not None and offer.price_cents:
            button["confirm"] = confirm_offer(offer, draft.fan_name, bool(draft.flags))
        buttons.append(button)
    for action_id, label in (
        (EDIT, "Edit"),
        (REGENERATE, "Regenerate"),
        (SKIP, "Skip"),
        (NOTE, "Note"),
        *(sell for sell in _SELL if templates or sell[0] != TEMPLATE),
    ):
        buttons.append(
            {
                "type": "button",
                "action_id": action_id,
                "value": value,
                "text": {"type": "plain_text", "text": label},
            }
        )
    buttons.append(take_button(draft, value))
    return {"type": "actions", "block_id": "decide", "elements": buttons}


def _drafting_notes(draft: Draft) -> list[str]:
    """Small print: which model wrote the draft and how long it took, or why the template stood in."""
    seconds = f" in {draft.latency_ms / 1000:.1f} s" if draft.latency_ms is not None else ""
    model = mrkdwn(one_line(cut(draft.model or "the LLM", 80)))
    if draft.fallback_reason:
        reason = mrkdwn(one_line(cut(draft.fallback_reason, 200)))
        return [f"⚠️ {model} gave no usable draft{seconds} ({reason}): this is the template draft"]
    if draft.model:
        tokens = ""
        if draft.prompt_tokens is not None and draft.completion_tokens is not None:
            tokens = f" · {draft.prompt_tokens}+{draft.completion_tokens} tokens"
        return [f"Drafted by {model}{seconds}{tokens}"]
    return []


def _fallback(draft: Draft) -> str:
    """The notification's text: one line, the draft's start."""
    state = {
        drafts.PENDING: "Draft reply",
        drafts.SENT: "Sent",
        drafts.SKIPPED: "Skipped",
        drafts.SUPERSEDED: "Answered in Fanvue",
        drafts.FAILED: "Not sent",
    }.get(draft.status, "Sending")
    name, handle = slack_name(draft.fan_name, NAME_MAX), slack_name(draft.fan_handle, NAME_MAX)
    text = slack_name(draft.final_text or draft.draft_text, FALLBACK_TEXT_MAX)
    return f"{state} for {name} (@{handle}): {text}"


def _duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"
