"""A desk file is checked at start against the logins and Slack; /healthz with several logins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from standins.fanvue import Sandbox
from standins.slack_api import SlackStandin
from tests.harness import BOT_TOKEN, Harness, store_logins
from tests.test_many_creators import CHANNEL_A, CHANNEL_B, creator_logins, desk_for, handles

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def two():
    with Sandbox(creators=2, fans=4, seed=11) as sb:
        yield sb


@pytest.fixture
def slack():
    with SlackStandin(bot_token=BOT_TOKEN, known_channels={CHANNEL_A, CHANNEL_B, "C0CARDS"}) as standin:
        with standin.state.lock:
            standin.state.channels_without_bot = {"C0OUT"}
        yield standin


def once(tmp_path: Path, two: Sandbox, slack: SlackStandin, desk: str) -> subprocess.CompletedProcess:
    db = tmp_path / "bridge.db"
    if not db.exists():
        store_logins(db, creator_logins(two))
    (tmp_path / "desk.yml").write_text(desk)
    oauth = two.world.oauth
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_CHANNEL_ID": "C0CARDS",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": slack.api_url,
        "FANVUE_API_BASE": two.url,
        "FANVUE_AUTH_BASE": two.url,
        "FANVUE_CLIENT_ID": oauth.client_id,
        "FANVUE_CLIENT_SECRET": oauth.client_secret,
        "DATABASE_PATH": str(db),
        "DESK_FILE": str(tmp_path / "desk.yml"),
        "LOG_LEVEL": "ERROR",
    }
    return subprocess.run(
        [sys.executable, "app.py", "once", "--env-file", str(tmp_path / "none")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_desk_handle_no_login_serves_and_a_channel_without_the_bot_stop_the_start(tmp_path, two, slack):
    a, b = handles(two)
    wrong = f"creators:\n  {a}:\n    channel: {CHANNEL_A}\n  {b}x:\n    channel: C0OUT\n"
    done = once(tmp_path, two, slack, wrong)
    assert done.returncode == 2, done.stderr
    desk = tmp_path / "desk.yml"
    assert done.stderr.splitlines() == [
        f"The app cannot start; fix the desk file {desk} (README: Desk file):",
        f"  - {desk} line 4: unknown creator handle @{b}x (did you mean @{b}?); the accounts serve "
        f"@{min(a, b)}, @{max(a, b)}",
        f"  - {desk} line 4: @{b}x's channel C0OUT (#c0out) does not have the bot in it: invite it there "
        "(/invite @Fanvue Inbox, or your app's name)",
    ]
    assert "Traceback" not in done.stderr and not slack.messages()
    assert not [r for r in two.world.requests if r.method == "POST"]  # nothing sent, nothing marked

    good = f"creators:\n  {a}:\n    channel: {CHANNEL_A}\n  {b}:\n    channel: {CHANNEL_B}\n"
    done = once(tmp_path, two, slack, good)
    assert done.returncode == 0, done.stderr
    assert slack.messages(CHANNEL_A) and slack.messages(CHANNEL_B) and not slack.messages("C0CARDS")


def _health(h: Harness) -> tuple[int, dict]:
    answer = requests.get(f"http://127.0.0.1:{h.server.port}/healthz", timeout=5)
    return answer.status_code, answer.json()


def test_healthz_lists_a_paused_login_and_fails_only_when_every_login_is_paused(tmp_path, two, slack):
    a, b = handles(two)
    h = Harness(tmp_path / "bridge.db", two, slack, logins=creator_logins(two), desk=desk_for(two))
    try:
        h.cycle()
        assert _health(h) == (200, {"ok": True, "last_cycle": None, "failed_cycles": 0})
        two.worlds[1].expire_tokens()
        h.cycle()
        status, report = _health(h)
        assert status == 200 and report["ok"] is True and report["paused_accounts"] == [f"@{b}"]
        two.worlds[0].expire_tokens()
        h.cycle()
        status, report = _health(h)
    finally:
        h.close()
    assert status == 503 and report["ok"] is False
    assert report["paused_accounts"] == [f"@{a}", f"@{b}"]
    assert (
        f"every Fanvue login (@{a}, @{b})" in report["reason"] and "python app.py login" in report["reason"]
    )
