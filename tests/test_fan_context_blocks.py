"""The fan context line: each state of a fan, money from cents, ages, and hostile values shown as typed."""

from __future__ import annotations

import dataclasses
import html
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block

from slack.fan_context_blocks import NOT_READ, context_block, context_line, money
from store.fan_context import FanContext

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SUBSCRIBER = FanContext(
    creator_uuid="c",
    fan_uuid="f",
    fetched_at=NOW - timedelta(minutes=1),
    status="subscriber",
    total_spend_cents=123_400,
    biggest_payment_cents=20_000,
    last_purchase_at=NOW - timedelta(days=3, hours=2),
    subscribed_at=NOW - timedelta(days=200),
    renews_at=datetime(2027, 1, 12, tzinfo=UTC),
    auto_renew=True,
    online=True,
    last_seen_at=NOW,
)


def fan(**changes) -> FanContext:
    return dataclasses.replace(SUBSCRIBER, **changes)


def test_the_full_line_of_a_top_spending_subscriber():
    assert context_line(SUBSCRIBER, True, NOW) == (
        "⭐ top spender · subscriber, renews 12 Jan 2027 (auto-renew on) · spent $1,234.00, biggest $200.00, "
        "last purchase 3 days ago · online now"
    )


@pytest.mark.parametrize(
    "changes, expected",
    [
        (
            {"renews_at": datetime(2026, 12, 24, tzinfo=UTC), "auto_renew": False, "online": False},
            "subscriber, renews 24 Dec (auto-renew off) · spent $1,234.00, biggest $200.00, last purchase "
            "3 days ago · last seen just now",
        ),
        (
            {
                "status": "expired",
                "renews_at": None,
                "online": False,
                "last_seen_at": NOW - timedelta(hours=5),
            },
            "subscription expired · spent $1,234.00, biggest $200.00, last purchase 3 days ago · last seen "
            "5 hours ago",
        ),
        (
            {
                "status": "follower",
                "renews_at": None,
                "total_spend_cents": 0,
                "biggest_payment_cents": 0,
                "last_purchase_at": None,
                "online": False,
                "last_seen_at": None,
            },
            "follower, not subscribed · no purchases yet",
        ),
        (
            {"status": "not_contactable", "online": None, "last_seen_at": None},
            "⚠️ not contactable · spent $1,234.00, biggest $200.00, last purchase 3 days ago",
        ),
        (
            {"fetched_at": NOW - timedelta(minutes=40), "last_purchase_at": NOW - timedelta(minutes=20)},
            "subscriber, renews 12 Jan 2027 (auto-renew on) · spent $1,234.00, biggest $200.00, last purchase "
            "20 min ago · online 40 min ago",
        ),
        (
            {"renews_at": None, "total_spend_cents": 5, "biggest_payment_cents": 5, "last_purchase_at": None},
            "subscriber · spent $0.05, biggest $0.05 · online now",
        ),
    ],
)
def test_each_state_of_a_fan(changes, expected):
    assert context_line(fan(**changes), False, NOW) == expected


def test_context_not_read_yet_or_unavailable_is_one_short_line():
    assert context_line(None, False, NOW) == NOT_READ
    assert context_line(None, True, NOW) == f"⭐ top spender · {NOT_READ}"
    missing = FanContext("c", "f", NOW, unavailable="not_found")
    assert context_line(missing, False, NOW) == "Fanvue has no insights for this fan"
    hidden = FanContext(
        "c", "f", NOW, unavailable="forbidden", online=False, last_seen_at=NOW - timedelta(days=9)
    )
    assert (
        context_line(hidden, False, NOW) == "Fanvue does not show this fan's insights · last seen 9 days ago"
    )


@pytest.mark.parametrize(
    "cents, shown", [(0, "$0.00"), (7, "$0.07"), (123_456_789, "$1,234,567.89"), (-2_500, "-$25.00")]
)
def test_money_is_dollars_from_whole_cents(cents, shown):
    assert money(cents) == shown


@pytest.mark.parametrize(
    "status",
    [
        "<!channel> vip",
        "<https://evil.example|click> & more",
        "gold\nFake line: *Sent by @boss*",
        "\u202eevil\u2028tier",
        "x" * 500,
    ],
)
def test_a_status_fanvue_adds_is_shown_escaped_on_one_short_line(status):
    line = context_line(fan(status=status), False, NOW)
    head = line.split(" · ")[0]
    assert "<" not in line and ">" not in line and "\n" not in line and "\u2028" not in line
    assert "\u202e" not in line and len(html.unescape(head)) <= 40  # cut to 40, then escaped
    if "&" in status:
        assert "&amp;" in head
    assert line.endswith("online now")
    Block.parse(context_block(fan(status=status), True, NOW)).to_dict()


def test_the_block_is_a_valid_context_block():
    block = context_block(SUBSCRIBER, True, NOW)
    assert block["type"] == "context" and block["elements"][0]["text"] == context_line(SUBSCRIBER, True, NOW)
    assert Block.parse(block).to_dict() == block
