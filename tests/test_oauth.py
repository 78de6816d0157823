"""The stored Fanvue login against the sandbox's authorization server: renewal, rotation, reuse, pausing polling."""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import runtime as app_runtime
import settings as settings_module
from fanvue import FanvueClient, FanvueUnavailable
from fanvue.oauth import (
    InvalidGrant,
    LoginRequired,
    OAuthConfig,
    OAuthError,
    TokenEndpoint,
    code_challenge,
    new_verifier,
)
from inbox import decisions
from inbox.login_state import PAUSED_NOTICE, RESUMED_NOTICE
from inbox.stored_login import RefreshingToken
from store import tokens
from store.clock import utcnow
from store.db import Store, write
from store.tokens import TokenPair
from tests.harness import BOT_TOKEN

CHANNEL = "C0LOGIN"
REDIRECT = "http://127.0.0.1:9/callback"  # never served: the tests read the code from the redirect itself


def _config(sandbox, **changes) -> OAuthConfig:
    oauth = sandbox.world.oauth
    config = OAuthConfig(
        oauth.client_id, oauth.client_secret, auth_base=sandbox.url, redirect_uri=REDIRECT, timeout=5
    )
    return dataclasses.replace(config, **changes)


def _authorize(sandbox, endpoint: TokenEndpoint, verifier: str) -> str:
    location = requests.get(
        endpoint.authorize_url("st4te", code_challenge(verifier)), allow_redirects=False, timeout=5
    ).headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["st4te"]
    return query["code"][0]


def _log_in(sandbox, store: Store) -> TokenPair:
    """The code flow without the callback server: authorize, exchange, store."""
    endpoint = TokenEndpoint(_config(sandbox))
    verifier = new_verifier()
    pair = endpoint.exchange_code(_authorize(sandbox, endpoint, verifier), verifier)
    endpoint.close()
    with write(store.db):
        return tokens.save(store.db, pair)


def _oauth_state(sandbox) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/oauth", timeout=5).json()


def _stored(store: Store) -> TokenPair | None:
    return tokens.load(store.db)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "bridge.db")
    yield s
    s.close()


@pytest.fixture
def endpoint(sandbox):
    e = TokenEndpoint(_config(sandbox))
    yield e
    e.close()


@pytest.fixture
def provider(store, endpoint):
    token = RefreshingToken(store.path, endpoint)
    yield token
    token.close()


@pytest.fixture
def client(sandbox, provider):
    with FanvueClient(sandbox.url, provider, timeout=5, sleep=lambda _s: None) as c:
        yield c


# --- PKCE and the authorization server ------------------------------------------------------------


