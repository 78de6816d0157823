"""A `run` process and `app.py once` from cron sharing one database: neither undoes the other's work."""

from __future__ import annotations

import pytest

import app
import settings as settings_module
from store import audit, drafts


@pytest.fixture
def runtime(tmp_path, sandbox, slack):
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_CHANNEL_ID": "C0PROC", "SLACK_SIGNING_SECRET": "s",
           "SLACK_API_URL": slack.api_url, "FANVUE_API_BASE": sandbox.url, "FANVUE_ACCESS_TOKEN": sandbox.token,
           "DATABASE_PATH": str(tmp_path / "bridge.db"), "SLACK_MAX_POSTS_PER_CYCLE": "1"}
    built = app.build(settings_module.from_mapping(env))
    yield built
    built.services.fanvue.close()
    built.services.store.close()


def test_once_leaves_alone_a_send_another_process_has_just_claimed(runtime, sandbox):
    app.once(runtime)
    db = runtime.services.store.db
    draft = drafts.with_status(db, drafts.PENDING)[0]
    # The `run` process's click handler has claimed the draft and is about to send it.
    assert drafts.claim_for_send(db, draft, draft.version, "U0ALICE", draft.draft_text)
    app.once(runtime)
    assert drafts.get(db, draft.id).status == drafts.SENDING
    assert "send-failed" not in [row["action"] for row in audit.for_draft(db, draft.id)]
    assert sandbox.world.sent_messages() == []
