"""SIGTERM stops `once` and `login` cleanly, and a refused FANVUE_ACCESS_TOKEN reads the same in `once`
and `run`: one line that says what to do, never a traceback."""

from __future__ import annotations

import signal
import socket
from urllib.parse import urlsplit

import requests

from inbox.health import STATIC_TOKEN_REFUSED
from store import drafts
from store.db import Store
from tests.host_env import env, run_app, start_app
from tests.procs import free_port, wait_for
from tests.test_login import LoginProcess, _env


def test_once_stopped_by_sigterm_while_posting_cards_leaves_every_card_recorded(tmp_path, sandbox, slack):
    # Cards go out one a second (SLACK_POST_INTERVAL's default), so the signal lands between two posts.
    values = env(sandbox, slack, tmp_path / "bridge.db", SLACK_MAX_POSTS_PER_CYCLE="30")
    proc = start_app("once", env=values, env_file=tmp_path / "none")
    try:
        wait_for(lambda: slack.messages("C0HOST"), what="the first card")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "Traceback" not in err, err
    assert "Stopped by SIGTERM" in err and "next cycle" in err
    assert "unread chats" in out  # the summary of what was done
    store = Store(tmp_path / "bridge.db")
    try:
        pending = drafts.with_status(store.db, drafts.PENDING)
        in_slack = {m.ts for m in slack.messages("C0HOST") if not m.thread_ts}  # cards, not nudges
        assert in_slack == {d.ts for d in pending if d.ts}  # every card in Slack is recorded, none twice
        assert any(d.ts is None for d in pending)  # the rest wait for the next cycle
    finally:
        store.close()
    again = run_app("once", env=values, env_file=tmp_path / "none")
    assert again.returncode == 0, again.stderr
    cards = [m for m in slack.messages("C0HOST") if not m.thread_ts]
    assert len(cards) == len(pending)  # the next cycle posts the rest, each once


def test_login_stopped_by_sigterm_closes_its_callback_server_and_says_so(tmp_path, sandbox):
    values = _env(sandbox, tmp_path / "bridge.db", LOG_LEVEL="WARNING")
    login = LoginProcess(tmp_path, values, timeout=60)
    login.authorize_url()  # printed once the callback server listens
    callback = urlsplit(values["FANVUE_REDIRECT_URI"])
    with socket.create_connection((callback.hostname, callback.port), timeout=5):
        pass
    login.proc.send_signal(signal.SIGTERM)
    code, out, err = login.finish()
    assert code == 1, err
    assert "Traceback" not in err, err
    assert "Login stopped by SIGTERM" in err
    assert "Logged in" not in out


def test_a_refused_access_token_reads_the_same_in_once_and_run(tmp_path, sandbox, slack):
    values = env(sandbox, slack, tmp_path / "bridge.db", FANVUE_ACCESS_TOKEN="expired-token-0123456789")
    done = run_app("once", env=values, env_file=tmp_path / "none")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert [line for line in done.stderr.splitlines() if "FANVUE_ACCESS_TOKEN" in line] == [
        STATIC_TOKEN_REFUSED
    ]

    port = free_port()
    proc = start_app(
        "run",
        env={**values, "PORT": str(port), "HOST": "127.0.0.1", "POLL_INTERVAL_SECONDS": "3600"},
        env_file=tmp_path / "none",
    )
    try:
        wait_for(lambda: _last_cycle(port), what="the first cycle")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "FANVUE_ACCESS_TOKEN" in line]
    assert len(lines) == 1 and lines[0].endswith(STATIC_TOKEN_REFUSED), err
    assert "expired-token-0123456789" not in done.stderr + err


def _last_cycle(port: int) -> dict | None:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()["last_cycle"]
    except requests.ConnectionError:
        return None
