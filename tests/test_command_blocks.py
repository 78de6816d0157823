"""The /fanvue answer builders: pure functions checked by equality and by slack_sdk's own validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from slack_sdk.models.blocks import Block

from fanvue.models import UnreadCounts
from slack import command_blocks
from store.queries import AuditEntry, Backlog, TeammateStats, TeamStats, WaitingCard

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


def valid(message: dict) -> dict:
    assert message["text"]
    for block in message["blocks"]:
        Block.parse(block).to_dict()
    assert len(message["blocks"]) <= 50
    return message


def entry(i: int, text: str = "x" * 500, handle: str = "amy") -> AuditEntry:
    return AuditEntry(
        id=i,
        at="2026-11-05T11:00:00.000Z",
        actor="U0ALICE",
        action="sent",
        fan_handle=handle,
        fan_uuid=None,
        draft_id=i,
        text=text,
        details={},
    )


@pytest.mark.parametrize(
    "seconds, said",
    [
        (0, "0 s"),
        (42.4, "42 s"),
        (60, "1 min"),
        (250, "4 min 10 s"),
        (3600, "1 h"),
        (7500, "2 h 5 min"),
        (47 * 3600, "47 h"),
        (3 * 86400, "3 days"),
        (3 * 86400 + 4 * 3600 + 59, "3 days 4 h"),
        (None, "0 s"),
        (-5, "0 s"),
    ],
)
def test_durations_as_people_say_them(seconds, said):
    assert command_blocks.duration(seconds) == said


def test_a_hundred_long_entries_stay_inside_one_message():
    message = valid(command_blocks.audit_list([entry(i) for i in range(100)], "everything"))
    lines = [line for b in message["blocks"][1:] for line in b["text"]["text"].splitlines()]
    assert sum(len(line) for line in lines) <= command_blocks.MESSAGE_BUDGET + 200
    assert all(len(b["text"]["text"]) <= 3000 for b in message["blocks"])
    assert all("x" * command_blocks.AUDIT_TEXT_MAX not in line for line in lines)  # texts are cut
    assert "`python app.py audit` lists them all" in lines[-1]
    shown = len(lines) - 1
    assert lines[-1].startswith(f"…{100 - shown} more not shown here")


def test_fans_words_and_names_are_escaped():
    hostile = "<!channel> & <https://evil.example|click>"
    audit = valid(command_blocks.audit_list([entry(1, text=hostile, handle="a<b")], "everything"))
    card = WaitingCard(
        draft_id=1,
        fan_name=hostile,
        fan_handle="amy",
        waiting_since="2026-11-05T11:00:00.000Z",
        channel="C1",
        ts="1.2",
    )
    waiting = valid(command_blocks.unread(None, "<boom>", Backlog(pending=1, oldest=[card]), {}, NOW))
    for message in (audit, waiting):
        dumped = json.dumps(message["blocks"])
        assert "<!channel>" not in dumped and "<https://evil" not in dumped and "<boom>" not in dumped
        assert "&lt;!channel&gt; &amp;" in dumped


def test_unread_answer_with_fanvue_and_links():
    cards = [
        WaitingCard(
            draft_id=i,
            fan_name=f"Fan {i}",
            fan_handle=f"f{i}",
            waiting_since=f"2026-11-05T0{i}:00:00.000Z",
            channel="C1",
            ts=f"{i}.0",
        )
        for i in (1, 2)
    ]
    message = valid(
        command_blocks.unread(
            UnreadCounts(chats=1, messages=3),
            None,
            Backlog(pending=5, oldest=cards),
            {1: "https://x.slack.com/archives/C1/p10"},
            NOW,
        )
    )
    assert [b["text"]["text"] for b in message["blocks"]] == [
        "*Fanvue*: 1 unread chat, 3 unread messages.",
        "*5 cards* waiting for a decision; the longest has waited 11 h.",
        "• *Fan 1* (@f1) · waiting 11 h · <https://x.slack.com/archives/C1/p10|open card>\n"
        "• *Fan 2* (@f2) · waiting 10 h · _card not posted yet_\n"
        "…and 3 more.",
    ]
    assert (
        message["text"] == "Fanvue: 1 unread chat, 3 unread messages. 5 cards waiting for a decision; "
        "the longest has waited 11 h."
    )


def test_stats_answer():
    team = TeamStats(
        since="2026-10-29T12:00:00.000Z",
        teammates=[TeammateStats("U0BOB", 2, 1, 0), TeammateStats("scheduler", 1, 0, 0)],
        replies=4,
        median_reply_seconds=90.5,
        p90_reply_seconds=600,
    )
    message = valid(command_blocks.stats(team, "7d"))
    assert message["blocks"][1]["text"]["text"] == (
        "• <@U0BOB>: 2 sent, 1 edited and sent, 0 skipped\n• the app: 1 sent, 0 edited and sent, 0 skipped"
    )
    assert "a fan waited 1 min 30 s for a reply (median), 10 min at the 90th percentile" in message["text"]


def test_usage_with_and_without_a_problem():
    plain = valid(command_blocks.usage())
    assert plain["text"] == "How to use /fanvue" and len(plain["blocks"]) == 1
    problem = valid(command_blocks.usage("'x<y' is not a fan handle"))
    assert problem["blocks"][0]["text"]["text"] == "⚠️ 'x&lt;y' is not a fan handle"
    assert problem["blocks"][1] == plain["blocks"][0]


def test_fan_line_breaks_cannot_add_lines_to_an_answer():
    forged = "amy\n• <!date^1^{date_short}|today> · <@U0BOSS> · @x · *sent*"
    audit = valid(command_blocks.audit_list([entry(1, text=forged, handle=forged), entry(2)], "everything"))
    lines = [line for b in audit["blocks"][1:] for line in b["text"]["text"].split("\n")]
    assert len(lines) == 2 and "<@U0BOSS>" not in json.dumps(audit)
    card = WaitingCard(
        draft_id=1,
        fan_name=forged,
        fan_handle=forged,
        waiting_since="2026-11-05T11:00:00.000Z",
        channel="C1",
        ts="1",
    )
    waiting = valid(
        command_blocks.unread(None, "down\n*Fanvue*: 0", Backlog(pending=1, oldest=[card]), {}, NOW)
    )
    assert [len(b["text"]["text"].split("\n")) for b in waiting["blocks"]] == [1, 1, 1]


def test_what_the_asker_typed_is_escaped_in_the_notification_text_too():
    for message in (
        command_blocks.usage("`/fanvue <!channel>` is not a /fanvue command."),
        command_blocks.stats(
            TeamStats(
                since="2026-11-05T11:00:00.000Z",
                teammates=[],
                replies=0,
                median_reply_seconds=None,
                p90_reply_seconds=None,
            ),
            "<!here>",
        ),
    ):
        valid(message)
        assert "<!channel>" not in json.dumps(message) and "<!here>" not in json.dumps(message)


def test_only_a_real_permalink_becomes_a_link():
    card = WaitingCard(
        draft_id=1,
        fan_name="Amy",
        fan_handle="amy",
        waiting_since="2026-11-05T11:00:00.000Z",
        channel="C1",
        ts="1",
    )
    for link in ("https://x.slack.com/p1|evil>", "javascript:alert(1)", "https://a b"):
        message = valid(command_blocks.unread(None, None, Backlog(pending=1, oldest=[card]), {1: link}, NOW))
        assert "open card" not in json.dumps(message) and "_card not posted yet_" in json.dumps(message)


def test_a_hundred_entries_full_of_quotes_and_escapes_stay_inside_one_message():
    message = valid(
        command_blocks.audit_list([entry(i, text='"\\&<' * 200, handle="&" * 500) for i in range(100)], "all")
    )
    assert len(json.dumps(message["blocks"], ensure_ascii=False)) < 12_000
    assert "more not shown here" in message["blocks"][-1]["text"]["text"]
