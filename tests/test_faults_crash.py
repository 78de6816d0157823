"""The process killed (SIGKILL) mid-send, then restarted on the same database: no double send, no lost draft."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from slack import blocks
from standins.slack_requests import block_action_body, sign_request
from tests.procs import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
SECRET = "crash-signing-secret"
CHANNEL = "C0CRASH"


class App:
    """`python app.py run` in HTTP mode as a real process, against the test's sandbox and Slack stand-in."""

    def __init__(self, tmp_path: Path, sandbox, slack):
        self.db_path = tmp_path / "bridge.db"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_CHANNEL_ID": CHANNEL,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "FANVUE_API_BASE": sandbox.url,
            "FANVUE_ACCESS_TOKEN": sandbox.token,
            "FANVUE_TIMEOUT_SECONDS": "15",
            "DATABASE_PATH": str(self.db_path),
            "POLL_INTERVAL_SECONDS": "3600",
            "LOG_LEVEL": "WARNING",
        }
        self.env_file = tmp_path / "no.env"
        self.proc: subprocess.Popen | None = None
        self.base = ""

    def start(self) -> App:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "app.py", "run", "--env-file", str(self.env_file)],
            cwd=ROOT,
            env={**self.env, "PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(self._healthy, "the app's health check")
        return self

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the app exited: {self.proc.stderr.read()}")
        try:
            return requests.get(f"{self.base}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no handler, no cleanup, no flush
        self.proc.wait(timeout=10)

    def stop(self) -> str:
        if self.proc is None or self.proc.poll() is not None:
            return ""
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=30)
        return err

    def draft(self, fan_uuid: str) -> dict | None:
        """The fan's latest draft as the database has it, read without taking any lock for writing."""
        if not self.db_path.exists():
            return None
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute(
                "SELECT * FROM drafts WHERE fan_uuid = ? ORDER BY id DESC LIMIT 1", [fan_uuid]
            ).fetchone()
        return dict(row) if row else None

    def audit_actions(self, draft_id: int) -> list[str]:
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as conn:
            return [
                r[0]
                for r in conn.execute("SELECT action FROM audit WHERE draft_id = ? ORDER BY id", [draft_id])
            ]

    def click(self, slack, card, action_id: str = blocks.SEND, user: str = "U0ALICE") -> None:
        button = next(
            e
            for b in card.blocks
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == action_id
        )
        body = block_action_body(
            user_id=user,
            user_name=user.lower(),
            action_id=action_id,
            value=button["value"],
            channel_id=card.channel,
            message_ts=card.ts,
            message=card.to_dict(),
            trigger_id=slack.new_trigger_id(user),
            block_id="decide",
            response_url=slack.new_response_url(channel=card.channel, message_ts=card.ts, user=user),
        )
        answer = requests.post(
            f"{self.base}/slack/events", data=body.encode(), headers=sign_request(SECRET, body), timeout=10
        )
        assert answer.status_code == 200


@pytest.fixture
def app(tmp_path, sandbox, slack):
    sandbox.hang_seconds = 20  # far longer than the test waits before the kill
    process = App(tmp_path, sandbox, slack)
    yield process
    err = process.stop()
    assert "Traceback" not in err, err


def _card_of(app: App, slack, fan_uuid: str):
    draft = wait_for(lambda: (d := app.draft(fan_uuid)) and d["ts"] and d, "the fan's card")
    return draft, slack.message(draft["channel"], draft["ts"])


def _saw_send(sandbox, fan_uuid: str) -> bool:
    return any(r.method == "POST" and r.path == f"/chats/{fan_uuid}/message" for r in sandbox.world.requests)


def _card_text(slack, draft: dict) -> str:
    return json.dumps(slack.message(draft["channel"], draft["ts"]).blocks, ensure_ascii=False)


def test_killed_between_the_claim_and_the_send_restart_puts_the_card_back_and_it_sends_once(
    app, sandbox, slack
):
    world = sandbox.world
    fan = world.fan("lukasz")
    app.start()
    draft, card = _card_of(app, slack, fan["uuid"])
    # The send request reaches Fanvue and hangs there before anything is stored.
    world.inject_fault("hang", count=1, method="POST", path=f"/chats/{fan['uuid']}/message")
    app.click(slack, card)
    wait_for(
        lambda: app.draft(fan["uuid"])["status"] == "sending" and _saw_send(sandbox, fan["uuid"]),
        "the claim and the send in flight",
    )
    app.kill()
    assert world.sent_messages(fan["uuid"]) == []
    assert app.draft(fan["uuid"])["status"] == "sending"

    app.start()  # same database: recovery runs before the first cycle and before any click
    settled = wait_for(
        lambda: (
            (d := app.draft(fan["uuid"]))["status"] == "pending"
            and d["card_synced_rev"] == d["card_rev"]
            and d
        ),
        "the restart to settle the draft and its card",
    )
    assert settled["id"] == draft["id"] and "not delivered" in settled["error"]
    assert app.audit_actions(draft["id"]) == ["drafted", "posted", "claimed", "send-failed"]
    assert world.sent_messages(fan["uuid"]) == []
    shown = _card_text(slack, settled)
    assert "not delivered" in shown and blocks.SEND in shown

    app.click(slack, slack.message(settled["channel"], settled["ts"]))
    sent = wait_for(lambda: (d := app.draft(fan["uuid"]))["status"] == "sent" and d, "the second send")
    assert [m["text"] for m in world.sent_messages(fan["uuid"])] == [draft["draft_text"]]
    assert sent["fanvue_message_uuid"] == world.sent_messages(fan["uuid"])[0]["uuid"]
    wait_for(lambda: "Sent by <@U0ALICE>" in _card_text(slack, sent), "the card to say it was sent")


def test_killed_between_the_send_and_the_database_update_restart_records_it_as_sent_once(app, sandbox, slack):
    world = sandbox.world
    fan = world.fan("lukasz")
    app.start()
    draft, card = _card_of(app, slack, fan["uuid"])
    # Fanvue stores the message, then its answer never comes back.
    world.inject_fault("store_then_hang", count=1, method="POST", path=f"/chats/{fan['uuid']}/message")
    app.click(slack, card)
    wait_for(
        lambda: world.sent_messages(fan["uuid"]) and app.draft(fan["uuid"])["status"] == "sending",
        "the send stored while the database still says sending",
    )
    app.kill()
    assert len(world.sent_messages(fan["uuid"])) == 1

    app.start()
    settled = wait_for(
        lambda: (
            (d := app.draft(fan["uuid"]))["status"] == "sent" and d["card_synced_rev"] == d["card_rev"] and d
        ),
        "the restart to find the reply in the chat",
    )
    delivered = world.sent_messages(fan["uuid"])
    assert [m["text"] for m in delivered] == [draft["draft_text"]]
    assert settled["id"] == draft["id"] and settled["fanvue_message_uuid"] == delivered[0]["uuid"]
    assert app.audit_actions(draft["id"]) == ["drafted", "posted", "claimed", "sent"]
    shown = _card_text(slack, settled)
    assert "Sent by <@U0ALICE>" in shown and blocks.SEND not in shown
    # A teammate still looking at the old card is told; Fanvue gets nothing more.
    app.click(slack, card, user="U0BOB")
    wait_for(lambda: any("Already sent" in e["text"] for e in slack.ephemerals("U0BOB")), "the refusal")
    assert len(world.sent_messages(fan["uuid"])) == 1
