"""`python app.py login` as a process against the sandbox's authorization server, with a scripted browser."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import settings
from settings import SettingsError
from store import tokens
from store.clock import utcnow
from store.db import Store, write
from store.tokens import TokenPair
from tests.procs import free_port

ROOT = Path(__file__).resolve().parents[1]


def _env(sandbox, db_path: Path, **extra: str) -> dict[str, str]:
    oauth = sandbox.world.oauth
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "FANVUE_CLIENT_ID": oauth.client_id,
        "FANVUE_CLIENT_SECRET": oauth.client_secret,
        "FANVUE_AUTH_BASE": sandbox.url,
        "FANVUE_API_BASE": sandbox.url,
        "FANVUE_REDIRECT_URI": f"http://127.0.0.1:{free_port()}/callback",
        "DATABASE_PATH": str(db_path),
        "LOG_LEVEL": "DEBUG",
    }
    env.update(extra)
    return env


class LoginProcess:
    """`app.py login --no-browser` in the background; reads the address it prints."""

    def __init__(
        self, tmp_path: Path, env: dict[str, str], timeout: float = 20, extra: tuple[str, ...] = ()
    ) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "app.py",
                "login",
                "--no-browser",
                "--timeout",
                str(timeout),
                "--env-file",
                str(tmp_path / "none"),
                *extra,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.printed: list[str] = []

    def authorize_url(self) -> str:
        for line in self.proc.stdout:
            self.printed.append(line)
            if line.strip().startswith("http"):
                return line.strip()
        raise AssertionError(f"login printed no address: {self.finish()}")

    def finish(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, "".join(self.printed) + out, err


def _browser(authorize_url: str) -> requests.Response:
    """What the creator's browser does: Fanvue redirects (auto-approved), the browser follows to the callback."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return requests.get(answer.headers["Location"], timeout=5)


def _token_calls(sandbox) -> int:
    return requests.get(f"{sandbox.url}/_sandbox/oauth", timeout=5).json()["token_calls"]


def test_login_stores_the_tokens_and_says_who_is_logged_in(tmp_path, sandbox):
    db_path = tmp_path / "bridge.db"
    env = _env(sandbox, db_path)
    login = LoginProcess(tmp_path, env)
    url = login.authorize_url()
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{sandbox.url}/oauth2/auth?")
    assert (
        query["scope"]
        == "openid offline_access offline read:self read:chat write:chat read:insights read:fan read:media"
    )
    assert (query["response_type"], query["code_challenge_method"]) == ("code", "S256")
    assert (
        query["redirect_uri"] == env["FANVUE_REDIRECT_URI"] and query["client_id"] == env["FANVUE_CLIENT_ID"]
    )
    assert len(query["state"]) >= 20 and len(query["code_challenge"]) == 43

    page = _browser(url)
    code, out, err = login.finish()

    assert code == 0, err
    assert page.status_code == 200 and "Return to the terminal" in page.text
    assert f"Logged in to Fanvue as {sandbox.world.creator['displayName']}" in out
    assert f"(@{sandbox.world.creator['handle']})" in out
    store = Store(db_path)
    try:
        pair = tokens.load(store.db)
    finally:
        store.close()
    assert pair is not None and pair.refresh_token and "read:chat" in pair.scope
    assert sandbox.world.token_valid(pair.access_token)
    assert _token_calls(sandbox) == 1
    # /users/me went out with the new token.
    assert [(r.path, r.status, r.token_ok) for r in sandbox.world.requests] == [("/users/me", 200, True)]
    # Neither the tokens nor the code reach the terminal or the log, even at DEBUG.
    redirect_code = parse_qs(urlsplit(page.url).query)["code"][0]
    for secret in (pair.access_token, pair.refresh_token, redirect_code, env["FANVUE_CLIENT_SECRET"]):
        assert secret not in out + err


def test_login_can_listen_on_all_addresses_as_in_a_container(tmp_path, sandbox):
    env = _env(
        sandbox,
        tmp_path / "bridge.db",
        FANVUE_REDIRECT_URI=f"http://localhost:{free_port()}/callback",
        LOG_LEVEL="WARNING",
    )
    login = LoginProcess(tmp_path, env, extra=("--listen", "0.0.0.0"))
    page = _browser(login.authorize_url())
    code, out, err = login.finish()
    assert code == 0, err
    assert page.status_code == 200 and "Logged in to Fanvue as" in out


def test_a_redirect_with_the_wrong_state_is_refused_and_nothing_is_exchanged(tmp_path, sandbox):
    env = _env(sandbox, tmp_path / "bridge.db")
    login = LoginProcess(tmp_path, env)
    url = login.authorize_url()
    real = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    forged = real.replace("state=", "state=forged")
    page = requests.get(forged, timeout=5)
    code, out, err = login.finish()

    assert page.status_code == 400 and "state does not match" in page.text
    assert code == 1
    assert "state does not match" in err and "nothing was exchanged" in err
    assert _token_calls(sandbox) == 0
    store = Store(tmp_path / "bridge.db")
    try:
        assert tokens.load(store.db) is None
    finally:
        store.close()