def test_s256_challenge_matches_rfc_7636():
    assert (
        code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    assert len(new_verifier()) >= 43 and new_verifier() != new_verifier()


def test_a_code_needs_its_verifier_and_works_once(sandbox, endpoint):
    verifier = new_verifier()
    code = _authorize(sandbox, endpoint, verifier)
    with pytest.raises(InvalidGrant):
        endpoint.exchange_code(code, new_verifier())
    pair = endpoint.exchange_code(code, verifier)
    assert pair.refresh_token and sandbox.world.token_valid(pair.access_token)
    with pytest.raises(InvalidGrant):
        endpoint.exchange_code(code, verifier)
    # A replayed code revokes what it granted.
    assert not sandbox.world.token_valid(pair.access_token)


def test_wrong_client_secret_is_invalid_client(sandbox):
    bad = TokenEndpoint(_config(sandbox, client_secret="not-the-secret"))
    with pytest.raises(OAuthError) as caught:
        bad.refresh("anything")
    assert caught.value.error == "invalid_client" and "FANVUE_CLIENT_SECRET" in str(caught.value)
    assert not isinstance(caught.value, InvalidGrant)


def test_authorize_without_pkce_redirects_with_an_error(sandbox, endpoint):
    url = endpoint.authorize_url("s", "c").replace(
        "code_challenge_method=S256", "code_challenge_method=plain"
    )
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    assert parse_qs(urlsplit(location).query)["error"] == ["invalid_request"]


# --- renewing -------------------------------------------------------------------------------------


def test_a_fresh_login_is_used_as_is(sandbox, store, provider, client):
    pair = _log_in(sandbox, store)
    assert provider() == pair.access_token
    assert client.me().handle == sandbox.world.creator["handle"]
    assert _oauth_state(sandbox)["token_calls"] == 1  # the code exchange only


def test_renews_shortly_before_expiry_and_stores_the_new_pair_first(sandbox, store, endpoint):
    old = _log_in(sandbox, store)
    almost = RefreshingToken(store.path, endpoint, clock=lambda: old.expires_at - timedelta(seconds=30))
    try:
        fresh = almost()
    finally:
        almost.close()
    stored = _stored(store)
    assert fresh != old.access_token and fresh == stored.access_token
    assert stored.refresh_token != old.refresh_token and stored.expires_at > old.expires_at
    assert sandbox.world.token_valid(fresh)
    assert _oauth_state(sandbox)["token_calls"] == 2
    # No 401 was needed: the API never saw a rejected token.
    assert all(r.token_ok for r in sandbox.world.requests)


def test_short_lived_tokens_renew_at_half_life_not_on_every_call(sandbox, store, endpoint):
    requests.post(f"{sandbox.url}/_sandbox/oauth", json={"access_ttl": 100}, timeout=5).raise_for_status()
    pair = _log_in(sandbox, store)
    now = utcnow()
    early = RefreshingToken(store.path, endpoint, clock=lambda: now + timedelta(seconds=10))
    late = RefreshingToken(store.path, endpoint, clock=lambda: pair.expires_at - timedelta(seconds=40))
    try:
        assert early() == pair.access_token
        assert late() != pair.access_token
    finally:
        early.close()
        late.close()
    assert _oauth_state(sandbox)["token_calls"] == 2


def test_renews_after_a_401_and_retries_the_call(sandbox, store, provider, client):
    old = _log_in(sandbox, store)
    requests.post(f"{sandbox.url}/_sandbox/tokens/expire", timeout=5).raise_for_status()
    sandbox.world.clear_requests()

    assert client.me().uuid == sandbox.world.creator["uuid"]

    assert [(r.path, r.status) for r in sandbox.world.requests] == [("/users/me", 401), ("/users/me", 200)]
    assert _oauth_state(sandbox)["token_calls"] == 2
    assert _stored(store).access_token != old.access_token


def test_eight_threads_hitting_401_at_once_cause_exactly_one_refresh(sandbox, store, client):
    _log_in(sandbox, store)
    requests.post(f"{sandbox.url}/_sandbox/tokens/expire", timeout=5).raise_for_status()
    start = threading.Barrier(8)
    handles, errors = [], []

    def call() -> None:
        start.wait()
        try:
            handles.append(client.me().handle)
        except Exception as exc:  # collected so the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert errors == [] and len(handles) == 8
    assert _oauth_state(sandbox)["token_calls"] == 2  # the login, then one refresh
    assert sum(r.status == 200 for r in sandbox.world.requests) == 8


def test_two_processes_sharing_the_database_refresh_once(sandbox, store, endpoint):
    """Two providers with their own connections stand in for two processes: the second re-reads the new pair."""
    old = _log_in(sandbox, store)
    first, second = RefreshingToken(store.path, endpoint), RefreshingToken(store.path, endpoint)
    start = threading.Barrier(2)
    got: list[str] = []

    def renew(provider: RefreshingToken) -> None:
        start.wait()
        got.append(provider(stale=old.access_token))

    threads = [threading.Thread(target=renew, args=(p,)) for p in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    first.close()
    second.close()
    assert len(got) == 2 and got[0] == got[1] == _stored(store).access_token
    assert _oauth_state(sandbox)["token_calls"] == 2


# --- when the grant dies --------------------------------------------------------------------------


def test_presenting_a_spent_refresh_token_revokes_the_grant(sandbox, store, provider, endpoint, client):
    old = _log_in(sandbox, store)
    current = provider(stale=old.access_token)  # one rotation: old.refresh_token is now spent
    assert client.me()

    with pytest.raises(InvalidGrant):
        endpoint.refresh(old.refresh_token)  # a stolen copy presented: the whole grant goes
    assert not sandbox.world.token_valid(current)
    assert _oauth_state(sandbox)["grants"][0]["revoked"] is True

    with pytest.raises(LoginRequired) as caught:
        client.me()
    assert "python app.py login" in str(caught.value) and "invalid_grant" in str(caught.value)
    assert _stored(store) is None
    with pytest.raises(LoginRequired):
        provider()


@pytest.mark.parametrize("fault", ["drop_response", "500"])
def test_a_refresh_without_an_answer_is_not_repeated(sandbox, store, provider, fault):
    old = _log_in(sandbox, store)
    requests.post(
        f"{sandbox.url}/_sandbox/oauth", json={"fault": {"kind": fault}}, timeout=5
    ).raise_for_status()

    with pytest.raises(LoginRequired) as caught:
        provider(stale=old.access_token)
    assert "not presented again" in str(caught.value)
    assert _stored(store) is None
    with pytest.raises(LoginRequired):
        provider(stale=old.access_token)
    assert _oauth_state(sandbox)["token_calls"] == 2  # the login and the one refresh, never a second


def test_a_token_endpoint_that_cannot_be_reached_keeps_the_login(sandbox, store, endpoint):
    old = _log_in(sandbox, store)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    unreachable = TokenEndpoint(_config(sandbox, auth_base=closed))
    offline = RefreshingToken(store.path, unreachable)
    with pytest.raises(FanvueUnavailable) as caught:
        offline(stale=old.access_token)
    offline.close()
    assert not isinstance(caught.value, LoginRequired) and "nothing was sent" in str(caught.value)
    assert _stored(store).refresh_token == old.refresh_token  # never sent, so still good
    online = RefreshingToken(store.path, endpoint)
    assert online(stale=old.access_token) != old.access_token
    online.close()


def test_a_wrong_client_secret_keeps_the_login(sandbox, store):
    old = _log_in(sandbox, store)
    wrong = RefreshingToken(store.path, TokenEndpoint(_config(sandbox, client_secret="changed")))
    with pytest.raises(OAuthError) as caught:
        wrong(stale=old.access_token)
    wrong.close()
    assert caught.value.error == "invalid_client"
    assert _stored(store) == old


def test_tokens_never_reach_the_log_or_a_repr(sandbox, store, provider, client, caplog):
    caplog.set_level(logging.DEBUG)
    old = _log_in(sandbox, store)
    requests.post(f"{sandbox.url}/_sandbox/tokens/expire", timeout=5).raise_for_status()
    client.me()
    new = _stored(store)
    requests.post(f"{sandbox.url}/_sandbox/oauth/revoke", timeout=5).raise_for_status()
    requests.post(f"{sandbox.url}/_sandbox/tokens/expire", timeout=5).raise_for_status()
    with pytest.raises(LoginRequired) as caught:
        client.me()
    assert "Renewed the Fanvue access token" in caplog.text
    shown = caplog.text + repr(old) + repr(new) + repr(provider) + repr(caught.value) + str(caught.value)
    for secret in (
        old.access_token,
        old.refresh_token,
        new.access_token,
        new.refresh_token,
        sandbox.world.oauth.client_secret,
    ):
        assert secret not in shown


# --- the running app pauses polling while the login is dead ----------------------------------------


@pytest.fixture
def runtime(tmp_path, sandbox, slack):
    oauth = sandbox.world.oauth
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_CHANNEL_ID": CHANNEL,
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": slack.api_url,
        "SLACK_MAX_POSTS_PER_CYCLE": "2",
        "FANVUE_API_BASE": sandbox.url,
        "FANVUE_AUTH_BASE": sandbox.url,
        "FANVUE_CLIENT_ID": oauth.client_id,
        "FANVUE_CLIENT_SECRET": oauth.client_secret,
        "DATABASE_PATH": str(tmp_path / "bridge.db"),
    }
    first = Store(tmp_path / "bridge.db")
    _log_in(sandbox, first)
    first.close()
    settings = settings_module.from_mapping(env, login_stored=tokens.stored_at)
    rt = app_runtime.build(dataclasses.replace(settings, slack_post_interval=0))
    yield rt
    rt.executor.shutdown(wait=True)
    rt.services.fanvue.close()
    rt.services.store.close()


def _top_level(slack) -> list:
    return [m for m in slack.messages(CHANNEL) if not m.thread_ts]


def _notices(slack) -> list[str]:
    return [m.text for m in slack.messages(CHANNEL) if m.text in (PAUSED_NOTICE, RESUMED_NOTICE)]


def test_a_dead_login_pauses_polling_with_one_notice_and_a_new_login_resumes_it(
    sandbox, slack, runtime, caplog
):
    assert runtime.login is not None
    runtime.cycle()
    assert runtime.last_cycle["ok"] is True
    cards = len(_top_level(slack))  # thread replies are nudges: the seed's fans wrote days ago
    assert cards == 2

    requests.post(f"{sandbox.url}/_sandbox/oauth/revoke", timeout=5).raise_for_status()
    requests.post(f"{sandbox.url}/_sandbox/tokens/expire", timeout=5).raise_for_status()
    runtime.cycle()
    assert runtime.login.paused and runtime.last_cycle["error"] == "LoginRequired"
    assert "python app.py login" in caplog.text

    sandbox.world.clear_requests()
    calls_before = _oauth_state(sandbox)["token_calls"]
    for _ in range(3):
        runtime.cycle()
    assert sandbox.world.requests == []  # paused cycles ask Fanvue nothing
    assert _oauth_state(sandbox)["token_calls"] == calls_before
    notices = _notices(slack)
    assert len(notices) == 1 and "python app.py login" in notices[0]
    assert len(_top_level(slack)) == cards + 1

    # Buttons still answer, with the reason.
    draft = runtime.services.store.db.execute("SELECT id, version FROM drafts LIMIT 1").fetchone()
    outcome = decisions.send(runtime.services, draft[0], draft[1], "U0ALICE")
    assert outcome.kind == "released" and "python app.py login" in outcome.message

    _log_in(sandbox, runtime.services.store)
    runtime.cycle()
    assert not runtime.login.paused and runtime.last_cycle["ok"] is True
    assert sandbox.world.requests and all(r.token_ok for r in sandbox.world.requests)
    notices = _notices(slack)
    assert len(notices) == 2 and "resumed" in notices[1]


def test_the_pause_notice_is_retried_until_slack_takes_it(sandbox, slack, runtime):
    requests.post(f"{sandbox.url}/_sandbox/oauth/revoke", timeout=5).raise_for_status()
    requests.post(f"{sandbox.url}/_sandbox/tokens/expire", timeout=5).raise_for_status()
    slack.fail("chat.postMessage", error="not_in_channel", count=1)
    runtime.cycle()
    assert runtime.login.paused and _notices(slack) == []
    runtime.cycle()
    runtime.cycle()
    assert len(_notices(slack)) == 1
    assert len(slack.calls("chat.postMessage")) == 2  # the refused notice, then the one that arrived
