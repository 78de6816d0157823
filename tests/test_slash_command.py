"""/fanvue end to end: signed slash commands into Bolt over HTTP, answers read from the Slack stand-in."""

from __future__ import annotations

import re

import pytest
from slack_sdk.models.blocks import Block

import safe_text
from standins.fanvue import Sandbox
from standins.slack_requests import slash_command_body
from store import drafts
from store.clock import utcnow
from tests import team_data
from tests.harness import CHANNEL, Harness
from tests.team_data import ALICE, BOB, CAROL, write_team_history

pytestmark = pytest.mark.both_modes

PERMALINK = re.compile(r"<(https://example\.slack\.com/archives/C0CARDS/p(\d+))\|open card>")


@pytest.fixture
def busy(tmp_path, slack, slack_mode):
    """More waiting fans than the answer lists."""
    with Sandbox(fans=30, seed=7) as sandbox:
        h = Harness(tmp_path / "busy.db", sandbox, slack, mode=slack_mode)
        yield h
        h.close()


def command(h: Harness, text: str, user: str = ALICE) -> dict:
    """Send `/fanvue <text>` as Slack does; the acknowledgement is empty and the one answer comes via response_url."""
    before = len(h.slack.responses())
    body = slash_command_body(
        command="/fanvue",
        text=text,
        user_id=user,
        user_name=user.lower(),
        channel_id=CHANNEL,
        response_url=h.slack.new_response_url(channel=CHANNEL, user=user),
        trigger_id=h.slack.new_trigger_id(user),
    )
    response = h.post(body)
    assert response.status_code == 200 and response.text == ""
    h.settle()
    answers = h.slack.responses()[before:]
    assert len(answers) == 1, answers
    answer = answers[0]
    assert answer["response_type"] == "ephemeral" and answer["text"]
    for block in answer["blocks"]:
        Block.parse(block).to_dict()  # slack_sdk checks Block Kit limits when serialising
    return answer


