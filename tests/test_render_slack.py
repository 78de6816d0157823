"""What reaches Slack's Web API (the stand-in) for hostile fans and drafts: valid, whole or plainly cut."""

from __future__ import annotations

import json

import pytest
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from drafting.persona import Persona
from drafting.template import TemplateDrafter
from slack import blocks, limits
from slack.cards import SlackCards
from store import drafts
from tests.harness import BOT_TOKEN, CHANNEL, Harness
from tests.test_blocks import make_draft
from tests.test_card_hostile import HOSTILE, within_limits

pytestmark = pytest.mark.both_modes


def _valid(blocks_posted: list[dict]) -> None:
    assert len(blocks_posted) <= limits.MESSAGE_BLOCKS_MAX
    assert len(json.dumps(blocks_posted, ensure_ascii=False)) < limits.MESSAGE_BLOCKS_JSON_MAX
    for raw in blocks_posted:
        Block.parse(raw).to_dict()


def test_hostile_cards_and_notices_reach_slack_valid_and_inert(slack):
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
    cards = SlackCards(client, CHANNEL, post_interval=0)
    draft = make_draft(
        fan_name="<!channel>\n*You:* " * 100,
        fan_handle="h" * 1000,
        context=[{"from_fan": i % 2 == 0, "text": HOSTILE[:1000], "type": "TEXT"} for i in range(50)],
        draft_text=HOSTILE[:5000],
    )
    channel, ts = cards.post(draft)
    posted = slack.message(channel, ts)
    _valid(posted.blocks)
    assert "<!channel>" not in json.dumps(posted.to_dict(), ensure_ascii=False)
    cards.update(
        make_draft(status=drafts.SENT, final_text=HOSTILE[:5000], decided_by="U0BOB", channel=channel, ts=ts)
    )
    _valid(slack.message(channel, ts).blocks)
    cards.notify(draft, "U0BOB", "<!channel> <http://evil|bank.com> wrote again; <@U0ALICE> sent it.")
    [notice] = [e["text"] for e in slack.ephemerals("U0BOB")]
    assert notice == "&lt;!channel&gt; &lt;http://evil|bank.com&gt; wrote again; <@U0ALICE> sent it."


@pytest.fixture
def long_sign_off(tmp_path, sandbox, slack, slack_mode):
    """A persona whose sign-off, within Fanvue's length, makes every draft too long to show on a card."""
    persona = Persona(name="Mia", sign_off="&<>" * 1600)
    h = Harness(tmp_path / "bridge.db", sandbox, slack, drafter=TemplateDrafter(persona), mode=slack_mode)
    yield h
    h.close()


def test_a_draft_the_card_cannot_show_cannot_be_sent_unseen(long_sign_off: Harness):
    harness = long_sign_off
    fan = harness.unread_fan_with_text()
    harness.cycle()
    draft = harness.draft_for(fan["uuid"])
    assert len(draft.draft_text) > blocks.EDIT_MAX
    card = harness.card(draft)
    _valid(card.blocks)
    buttons = [e["action_id"] for b in card.blocks if b["type"] == "actions" for e in b["elements"]]
    assert blocks.SEND not in buttons
    assert "too long to show here in full" in json.dumps(card.blocks, ensure_ascii=False)
    within_limits({"text": card.text, "blocks": card.blocks})
    harness.click(draft, blocks.EDIT, user="U0BOB")
    view = harness.slack.views()[-1]["view"]
    View(**{k: v for k, v in view.items() if k in ("type", "title", "blocks", "submit", "close")}).to_dict()
    box = view["blocks"][-1]["element"]["initial_value"]
    assert box == draft.draft_text[: blocks.EDIT_MAX]
    harness.submit_edit(view, box, user="U0BOB")
    assert [m["text"] for m in harness.sandbox.world.sent_messages(fan["uuid"])] == [box]  # what was seen
