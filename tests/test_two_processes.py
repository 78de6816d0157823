"""A `run` process and `app.py once` from cron sharing one database: neither undoes the other's work."""

from __future__ import annotations

import dataclasses
import json

import pytest

import runtime as app_runtime
import settings as settings_module
from inbox import decisions
from inbox.cards import CardPublisher
from slack import blocks
from slack.cards import SlackCards
from store import audit, drafts
from tests.harness import CHANNEL
from tests.pending_card import PendingCard


@pytest.fixture
def runtime(tmp_path, sandbox, slack):
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_CHANNEL_ID": "C0PROC",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": slack.api_url,
        "FANVUE_API_BASE": sandbox.url,
        "FANVUE_ACCESS_TOKEN": sandbox.token,
        "DATABASE_PATH": str(tmp_path / "bridge.db"),
        "SLACK_MAX_POSTS_PER_CYCLE": "1",
    }
    built = app_runtime.build(settings_module.from_mapping(env))
    yield built
    built.services.fanvue.close()
    built.services.store.close()


def test_once_leaves_alone_a_send_another_process_has_just_claimed(runtime, sandbox):
    app_runtime.once(runtime)
    db = runtime.services.store.db
    draft = drafts.with_status(db, drafts.PENDING)[0]
    # The `run` process's click handler has claimed the draft and is about to send it.
    assert drafts.claim_for_send(db, draft, draft.version, "U0ALICE", draft.draft_text)
    app_runtime.once(runtime)
    assert drafts.get(db, draft.id).status == drafts.SENDING
    assert "send-failed" not in [row["action"] for row in audit.for_draft(db, draft.id)]
    assert sandbox.world.sent_messages() == []


class _LandsLast:
    """A card port whose update reaches Slack only after `meanwhile` ran: another process's newer update."""

    def __init__(self, real, meanwhile):
        self.real, self.meanwhile = real, meanwhile

    def post(self, draft):
        return self.real.post(draft)

    def update(self, draft):
        meanwhile, self.meanwhile = self.meanwhile, lambda: None
        meanwhile()
        self.real.update(draft)

    def notify(self, draft, user, text):
        self.real.notify(draft, user, text)


def test_a_card_update_that_lands_after_another_processes_newer_one_is_put_right(pending_card: PendingCard):
    harness, fan, draft = pending_card
    other = dataclasses.replace(
        harness.svc, cards=CardPublisher(harness.store, SlackCards(harness.web, CHANNEL, post_interval=0))
    )

    def bob_skips_in_the_other_process():
        current = drafts.get(harness.store.db, draft.id)
        assert decisions.skip(other, current.id, current.version, "U0BOB").kind == "skipped"

    harness.cards.port = _LandsLast(harness.cards.port, bob_skips_in_the_other_process)
    harness.sandbox.world.add_fan_message(fan["uuid"], "one more thing")
    assert harness.cycle().redrafted == 1  # its card update carries the new draft, and lands after Bob's skip
    card = json.dumps(harness.card(draft).blocks)
    assert drafts.get(harness.store.db, draft.id).status == drafts.SKIPPED
    assert "Skipped by <@U0BOB>" in card and blocks.SEND not in card