def shown(answer: dict) -> str:
    return "\n".join(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")


def listed(answer: dict) -> list[str]:
    return [line for line in shown(answer).splitlines() if line.startswith("• ")]


def pending_by_wait(h: Harness) -> list[drafts.Draft]:
    return drafts.with_status(h.store.db, drafts.PENDING)


# --- /fanvue and /fanvue unread ----------------------------------------------------------------


def test_unread_shows_fanvue_counts_and_the_oldest_cards_linked(busy: Harness):
    busy.cycle()
    waiting = pending_by_wait(busy)
    assert len(waiting) > 10
    counts = busy.sandbox.world.unread_counts()
    answer = command(busy, "")
    text = shown(answer)
    assert (
        f"{counts['unreadChatsCount']} unread chats, {counts['unreadMessagesCount']} unread messages" in text
    )
    assert f"{len(waiting)} cards* waiting for a decision; the longest has waited" in text
    lines = listed(answer)
    assert len(lines) == 10
    for line, draft in zip(lines, waiting[:10], strict=True):
        assert line.startswith(f"• *{safe_text.mrkdwn(draft.fan_name)}* (@{draft.fan_handle}) · waiting ")
        [(link, stamp)] = PERMALINK.findall(line)
        assert stamp == draft.ts.replace(".", "")
    assert f"…and {len(waiting) - 10} more." in text
    asked = busy.slack.calls("chat.getPermalink")
    assert sorted(c.args["message_ts"] for c in asked) == sorted(d.ts for d in waiting[:10])
    assert len(busy.slack.messages(CHANNEL)) == len(waiting)  # nothing was posted to the channel


def test_unread_is_also_the_default(harness: Harness):
    harness.cycle()
    assert listed(command(harness, "unread")) == listed(command(harness, ""))


def test_unread_with_nothing_waiting(harness: Harness):
    answer = command(harness, "unread")
    assert "No cards are waiting for a decision." in shown(answer)
    assert listed(answer) == []


def test_a_card_not_posted_yet_is_listed_without_a_link(harness: Harness):
    harness.slack.fail("chat.postMessage", error="channel_not_found", count=100)
    harness.cycle()
    lines = listed(command(harness, ""))
    assert lines and all(line.endswith("_card not posted yet_") for line in lines)
    assert harness.slack.calls("chat.getPermalink") == []


def test_fanvue_down_still_answers_with_the_local_cards(harness: Harness):
    harness.cycle()
    waiting = pending_by_wait(harness)
    world = harness.sandbox.world
    world.clear_requests()
    world.inject_fault("500", count=10, path="/chats/unread")
    answer = command(harness, "unread")
    text = shown(answer)
    assert "Fanvue is unreachable" in text and "Fanvue is unreachable" in answer["text"]
    assert "Traceback" not in text
    assert f"{len(waiting)} cards* waiting for a decision" in text
    assert len(PERMALINK.findall(text)) == len(waiting)
    assert world.request_count("GET", "/chats/unread") == 1 + harness.fanvue.read_retries


def test_the_acknowledgement_does_not_wait_for_fanvue(harness: Harness):
    harness.cycle()
    harness.sandbox.world.inject_fault("hang", count=1, path="/chats/unread")
    body = slash_command_body(
        command="/fanvue",
        text="",
        user_id=ALICE,
        user_name="alice",
        channel_id=CHANNEL,
        response_url=harness.slack.new_response_url(channel=CHANNEL, user=ALICE),
        trigger_id=harness.slack.new_trigger_id(ALICE),
    )
    response = harness.post(body)
    # Acknowledged while the Fanvue request is still hanging: nothing has been answered yet.
    assert response.status_code == 200
    assert harness.slack.responses() == []
    harness.settle()
    [answer] = harness.slack.responses()
    counts = harness.sandbox.world.unread_counts()
    assert f"{counts['unreadChatsCount']} unread chats" in shown(answer)


# --- /fanvue audit -------------------------------------------------------------------------------


@pytest.fixture
def team(harness: Harness):
    return write_team_history(harness.store.db, utcnow())


def test_audit_lists_newest_first_with_who_fan_action_and_text(harness: Harness, team):
    lines = listed(command(harness, "audit edited"))
    assert [re.search(r"· @(\w+) ·", line).group(1) for line in lines] == ["jon", "dan", "ivy"]
    assert "<@U0ALICE> · @dan · *edited-and-sent* · “Reply to Dan by U0ALICE”" in lines[1]
    assert lines[1].startswith("• <!date^")


# What Slack sends for `/fanvue audit @alice` with should_escape: true (the manifest's setting): the mention
# with the user's name, without it (newer clients), or with a display name that has spaces; an ID also works.
@pytest.mark.parametrize("mention", ["<@U0ALICE|alice>", "<@U0ALICE>", "<@U0ALICE|Alice Smith>", "U0ALICE"])
def test_audit_by_teammate(harness: Harness, team, mention):
    lines = listed(command(harness, f"audit {mention}"))
    assert len(lines) == 6 and all("<@U0ALICE>" in line for line in lines)
    assert listed(command(harness, f"audit sent {mention}")) == [line for line in lines if "*sent*" in line]


def test_audit_by_fan_by_period_and_with_a_limit(harness: Harness, team):
    assert [line.split(" · ")[3] for line in listed(command(harness, "audit amy"))] == ["*drafted*", "*sent*"]
    assert len(listed(command(harness, "audit sent"))) == 8
    assert len(listed(command(harness, "audit sent 7d"))) == 7
    assert len(listed(command(harness, "audit 2w sent"))) == 8
    assert len(listed(command(harness, "audit sent limit 3"))) == 3
    assert "1 entry, newest first" in shown(command(harness, "audit failed"))


def test_audit_filters_combine_in_any_order(harness: Harness, team):
    lines = listed(command(harness, f"audit skipped <@{BOB}|bob> 24h"))
    assert sorted(re.search(r"@(\w+) · \*skipped", line).group(1) for line in lines) == ["max", "ned"]
    assert len(listed(command(harness, f"audit limit 2 sent 7d {ALICE}"))) == 2
    assert len(listed(command(harness, f"audit jon edited <@{CAROL}>"))) == 1
    assert "No audit entries match" in shown(command(harness, f"audit amy <@{BOB}>"))


def test_a_bare_at_name_says_how_to_name_the_teammate(harness: Harness, team):
    """What Slack sends with should_escape: false, or for a name it could not match to a member."""
    answer = command(harness, "audit @alice sent")
    assert "@alice needs to be a mention, but reached the app as plain text" in shown(answer)
    assert "should_escape: true" in shown(answer) and "user ID" in shown(answer)
    assert "/fanvue audit" in shown(answer)  # the usage follows


def test_what_the_user_typed_arrives_escaped_and_is_read_as_typed(harness: Harness, team):
    """With should_escape: true Slack sends &, < and > as entities; filters and messages see the characters."""
    answer = command(harness, "audit &lt;b&gt;amy&lt;/b&gt; &amp;")
    assert safe_text.mrkdwn("'<b>amy</b>' is not a fan handle") in shown(answer)
    assert "&amp;lt;" not in shown(answer)
    lines = listed(command(harness, "audit amy &lt;@U0ALICE&gt;"))  # a mention typed out by hand
    assert lines == listed(command(harness, "audit amy <@U0ALICE>"))


# --- /fanvue stats -------------------------------------------------------------------------------


def test_stats_over_the_default_week(harness: Harness, team):
    answer = command(harness, "stats")
    text = shown(answer)
    assert "*The last 7d*" in text
    assert (
        "10 replies sent; a fan waited 5 min 30 s for a reply (median), 9 min at the 90th percentile." in text
    )
    assert "• <@U0ALICE>: 3 sent, 1 edited and sent, 1 skipped" in text
    assert "• <@U0BOB>: 3 sent, 0 edited and sent, 2 skipped" in text
    assert "• <@U0CAROL>: 1 sent, 2 edited and sent, 0 skipped" in text
    assert (team_data.MEDIAN_7D, team_data.P90_7D) == (330, 540)


def test_stats_over_a_period_given(harness: Harness, team):
    text = shown(command(harness, "stats 30d"))
    assert (
        "11 replies sent; a fan waited 6 min for a reply (median), 1 h 40 min at the 90th percentile." in text
    )
    assert "• <@U0ALICE>: 4 sent, 1 edited and sent, 1 skipped" in text


def test_stats_with_no_decisions(harness: Harness):
    text = shown(command(harness, "stats 24h"))
    assert "No replies were sent in this period." in text and "No decisions in this period." in text


# --- help and what cannot be understood -----------------------------------------------------------


@pytest.mark.parametrize(
    "text, problem",
    [
        ("help", None),
        ("HELP", None),
        ("frobnicate", "`/fanvue frobnicate` is not a /fanvue command."),
        ("unread now", "`/fanvue unread now` is not a /fanvue command."),
        ("help me", "`/fanvue help me` is not a /fanvue command."),
        ("stats yesterday", "'yesterday' is not a period"),
        ("stats 7d 24h", "`/fanvue stats 7d 24h` is not a /fanvue command."),
        ("audit limit 500", "limit should be between 1 and 100"),
        ("audit sent skipped", "give one action at most"),
        ("audit <script>", "is not a fan handle"),
    ],
)
def test_usage_instead_of_an_error(harness: Harness, text, problem):
    answer = command(harness, text)
    body = shown(answer)
    assert "*/fanvue audit*" in body and "*/fanvue stats*" in body
    if problem is None:
        assert "⚠️" not in body
    else:
        assert safe_text.mrkdwn(problem) in body
        assert "<script>" not in body  # what the user typed is shown, not interpreted
