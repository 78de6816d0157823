"""Parsing of Fanvue API objects, including the shapes real answers take."""

from datetime import UTC, datetime

import pytest

from fanvue.errors import FanvueError, MalformedResponse
from fanvue.models import Chat, ChatMessages, Me, Message, UnreadCounts, User, page_items

FAN = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
CREATOR = "3bbe6394-2830-4646-a8ba-4a0a05426947"


def chat_row(**overrides):
    row = {
        "createdAt": "2024-01-15T00:00:00.000Z",
        "isMuted": False,
        "isRead": False,
        "lastMessage": {
            "hasMedia": False,
            "mediaType": None,
            "senderUuid": FAN,
            "sentAt": "2024-01-15T10:30:00.000Z",
            "sentByUserId": None,
            "text": "Hey there!",
            "type": "SINGLE_RECIPIENT",
            "uuid": "a0000000-0000-4000-8000-000000000001",
        },
        "lastMessageAt": "2024-01-15T10:30:00.000Z",
        "unreadMessagesCount": 3,
        "user": {
            "avatarUrl": None,
            "displayName": "Sarah Jones",
            "handle": "sarah-jones",
            "isTopSpender": True,
            "nickname": "SarahK",
            "registeredAt": "2024-01-10T12:00:00.000Z",
            "uuid": FAN,
        },
    }
    row.update(overrides)
    return row


def message(**overrides):
    msg = {
        "uuid": "b0000000-0000-4000-8000-000000000002",
        "text": "hello",
        "sentAt": "2024-01-15T00:00:00.000Z",
        "sender": {"uuid": FAN, "handle": "sarah-jones"},
        "recipient": {"uuid": CREATOR, "handle": "creator"},
        "hasMedia": False,
        "mediaType": None,
        "mediaUuids": [],
        "type": "SINGLE_RECIPIENT",
        "pricing": None,
        "purchasedAt": None,
        "sentByUserId": None,
        "isRead": True,
    }
    msg.update(overrides)
    return msg


def test_chat_row_parses_with_aware_utc_times_and_keeps_unknown_fields():
    chat = Chat.from_api(chat_row(brandNewField={"x": 1}))
    assert chat.user == User(FAN, "sarah-jones", "Sarah Jones", "SarahK")
    assert chat.user.extra["isTopSpender"] is True
    assert chat.unread_messages_count == 3
    assert (chat.is_read, chat.is_muted) == (False, False)
    assert chat.last_message.text == "Hey there!"
    assert chat.last_message.sender_uuid == FAN
    assert chat.last_message.sent_at == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert chat.last_message_at.tzinfo is not None and chat.last_message_at.utcoffset().total_seconds() == 0
    assert chat.extra == {"createdAt": "2024-01-15T00:00:00.000Z", "brandNewField": {"x": 1}}


def test_chat_without_last_message():
    chat = Chat.from_api(chat_row(lastMessage=None, lastMessageAt=None, unreadMessagesCount=0.0))
    assert chat.last_message is None
    assert chat.last_message_at is None
    assert chat.unread_messages_count == 0


def test_user_name_falls_back_from_display_name_to_nickname_to_handle():
    assert (
        User.from_api({"uuid": FAN, "handle": "h", "displayName": "さくら", "nickname": "n"}).name == "さくら"
    )
    assert User.from_api({"uuid": FAN, "handle": "h", "displayName": None, "nickname": "n"}).name == "n"
    assert User.from_api({"uuid": FAN, "handle": "h", "displayName": "", "nickname": None}).name == "h"


def test_unknown_message_type_is_accepted():
    msg = Message.from_api(message(type="GHOST_PROMOTION", surprise=True))
    assert msg.type == "GHOST_PROMOTION"
    assert msg.extra["surprise"] is True
    last = Chat.from_api(chat_row(lastMessage={**chat_row()["lastMessage"], "type": "GHOST_PROMOTION"}))
    assert last.last_message.type == "GHOST_PROMOTION"


def test_media_only_message_has_no_text():
    msg = Message.from_api(message(text=None, hasMedia=True, mediaType="image"))
    assert msg.text is None
    assert (msg.has_media, msg.media_type) == (True, "image")


def test_message_fields_and_price_from_pricing():
    msg = Message.from_api(message(pricing={"USD": {"price": 999}}, hasMedia=None))
    assert msg.price_cents == 999
    assert msg.has_media is False
    assert msg.sender_uuid == FAN
    assert msg.recipient_uuid == CREATOR
    assert msg.is_read is True
    assert msg.sent_at == datetime(2024, 1, 15, tzinfo=UTC)
    assert Message.from_api(message()).price_cents is None


def test_message_with_empty_recipient_object():
    assert Message.from_api(message(recipient={})).recipient_uuid is None


@pytest.mark.parametrize(
    ("build", "field_name"),
    [
        (lambda: Chat.from_api({k: v for k, v in chat_row().items() if k != "user"}), "chat.user"),
        (lambda: Chat.from_api(chat_row(user={"handle": "x"})), "chat.user.uuid"),
        (lambda: Chat.from_api(chat_row(unreadMessagesCount="3")), "chat.unreadMessagesCount"),
        (lambda: Chat.from_api(chat_row(isRead=None)), "chat.isRead"),
        (lambda: Chat.from_api(chat_row(lastMessage="oops")), "chat.lastMessage"),
        (lambda: Message.from_api({k: v for k, v in message().items() if k != "sender"}), "message.sender"),
        (lambda: Message.from_api(message(sentAt="yesterday")), "message.sentAt"),
        (lambda: Message.from_api(message(sentAt=None)), "message.sentAt"),
        (lambda: Message.from_api(message(type=7)), "message.type"),
        (lambda: Me.from_api({"handle": "x"}), "me.uuid"),
        (lambda: UnreadCounts.from_api({"unreadChatsCount": 1}), "unread.unreadMessagesCount"),
        (
            lambda: UnreadCounts.from_api({"unreadChatsCount": True, "unreadMessagesCount": 1}),
            "unreadChatsCount",
        ),
        (lambda: page_items({"data": []}), "page.pagination"),
        (lambda: page_items([]), "page"),
    ],
)
def test_missing_or_mistyped_required_field_raises_malformed_response_naming_it(build, field_name):
    with pytest.raises(MalformedResponse) as caught:
        build()
    assert field_name in str(caught.value)
    assert isinstance(caught.value, FanvueError)


def test_me_and_unread_counts():
    me = Me.from_api({"uuid": CREATOR, "handle": "c", "displayName": "Creator", "email": "c@example.com"})
    assert (me.uuid, me.handle, me.display_name, me.extra) == (
        CREATOR,
        "c",
        "Creator",
        {"email": "c@example.com"},
    )
    counts = UnreadCounts.from_api(
        {"unreadChatsCount": 5, "unreadMessagesCount": 12, "unreadNotifications": {}}
    )
    assert counts == UnreadCounts(chats=5, messages=12)


def test_batch_entry_with_messages_and_with_error():
    ok = ChatMessages.from_api({"messages": [message()], "hasMore": True, "oldestMessageUuid": None}, FAN)
    assert (ok.user_uuid, len(ok.messages), ok.has_more, ok.error) == (FAN, 1, True, None)
    failed = ChatMessages.from_api({"error": "forbidden"}, FAN)
    assert (failed.messages, failed.has_more, failed.error) == ([], False, "forbidden")


def test_page_items():
    assert page_items({"data": [{"a": 1}], "pagination": {"page": 1, "size": 1, "hasMore": True}}) == (
        [{"a": 1}],
        True,
    )