def test_a_refusal_at_fanvue_is_reported(tmp_path, sandbox):
    requests.post(f"{sandbox.url}/_sandbox/oauth", json={"deny": True}, timeout=5).raise_for_status()
    login = LoginProcess(tmp_path, _env(sandbox, tmp_path / "bridge.db"))
    page = _browser(login.authorize_url())
    code, out, err = login.finish()
    assert page.status_code == 400
    assert code == 1 and "Fanvue did not grant access (access_denied" in err
    assert _token_calls(sandbox) == 0


def test_no_answer_from_the_browser_times_out(tmp_path, sandbox):
    login = LoginProcess(tmp_path, _env(sandbox, tmp_path / "bridge.db"), timeout=0.3)
    login.authorize_url()
    code, out, err = login.finish()
    assert code == 1 and "No answer from the browser" in err
    assert _token_calls(sandbox) == 0


def test_login_needs_the_app_credentials_but_no_slack_settings(tmp_path, sandbox):
    env = _env(sandbox, tmp_path / "bridge.db")
    del env["FANVUE_CLIENT_ID"], env["FANVUE_CLIENT_SECRET"]
    done = subprocess.run(
        [sys.executable, "app.py", "login", "--no-browser", "--env-file", str(tmp_path / "none")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    named = sorted(line.split()[1] for line in done.stderr.splitlines() if line.startswith("  - "))
    assert named == ["FANVUE_CLIENT_ID", "FANVUE_CLIENT_SECRET"]


def test_once_runs_on_the_stored_login_without_an_access_token(tmp_path, sandbox, slack):
    db_path = tmp_path / "bridge.db"
    env = _env(sandbox, db_path)
    login = LoginProcess(tmp_path, env)
    _browser(login.authorize_url())
    assert login.finish()[0] == 0
    sandbox.world.clear_requests()

    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_CHANNEL_ID": "C0PROC",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": slack.api_url,
            "SLACK_MAX_POSTS_PER_CYCLE": "2",
            "LOG_LEVEL": "WARNING",
        }
    )
    done = subprocess.run(
        [sys.executable, "app.py", "once", "--env-file", str(tmp_path / "none")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "2 posted" in done.stdout
    assert sandbox.world.requests and all(r.token_ok for r in sandbox.world.requests)


def test_without_a_login_or_an_access_token_the_app_says_to_log_in(tmp_path, slack):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_CHANNEL_ID": "C0PROC",
        "SLACK_SIGNING_SECRET": "s",
        "DATABASE_PATH": str(tmp_path / "bridge.db"),
    }
    done = subprocess.run(
        [sys.executable, "app.py", "once", "--env-file", str(tmp_path / "none")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "FANVUE_ACCESS_TOKEN is missing and no Fanvue login is stored" in done.stderr
    assert "python app.py login" in done.stderr


# --- the settings the login needs -----------------------------------------------------------------

SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CHANNEL_ID": "C01", "SLACK_SIGNING_SECRET": "s"}
CLIENT = {"FANVUE_CLIENT_ID": "client-1", "FANVUE_CLIENT_SECRET": "CLIENTSECRET-77"}


def _problems(env: dict, **options) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        settings.from_mapping(env, **options)
    return [p.split(" ", 1)[0] for p in caught.value.problems]


def test_login_settings_need_the_app_credentials_only():
    assert _problems({}, login=True) == ["FANVUE_CLIENT_ID", "FANVUE_CLIENT_SECRET"]
    s = settings.from_mapping({**CLIENT, "FANVUE_REDIRECT_URI": "http://127.0.0.1:9999/cb/"}, login=True)
    assert (s.fanvue_client_id, s.fanvue_auth_base, s.fanvue_redirect_uri) == (
        "client-1",
        "https://auth.fanvue.com",
        "http://127.0.0.1:9999/cb/",
    )
    assert "CLIENTSECRET-77" not in repr(s)


def test_a_stored_login_replaces_the_access_token_and_needs_the_app_credentials(tmp_path):
    seen = []

    def stored(path: Path) -> bool:
        seen.append(path)
        return True

    env = {**SLACK_ENV, "DATABASE_PATH": str(tmp_path / "x.db")}
    assert _problems(env, login_stored=stored) == ["FANVUE_CLIENT_ID", "FANVUE_CLIENT_SECRET"]
    s = settings.from_mapping({**env, **CLIENT}, login_stored=stored)
    assert s.fanvue_access_token is None and seen[-1] == tmp_path / "x.db"
    assert _problems(env, login_stored=lambda _p: False) == ["FANVUE_ACCESS_TOKEN"]


def test_the_redirect_uri_must_be_local_http():
    assert _problems({**CLIENT, "FANVUE_REDIRECT_URI": "https://example.com/cb"}, login=True) == [
        "FANVUE_REDIRECT_URI"
    ]


def test_stored_at_reads_without_creating_anything(tmp_path):
    path = tmp_path / "sub" / "bridge.db"
    assert tokens.stored_at(path) is False and not path.parent.exists()
    store = Store(path)
    try:
        assert tokens.stored_at(path) is False
        with write(store.db):
            tokens.save(store.db, TokenPair("a", "r", utcnow(), "read:self"))
        assert tokens.stored_at(path) is True
    finally:
        store.close()
