"""/healthz tells the truth in both modes, and Socket Mode starts cleanly, or stops with one line."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys

import pytest
import requests

import runtime as app_runtime
import settings as settings_module
from inbox.health import FAILED_CYCLES_UNHEALTHY
from slack import socket_mode
from store import tokens
from store.db import Store
from tests.harness import Harness
from tests.host_env import ROOT, env, run_app, start_app
from tests.procs import free_port, wait_for
from tests.test_oauth import _log_in

WAIT = 20.0
# slack_sdk counts a connection stale after 4 pings without an answer, checked once a ping: with a 3 s ping
# about 15 s; with its default of 10 s, 40 s or more.
RECONNECT_WAIT = 30.0


def docker_healthcheck(port: int, host: str | None = None) -> int:
    """The exit status of the Dockerfile's HEALTHCHECK command, run here against PORT (and HOST)."""
    line = next(x for x in (ROOT / "Dockerfile").read_text().splitlines() if x.startswith("HEALTHCHECK"))
    command = line.split(" CMD ", 1)[1].replace("python ", f"{sys.executable} ", 1)
    values = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), **({"HOST": host} if host else {})}
    return subprocess.run(["sh", "-c", command], env=values, capture_output=True, timeout=30).returncode


def _health(base: str) -> tuple[int, dict]:
    answer = requests.get(f"{base}/healthz", timeout=5)
    return answer.status_code, answer.json()


def test_healthz_fails_after_three_failed_cycles_in_a_row_and_passes_after_one_that_works(harness: Harness):
    base = f"http://127.0.0.1:{harness.server.port}"
    harness.sandbox.world.inject_fault("404", count=FAILED_CYCLES_UNHEALTHY, method="GET", path="/users/me")
    for failed in range(FAILED_CYCLES_UNHEALTHY):
        status, report = _health(base)
        assert (status, report["ok"], report["failed_cycles"]) == (200, True, failed)
        harness.runtime.cycle()
        assert harness.runtime.last_cycle["ok"] is False
    status, report = _health(base)
    assert status == 503 and report["ok"] is False
    assert f"the last {FAILED_CYCLES_UNHEALTHY} poll cycles failed" in report["reason"]
    assert requests.head(f"{base}/healthz", timeout=5).status_code == 503
    assert docker_healthcheck(harness.server.port) != 0
    harness.runtime.cycle()
    status, report = _health(base)
    assert status == 200 and report["ok"] is True and report["last_cycle"]["ok"] is True
    assert "reason" not in report
    assert docker_healthcheck(harness.server.port) == 0


@pytest.fixture
def stored_login_runtime(tmp_path, sandbox, slack):
    oauth = sandbox.world.oauth
    values = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_CHANNEL_ID": "C0HOST",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": slack.api_url,
        "FANVUE_API_BASE": sandbox.url,
        "FANVUE_AUTH_BASE": sandbox.url,
        "FANVUE_CLIENT_ID": oauth.client_id,
        "FANVUE_CLIENT_SECRET": oauth.client_secret,
        "DATABASE_PATH": str(tmp_path / "bridge.db"),
    }
    first = Store(tmp_path / "bridge.db")
    _log_in(sandbox, first)
    first.close()
    settings = settings_module.from_mapping(values, login_stored=tokens.stored_at)
    built = app_runtime.build(dataclasses.replace(settings, slack_post_interval=0, port=0), host="127.0.0.1")
    built.serve()
    yield built
    built.stop(drain=10)


def test_healthz_fails_at_once_while_the_fanvue_login_is_paused(stored_login_runtime, sandbox):
    runtime = stored_login_runtime
    base = f"http://127.0.0.1:{runtime.server.port}"
    runtime.cycle()
    assert _health(base)[0] == 200
    requests.post(f"{sandbox.url}/_sandbox/oauth/revoke", timeout=5).raise_for_status()
    requests.post(f"{sandbox.url}/_sandbox/tokens/expire", timeout=5).raise_for_status()
    runtime.cycle()  # one failed cycle, but the login is dead: no use waiting for more
    status, report = _health(base)
    assert status == 503 and "paused" in report["reason"] and "python app.py login" in report["reason"]


def _socket_env(sandbox, slack, tmp_path, **extra: str) -> dict[str, str]:
    values = env(sandbox, slack, tmp_path / "bridge.db", SLACK_APP_TOKEN=slack.app_token, **extra)
    del values["SLACK_SIGNING_SECRET"]
    return values


def test_socket_mode_serves_healthz_alone_on_port_and_host(tmp_path, sandbox, slack):
    port = free_port()
    values = _socket_env(
        sandbox, slack, tmp_path, PORT=str(port), HOST="127.0.0.1", POLL_INTERVAL_SECONDS="3600"
    )
    proc = start_app("run", env=values, env_file=tmp_path / "none")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), what="the health port")
        report = wait_for(lambda: _health(base)[1]["last_cycle"] and _health(base)[1], what="a cycle report")
        assert report["ok"] is True and report["last_cycle"]["ok"] is True
        assert slack.socket.connections == 1  # Slack's requests come over the socket...
        assert requests.post(f"{base}/slack/events", data="x", timeout=5).status_code == 404  # ...not here
        assert docker_healthcheck(port, "127.0.0.1") == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err, err


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


@pytest.mark.parametrize(
    "where, says",
    [("refused", "Slack refused SLACK_APP_TOKEN (invalid_auth)"), ("unreachable", "Could not reach Slack")],
)
def test_run_stops_with_one_line_when_socket_mode_cannot_connect(tmp_path, sandbox, slack, where, says):
    values = _socket_env(sandbox, slack, tmp_path, PORT=str(free_port()))
    with socket.socket() as nobody:
        # Bound and never listening: connections are refused, and no other process can take the port.
        nobody.bind(("127.0.0.1", 0))
        if where == "refused":
            values["SLACK_APP_TOKEN"] = "xapp-revoked-0123456789"
        else:
            values["SLACK_API_URL"] = f"http://127.0.0.1:{nobody.getsockname()[1]}/api/"
        done = run_app("run", env=values, env_file=tmp_path / "none")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if says in line]
    assert len(lines) == 1, done.stderr
    assert "xapp-revoked-0123456789" not in done.stderr + done.stdout
    assert sandbox.world.request_count() == 0  # no cycle ran
    assert slack.socket.connections == 0


def test_socket_mode_notices_a_silently_dropped_connection_and_reconnects(tmp_path, sandbox, slack):
    assert 0.75 < socket_mode.PING_INTERVAL < 10  # slack_sdk's floor, and under its default
    values = _socket_env(
        sandbox, slack, tmp_path, POLL_INTERVAL_SECONDS="3600", SLACK_MAX_POSTS_PER_CYCLE="1"
    )
    settings = settings_module.from_mapping(values)
    runtime = app_runtime.build(dataclasses.replace(settings, port=0), host="127.0.0.1")
    runtime.start()
    try:
        link = slack.socket
        link.wait_until(lambda: link.connections == 1, WAIT, "the first connection")
        assert link.drop_connections(close_frame=False) == 1  # no close frame: only the pings tell
        # With slack_sdk's default keep-alive this took about a minute.
        link.wait_until(lambda: link.connects >= 2 and link.connections >= 1, RECONNECT_WAIT, "a reconnect")
        assert requests.get(f"http://127.0.0.1:{runtime.server.port}/healthz", timeout=5).status_code == 200
    finally:
        assert runtime.stop(drain=10) is True
