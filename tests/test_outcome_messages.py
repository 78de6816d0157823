"""What the clicker is told in Slack: words a fan or Fanvue chose arrive escaped, on one line."""

from __future__ import annotations

import pytest

from fanvue.errors import NotContactableError
from inbox import decisions
from inbox.outcome import Kind
from slack import blocks
from store import drafts
from tests.harness import Harness
from tests.pending_card import PendingCard

pytestmark = pytest.mark.both_modes

HOSTILE_NAME = "Eve\n*Sent by <@U0BOSS>*  <!channel>"


def _assert_inert(told: list[str], expected: str) -> None:
    assert len(told) == 1 and expected in told[0], told
    for raw in ("<!channel>", "<@U0BOSS>", "\n", "\r"):
        assert raw not in told[0], told[0]
    assert "&lt;!channel&gt;" in told[0] and "&lt;@U0BOSS&gt;" in told[0]


def _hostile_fan_card(harness: Harness) -> tuple[dict, drafts.Draft]:
    fan = harness.unread_fan_with_text()
    harness.sandbox.world.rename_fan(fan["uuid"], HOSTILE_NAME)
    harness.cycle()
    draft = harness.draft_for(fan["uuid"])
    assert draft.fan_name == HOSTILE_NAME  # the name reached the draft as Fanvue gave it
    return fan, draft


@pytest.mark.parametrize("through", ["response_url", "chat.postEphemeral"])
def test_a_fan_named_like_a_mention_who_wrote_again_is_named_inert_on_one_line(harness: Harness, through):
    fan, draft = _hostile_fan_card(harness)
    harness.sandbox.world.add_fan_message(fan["uuid"], "one more thing")
    harness.click(draft, blocks.SEND, user="U0ALICE", response_url=None if through == "response_url" else "")
    assert harness.sandbox.world.sent_messages(fan["uuid"]) == []
    assert harness.draft_for(fan["uuid"]).version == 2
    _assert_inert(harness.ephemerals("U0ALICE"), "wrote again since this draft")


def test_the_same_fan_after_an_edit_is_named_inert_on_one_line(harness: Harness):
    fan, draft = _hostile_fan_card(harness)
    harness.click(draft, blocks.EDIT, user="U0BOB")
    view = harness.slack.views()[-1]["view"]
    harness.sandbox.world.add_fan_message(fan["uuid"], "one more thing")
    harness.submit_edit(view, "My own words", user="U0BOB")
    assert harness.sandbox.world.sent_messages(fan["uuid"]) == []
    _assert_inert(harness.ephemerals("U0BOB"), "wrote again since this draft")


def test_fanvues_refusal_text_reaches_the_clicker_inert_and_the_card_keeps_its_words(
    pending_card: PendingCard, monkeypatch
):
    harness, fan, draft = pending_card
    words = "Fan <!channel> cannot\nreceive *messages* from <@U0BOSS>"

    def refuse(user_uuid: str, text: str, **_kwargs) -> str:
        raise NotContactableError("Fanvue answered 400", status=400, body={"message": words})

    monkeypatch.setattr(harness.fanvue, "send_message", refuse)
    harness.click(draft, blocks.SEND, user="U0ALICE")
    _assert_inert(harness.ephemerals("U0ALICE"), "Fanvue refused the message")
    failed = harness.draft_for(fan["uuid"])
    assert failed.status == drafts.FAILED and failed.error == f"Fanvue refused the message: {words}"
    shown = str(harness.card(draft).blocks)
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown


@pytest.mark.parametrize(
    ("text", "told"),
    [
        (" \n\t ", "The reply is empty"),
        ("x" * 5001, "The reply is 5001 characters; Fanvue takes at most 5000"),
    ],
)
def test_a_text_fanvue_would_refuse_is_not_claimed_and_the_clicker_is_told_why(
    pending_card: PendingCard, text, told
):
    harness, fan, draft = pending_card
    outcome = decisions.send(harness.svc, draft.id, draft.version, "U0ALICE", text=text)
    assert outcome.kind is Kind.INVALID and outcome.message.startswith(told)
    assert (
        harness.sandbox.world.request_count(method="POST", path_prefix=f"/chats/{fan['uuid']}/message") == 0
    )
    assert harness.draft_for(fan["uuid"]).status == drafts.PENDING


def test_the_longest_text_fanvue_takes_is_sent_whole(pending_card: PendingCard):
    harness, fan, draft = pending_card
    outcome = decisions.send(harness.svc, draft.id, draft.version, "U0ALICE", text="y" * 5000)
    assert outcome.kind is Kind.SENT
    assert [m["text"] for m in harness.sandbox.world.sent_messages(fan["uuid"])] == ["y" * 5000]
