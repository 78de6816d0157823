"""One chat as a webhook leads to it: read again through the creator's login, its row, a card ahead of its draft."""

from __future__ import annotations

from collections.abc import Sequence

from fanvue.errors import FanvueError
from fanvue.models import Chat, ChatMessages, LastMessage, Message, User
from inbox import conversation as conv
from inbox.creators import CreatorInbox
from inbox.services import Services
from store import drafts
from store.clock import to_iso
from store.drafts import NewDraft


def read_chat(svc: Services, inbox: CreatorInbox, fan_uuid: str) -> ChatMessages:
    """The chat's newest messages through the creator's own client; never marks it read."""
    try:
        messages = inbox.client.messages(fan_uuid, size=min(svc.history_size, 50))
    except FanvueError as exc:
        return ChatMessages(
            user_uuid=fan_uuid, messages=[], has_more=False, error=str(exc) or type(exc).__name__
        )
    return ChatMessages(user_uuid=fan_uuid, messages=messages, has_more=False, error=None)


def chat_row(fan: User, messages: Sequence[Message], creator_uuid: str) -> Chat | None:
    """The chat list's row for this chat, as its history shows it (Fanvue has no read of one row)."""
    ordered = conv.chronological(messages)
    if not ordered:
        return None
    last = ordered[-1]
    waiting = 0
    for message in reversed(ordered):
        if message.sender_uuid == creator_uuid:
            break
        waiting += 1
    return Chat(
        user=fan,
        unread_messages_count=waiting,
        is_read=waiting == 0,
        is_muted=False,
        last_message=LastMessage(
            uuid=last.uuid,
            sender_uuid=last.sender_uuid,
            text=last.text,
            sent_at=last.sent_at,
            type=last.type,
            has_media=last.has_media,
            media_type=last.media_type,
        ),
        last_message_at=last.sent_at,
    )


def coming_draft(inbox: CreatorInbox, fan: User, history: Sequence[Message]) -> NewDraft | None:
    """A card for the fan's latest message whose draft is still to be written."""
    latest = conv.latest_fan_message(history, inbox.uuid)
    if latest is None:
        return None
    turns = conv.to_turns(history, inbox.uuid)
    waiting = conv.conversation(inbox.name, fan.name, fan.handle, turns).unanswered()
    return NewDraft(
        creator_uuid=inbox.uuid,
        creator_handle=inbox.handle.lower(),
        fan_uuid=fan.uuid,
        fan_handle=fan.handle,
        fan_name=fan.name,
        fan_message_uuid=latest.uuid,
        fan_message_at=to_iso(latest.sent_at),
        waiting_since=conv.waiting_since(turns),
        unread_count=len(waiting),
        draft_text="",
        drafted_by=drafts.COMING,
        context=conv.card_context(turns),
    )
