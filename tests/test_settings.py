"""Settings: one clear error naming every problem, secrets kept out of reprs and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import settings
from settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent

# Distinctive values, so a leak anywhere is found by a plain substring search.
BOT = "xoxb-BOTSECRET-1111"
SIGNING = "SIGNINGSECRET-2222"
APP = "xapp-APPSECRET-3333"
FANVUE = "FANVUESECRET-4444"
CLIENT_SECRET = "CLIENTSECRET-5555"
SECRETS = (BOT, SIGNING, APP, FANVUE, CLIENT_SECRET)

HTTP_ENV = {
    "SLACK_BOT_TOKEN": BOT,
    "SLACK_SIGNING_SECRET": SIGNING,
    "SLACK_CHANNEL_ID": "C0123CARDS",
    "FANVUE_ACCESS_TOKEN": FANVUE,
}
SOCKET_ENV = {
    "SLACK_BOT_TOKEN": BOT,
    "SLACK_APP_TOKEN": APP,
    "SLACK_CHANNEL_ID": "G0PRIVATE",
    "FANVUE_ACCESS_TOKEN": FANVUE,
}
REQUIRED = ("SLACK_BOT_TOKEN", "SLACK_CHANNEL_ID", "FANVUE_ACCESS_TOKEN", "SLACK_SIGNING_SECRET")


def problems_for(env: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        settings.from_mapping(env)
    text = str(caught.value)
    for secret in SECRETS:
        assert secret not in text
    for problem in caught.value.problems:
        assert problem in text
    return caught.value.problems


def problem_about(env: dict[str, str], name: str) -> str:
    found = [p for p in problems_for(env) if p.startswith(name)]
    assert len(found) == 1, found
    return found[0]


def test_complete_http_mode_settings_with_defaults():
    s = settings.from_mapping(HTTP_ENV)
    assert s == Settings(
        slack_bot_token=BOT,
        slack_channel_id="C0123CARDS",
        fanvue_access_token=FANVUE,
        slack_signing_secret=SIGNING,
    )
    assert s.socket_mode is False
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.fanvue_api_base == "https://api.fanvue.com"
    assert s.database_path == Path("data/bridge.db")
    assert (s.poll_interval, s.port, s.log_level, s.slack_max_posts_per_cycle) == (120, 3000, "INFO", 30)
    assert s.slack_approvers == frozenset()


def test_socket_mode_needs_no_signing_secret():
    s = settings.from_mapping(SOCKET_ENV)
    assert s.socket_mode is True
    assert s.slack_app_token == APP
    assert s.slack_signing_secret is None


def test_every_setting_can_be_given():
    env = {
        **HTTP_ENV,
        "SLACK_API_URL": "http://127.0.0.1:9000/api",
        "SLACK_APPROVERS": " U01, W02 ,,",
        "SLACK_MAX_POSTS_PER_CYCLE": "5",
        "FANVUE_API_BASE": "http://127.0.0.1:9001/",
        "FANVUE_API_VERSION": "2026-01-01",
        "FANVUE_RATE_LIMIT": "50",
        "FANVUE_RATE_WINDOW_SECONDS": "30",
        "FANVUE_TIMEOUT_SECONDS": "4",
        "DATABASE_PATH": "/tmp/x.db",
        "POLL_INTERVAL_SECONDS": " 60 ",
        "PORT": "8080",
        "LOG_LEVEL": "debug",
        "SLACK_CLIENT_ID": "123.456",
    }
    s = settings.from_mapping(env)
    assert s.slack_api_url == "http://127.0.0.1:9000/api/"
    assert s.fanvue_api_base == "http://127.0.0.1:9001"
    assert s.slack_approvers == frozenset({"U01", "W02"})
    assert (s.slack_max_posts_per_cycle, s.fanvue_rate_limit, s.fanvue_rate_window, s.fanvue_timeout) == (
        5,
        50,
        30.0,
        4.0,
    )
    assert (s.fanvue_api_version, s.database_path, s.poll_interval, s.port, s.log_level) == (
        "2026-01-01",
        Path("/tmp/x.db"),
        60,
        8080,
        "DEBUG",
    )


def test_every_missing_setting_is_named_in_one_error_with_where_to_find_it():
    found = problems_for({})
    where = {p.split(" ", 1)[0]: p for p in found}
    assert len(found) == len(where) and set(where) == set(REQUIRED)
    assert "OAuth & Permissions" in where["SLACK_BOT_TOKEN"]
    assert "channel's details" in where["SLACK_CHANNEL_ID"]
    assert "Fanvue" in where["FANVUE_ACCESS_TOKEN"] and "write:chat" in where["FANVUE_ACCESS_TOKEN"]
    assert (
        "Signing Secret" in where["SLACK_SIGNING_SECRET"]
        and "SLACK_APP_TOKEN" in where["SLACK_SIGNING_SECRET"]
    )
    assert all("missing" in p for p in found)


def test_blank_values_count_as_missing():
    env = {**HTTP_ENV, "SLACK_CHANNEL_ID": "   ", "SLACK_SIGNING_SECRET": ""}
    assert sorted(p.split(" ", 1)[0] for p in problems_for(env)) == [
        "SLACK_CHANNEL_ID",
        "SLACK_SIGNING_SECRET",
    ]


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("SLACK_MAX_POSTS_PER_CYCLE", "ten", "whole number, got 'ten'"),
        ("SLACK_MAX_POSTS_PER_CYCLE", "0", "between 1 and 1000, got 0"),
        ("POLL_INTERVAL_SECONDS", "1.5", "whole number"),
        ("POLL_INTERVAL_SECONDS", "5", "between 10 and 86400"),
        ("PORT", "70000", "between 1 and 65535"),
        ("FANVUE_TIMEOUT_SECONDS", "-1", "between 1 and 300"),
        ("SLACK_API_URL", "slack.com/api", "http(s) URL, got 'slack.com/api'"),
        ("FANVUE_API_BASE", "ftp://api.fanvue.com", "http(s) URL"),
        ("SLACK_APPROVERS", "U01,bob,@alice", "Slack user IDs (U...), comma-separated; not: @alice, bob"),
        ("SLACK_CHANNEL_ID", "#general", "should start with C or G"),
        ("LOG_LEVEL", "chatty", "one of DEBUG, INFO, WARNING, ERROR, got 'CHATTY'"),
    ],
)
def test_malformed_values_are_named(name, value, expected):
    assert expected in problem_about({**HTTP_ENV, name: value}, name)


@pytest.mark.parametrize(
    "name, value, prefix",
    [
        ("SLACK_BOT_TOKEN", "xoxp-BOTSECRET-1111", "xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-APPSECRET-3333", "xapp-"),
    ],
)
def test_a_token_of_the_wrong_kind_is_named_without_showing_it(name, value, prefix):
    problem = problem_about({**HTTP_ENV, name: value}, name)
    assert f"should start with {prefix}" in problem
    assert "SECRET" not in problem


def test_several_problems_are_reported_together():
    env = {**HTTP_ENV, "PORT": "x", "SLACK_API_URL": "nope", "FANVUE_ACCESS_TOKEN": ""}
    assert sorted(p.split(" ", 1)[0] for p in problems_for(env)) == [
        "FANVUE_ACCESS_TOKEN",
        "PORT",
        "SLACK_API_URL",
    ]


def test_oauth_client_credentials_are_refused():
    env = {**HTTP_ENV, "SLACK_CLIENT_ID": "1234.5678", "SLACK_CLIENT_SECRET": CLIENT_SECRET}
    [problem] = problems_for(env)
    assert problem.startswith("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set")
    assert "unset both" in problem


def test_secrets_are_not_in_the_repr():
    for env in (HTTP_ENV, SOCKET_ENV):
        text = repr(settings.from_mapping(env)) + str(settings.from_mapping(env))
        assert "C0123CARDS" in text or "G0PRIVATE" in text
        for secret in SECRETS:
            assert secret not in text


def test_secrets_are_not_in_the_error_even_when_everything_else_is_wrong():
    env = {
        **HTTP_ENV,
        "SLACK_APP_TOKEN": APP.replace("xapp-", "xoxa-"),
        "SLACK_CLIENT_ID": "1",
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_CHANNEL_ID": "nope",
        "PORT": "x",
    }
    assert len(problems_for(env)) == 4
    with pytest.raises(SettingsError) as caught:
        settings.from_mapping(env)
    assert "APPSECRET" not in str(caught.value)


def test_load_reads_the_env_file_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# settings for the test\n"
        f"SLACK_BOT_TOKEN={BOT}\n"
        f'SLACK_SIGNING_SECRET="{SIGNING}"\n'
        "SLACK_CHANNEL_ID=C0FROMFILE\n"
        f"FANVUE_ACCESS_TOKEN={FANVUE}\n"
        "PORT=4000\n"
    )
    from_file = settings.load(env_file, environ={})
    assert (from_file.slack_channel_id, from_file.slack_signing_secret, from_file.port) == (
        "C0FROMFILE",
        SIGNING,
        4000,
    )

    both = settings.load(env_file, environ={"SLACK_CHANNEL_ID": "C0FROMENV", "PORT": "5000"})
    assert (both.slack_channel_id, both.port, both.slack_bot_token) == ("C0FROMENV", 5000, BOT)


def test_load_without_a_file_uses_the_environment_only(tmp_path):
    s = settings.load(tmp_path / "absent.env", environ=HTTP_ENV)
    assert s == settings.from_mapping(HTTP_ENV)
    with pytest.raises(SettingsError):
        settings.load(tmp_path / "absent.env", environ={})


def test_load_reads_the_process_environment_by_default(tmp_path, monkeypatch):
    for name in (*HTTP_ENV, *SOCKET_ENV, "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in SOCKET_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PORT", "6000")
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=4000\nPOLL_INTERVAL_SECONDS=30\n")
    s = settings.load(env_file)
    assert (s.socket_mode, s.port, s.poll_interval) == (True, 6000, 30)


def _run_app(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "app.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_app_with_no_settings_exits_2_listing_the_problems(tmp_path):
    done = _run_app(tmp_path, "once", "--env-file", str(tmp_path / "missing.env"))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert "fix these settings" in done.stderr
    for name in REQUIRED:
        assert f"  - {name} is missing" in done.stderr
    assert not (tmp_path / "data").exists()


def test_app_with_a_bad_env_file_keeps_the_secrets_out_of_its_complaint(tmp_path):
    env_file = tmp_path / "bad.env"
    env_file.write_text(
        f"SLACK_BOT_TOKEN={BOT}\nFANVUE_ACCESS_TOKEN={FANVUE}\nSLACK_SIGNING_SECRET={SIGNING}\n"
        f"SLACK_CLIENT_ID=1\nSLACK_CLIENT_SECRET={CLIENT_SECRET}\nPORT=abc\n"
    )
    done = _run_app(tmp_path, "once", "--env-file", str(env_file))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    for name in ("SLACK_CHANNEL_ID", "SLACK_CLIENT_ID", "PORT"):
        assert f"  - {name}" in done.stderr
    for secret in SECRETS:
        assert secret not in done.stderr + done.stdout


def test_a_missing_env_file_is_named_when_settings_are_missing(tmp_path):
    with pytest.raises(SettingsError) as caught:
        settings.load(tmp_path / ".env", environ={})
    assert f"No settings file was found at {tmp_path / '.env'}" in str(caught.value)
    assert "SLACK_BOT_TOKEN is missing" in str(caught.value)

    (tmp_path / ".env").write_text("PORT=4000\n")
    with pytest.raises(SettingsError) as caught:
        settings.load(tmp_path / ".env", environ={})
    assert "No settings file" not in str(caught.value)


def test_every_placeholder_left_from_env_example_is_named_with_what_to_put_there():
    from dotenv import dotenv_values

    example = {k: v for k, v in dotenv_values(ROOT / ".env.example").items() if v}
    assert {"SLACK_BOT_TOKEN", "SLACK_CHANNEL_ID", "SLACK_APP_TOKEN"} <= set(example)
    found = problems_for(example)
    for name, value in example.items():
        about = [p for p in found if p.startswith(f"{name} ")]
        assert len(about) == 1, (name, found)  # the placeholder, not also "missing" or "should start with"
        assert f"still the placeholder {value!r} from .env.example" in about[0]
    assert "Bot User OAuth Token" in problem_about(example, "SLACK_BOT_TOKEN")


def test_an_unchanged_app_token_placeholder_does_not_pick_socket_mode():
    problem = problem_about({**HTTP_ENV, "SLACK_APP_TOKEN": "xapp-..."}, "SLACK_APP_TOKEN")
    assert "placeholder 'xapp-...'" in problem and "app-level token" in problem
    assert "delete the line" in problem


@pytest.mark.parametrize("value", ["...", "C...", "xoxb-…", "sk-..."])
def test_placeholder_shapes(value):
    problem = problem_about({**HTTP_ENV, "SLACK_SIGNING_SECRET": value}, "SLACK_SIGNING_SECRET")
    assert "placeholder" in problem


def test_real_values_ending_in_dots_are_not_taken_for_placeholders():
    assert settings.from_mapping({**HTTP_ENV, "SLACK_SIGNING_SECRET": "abc123def456..."}).slack_signing_secret


@pytest.mark.parametrize("value", ["0.0.0.0", "127.0.0.1", "::", "::1", "localhost", "app.internal"])
def test_host_takes_addresses_and_host_names(value):
    assert settings.from_mapping({**HTTP_ENV, "HOST": value}).host == value


def test_host_defaults_to_all_interfaces():
    assert settings.from_mapping(HTTP_ENV).host == "0.0.0.0"


@pytest.mark.parametrize("value", ["http://0.0.0.0", "0.0.0.0:3000", "my host", "-bad"])
def test_a_malformed_host_is_named(value):
    assert f"got {value!r}" in problem_about({**HTTP_ENV, "HOST": value}, "HOST")
