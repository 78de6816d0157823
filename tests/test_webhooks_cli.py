"""`app.py webhooks`: the URLs to register, and --test, a signed event to the running app."""

from __future__ import annotations

import pytest

import app as app_module
from inbox.webhook_setup import SAMPLE_FAN_UUID
from tests.harness import BOT_TOKEN, CHANNEL, SECRET
from tests.webhook_rig import READ_PATH, RECEIVED_PATH, WEBHOOK_SECRET, WebhookApp


@pytest.fixture
def running(tmp_path, sandbox, slack):
    app = WebhookApp(tmp_path / "bridge.db", sandbox, slack)
    yield app
    app.close()


def _env_file(tmp_path, sandbox, slack, **extra: str) -> str:
    values = {
        "FANVUE_API_BASE": sandbox.url,
        "FANVUE_ACCESS_TOKEN": sandbox.token,
        "SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_CHANNEL_ID": CHANNEL,
        "SLACK_SIGNING_SECRET": SECRET,
        "DATABASE_PATH": str(tmp_path / "cli.db"),
        **extra,
    }
    path = tmp_path / "hooks.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return str(path)


def test_it_prints_the_urls_events_and_scope(tmp_path, sandbox, slack, capsys):
    env = _env_file(tmp_path, sandbox, slack, PUBLIC_URL="https://inbox.example.com/")
    assert app_module.main(["webhooks", "--env-file", env]) == 0
    out = capsys.readouterr().out
    assert f"message.received  https://inbox.example.com{RECEIVED_PATH}" in out
    assert f"message.read      https://inbox.example.com{READ_PATH}" in out
    assert "read:chat" in out and "FANVUE_WEBHOOK_SECRET is not set" in out


def test_without_public_url_and_no_terminal_it_says_what_to_set(tmp_path, sandbox, slack, capsys):
    assert app_module.main(["webhooks", "--env-file", _env_file(tmp_path, sandbox, slack)]) == 2
    assert "Set PUBLIC_URL" in capsys.readouterr().err


def test_test_sends_a_signed_event_that_the_running_app_stores(tmp_path, sandbox, slack, running, capsys):
    env = _env_file(tmp_path, sandbox, slack, PUBLIC_URL=running.base, FANVUE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    assert app_module.main(["webhooks", "--test", "--env-file", env]) == 0
    assert "answered 200" in capsys.readouterr().out
    [row] = running.rows()
    assert row.kind == "message.received" and row.fan_uuid == SAMPLE_FAN_UUID


def test_test_with_another_secret_reports_the_refusal_without_showing_it(
    tmp_path, sandbox, slack, running, capsys
):
    env = _env_file(tmp_path, sandbox, slack, PUBLIC_URL=running.base, FANVUE_WEBHOOK_SECRET="whsec-wrong")
    assert app_module.main(["webhooks", "--test", "--env-file", env]) == 1
    captured = capsys.readouterr()
    assert "answered 401" in captured.err and "FANVUE_WEBHOOK_SECRET" in captured.err
    assert "whsec-wrong" not in captured.out + captured.err
    assert running.rows() == []


def test_test_without_a_secret_says_to_set_it(tmp_path, sandbox, slack, running, capsys):
    env = _env_file(tmp_path, sandbox, slack, PUBLIC_URL=running.base)
    assert app_module.main(["webhooks", "--test", "--env-file", env]) == 2
    assert "Set FANVUE_WEBHOOK_SECRET" in capsys.readouterr().err


def test_test_against_nothing_listening_says_so(tmp_path, sandbox, slack, capsys):
    env = _env_file(tmp_path, sandbox, slack, PUBLIC_URL="http://127.0.0.1:9", FANVUE_WEBHOOK_SECRET="x")
    assert app_module.main(["webhooks", "--test", "--env-file", env]) == 1
    assert "Could not reach" in capsys.readouterr().err
