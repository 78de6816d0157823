"""The app as a process: `once` and `run` (HTTP mode) against the sandbox and the Slack stand-in."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

import settings as settings_module
from runtime import Runtime, build, schedule_polling
from slack import blocks
from standins.slack_requests import block_action_body, sign_request
from store import drafts
from store.db import Store
from tests.procs import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
SECRET = "process-signing-secret"


def _env(sandbox, slack, db_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_CHANNEL_ID": "C0PROC",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "FANVUE_API_BASE": sandbox.url,
        "FANVUE_ACCESS_TOKEN": sandbox.token,
        "DATABASE_PATH": str(db_path),
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def test_once_runs_one_cycle_and_exits(tmp_path, sandbox, slack):
    env = _env(sandbox, slack, tmp_path / "bridge.db", SLACK_MAX_POSTS_PER_CYCLE="3")
    done = subprocess.run(
        [sys.executable, "app.py", "once", "--env-file", str(tmp_path / "none")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "3 posted" in done.stdout
    cards = [m for m in slack.messages("C0PROC") if not m.thread_ts]  # the seed's fans wrote days ago:
    assert len(cards) == 3  # each card is overdue, and nudged in its thread
    again = subprocess.run(
        [sys.executable, "app.py", "once", "--env-file", str(tmp_path / "none")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and "0 new drafts" in again.stdout
    assert len(slack.messages("C0PROC")) > 3  # the cards held back by the cap came on the second run


def test_run_serves_clicks_over_http_and_stops_cleanly(tmp_path, sandbox, slack):
    port = free_port()
    env = _env(sandbox, slack, tmp_path / "bridge.db", PORT=str(port), POLL_INTERVAL_SECONDS="3600")
    proc = subprocess.Popen(
        [sys.executable, "app.py", "run", "--env-file", str(tmp_path / "none")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _healthy(base), what="the health check")
        posted = wait_for(lambda: slack.messages("C0PROC"), what="the first cycle's cards")
        health = requests.get(f"{base}/healthz", timeout=5).json()
        wait_for(
            lambda: requests.get(f"{base}/healthz", timeout=5).json()["last_cycle"], what="a cycle report"
        )
        assert health["ok"] is True
        card = posted[0]
        button = next(
            e
            for b in card.blocks
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == blocks.SEND
        )
        body = block_action_body(
            user_id="U0ALICE",
            user_name="alice",
            action_id=blocks.SEND,
            value=button["value"],
            channel_id=card.channel,
            message_ts=card.ts,
            message=card.to_dict(),
            trigger_id=slack.new_trigger_id(),
            response_url=slack.new_response_url(),
            block_id="decide",
        )
        forged = requests.post(
            f"{base}/slack/events", data=body, headers=sign_request("wrong", body), timeout=5
        )
        assert forged.status_code == 401
        answer = requests.post(
            f"{base}/slack/events", data=body, headers=sign_request(SECRET, body), timeout=5
        )
        assert answer.status_code == 200
        sent = wait_for(lambda: sandbox.world.sent_messages(), what="the send")
        assert len(sent) == 1
        wait_for(
            lambda: "Sent by" in str(slack.message(card.channel, card.ts).blocks), what="the card update"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    store = Store(tmp_path / "bridge.db")
    try:
        statuses = [d.status for d in drafts.with_status(store.db, drafts.SENT)]
        assert statuses == [drafts.SENT]
    finally:
        store.close()


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def test_polling_runs_at_start_never_twice_at_once(tmp_path, sandbox, slack):
    config = settings_module.from_mapping(
        _env(sandbox, slack, tmp_path / "bridge.db", POLL_INTERVAL_SECONDS="45")
    )
    runtime: Runtime = build(config)
    try:
        job = schedule_polling(runtime).get_job("poll")
        assert job.max_instances == 1 and job.coalesce is True
        assert job.trigger.interval.total_seconds() == 45
        assert job.next_run_time is not None  # the first cycle runs at start
    finally:
        runtime.services.store.close()


def test_a_refused_bot_token_stops_the_start_with_a_clear_message(tmp_path, sandbox, slack):
    env = _env(sandbox, slack, tmp_path / "bridge.db", SLACK_BOT_TOKEN="xoxb-revoked-0123456789")
    done = subprocess.run(
        [sys.executable, "app.py", "once", "--env-file", str(tmp_path / "none")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN" in done.stderr and "invalid_auth" in done.stderr
    assert "xoxb-revoked-0123456789" not in done.stderr + done.stdout and "Traceback" not in done.stderr
    assert sandbox.world.request_count() == 0


def test_start_polls_and_serves_and_stop_finishes_and_releases_everything(tmp_path, sandbox, slack):
    config = settings_module.from_mapping(_env(sandbox, slack, tmp_path / "bridge.db"))
    runtime: Runtime = build(dataclasses.replace(config, port=0), host="127.0.0.1")
    runtime.start()
    try:
        base = f"http://127.0.0.1:{runtime.server.port}"
        cycle = wait_for(
            lambda: requests.get(f"{base}/healthz", timeout=5).json()["last_cycle"], what="the first cycle"
        )
        assert cycle["ok"] is True
        assert slack.messages("C0PROC")  # the first cycle ran at start and posted its cards
    finally:
        assert runtime.stop(drain=10) is True
    assert not runtime.scheduler.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/healthz", timeout=1)  # nobody listens any more
