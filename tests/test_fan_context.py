"""Fan context cached per creator and fan: cold reads in bulk, warm reads nothing, stale reads again, and
Fanvue down, slow or refusing never breaks a refresh."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

import settings
from fanvue import FanvueClient, RateBudget, StaticToken
from fanvue.insights import InsightsClient
from fanvue.scopes import CHAT_SCOPES
from inbox.fan_context import context_for, refresh_context
from standins.fanvue import Sandbox
from store import fan_context
from store.db import Store
from store.fan_context import FanContext
from tests.test_agency_scopes import log_in

TTL = timedelta(minutes=60)
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
STRANGER = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(fans=12, seed=11, hang_seconds=5) as sb:
        yield sb


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    st = Store(tmp_path / "bridge.db")
    yield st
    st.close()


def client_for(url: str, token: str, **kwargs) -> InsightsClient:
    kwargs.setdefault("read_retries", 1)
    return InsightsClient(
        FanvueClient(
            url, StaticToken(token), budget=RateBudget(sleep=lambda s: None), sleep=lambda s: None, **kwargs
        )
    )


def fans(sandbox: Sandbox) -> list[str]:
    return [fan["uuid"] for fan in sandbox.world.fans()]


def requests_to(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sandbox.world.requests]


def stored(store: Store) -> list[tuple]:
    return store.db.execute(
        "SELECT creator_uuid, fan_uuid, fetched_at FROM fan_context ORDER BY 2"
    ).fetchall()


def test_cold_reads_in_bulk_warm_reads_nothing_and_after_the_ttl_reads_again(sandbox, store):
    creator, client, everyone = (
        sandbox.world.creator["uuid"],
        client_for(sandbox.url, sandbox.token),
        fans(sandbox),
    )
    cold = refresh_context(store.db, client, creator, everyone, TTL, T0)
    assert (cold.stale, cold.stored, cold.failed, cold.missing_scope) == (12, 12, None, None)
    assert requests_to(sandbox) == [("POST", "/insights/fans/batch"), ("POST", "/chats/statuses")]

    sandbox.world.clear_requests()
    warm = refresh_context(store.db, client, creator, everyone, TTL, T0 + TTL - timedelta(seconds=1))
    assert (warm.stale, warm.stored) == (0, 0) and requests_to(sandbox) == []

    # A fan who is new to the desk is read on its own; the others stay cached.
    sandbox.world.clear_requests()
    refresh_context(store.db, client, creator, [*everyone, STRANGER], TTL, T0 + timedelta(minutes=1))
    batch = [r for r in sandbox.world.requests if r.path == "/insights/fans/batch"]
    assert len(batch) == 1 and requests_to(sandbox) == [
        ("POST", "/insights/fans/batch")
    ]  # no status: not a fan
    assert context_for(store.db, creator, STRANGER).unavailable == "not_found"

    sandbox.world.clear_requests()
    requests.post(
        f"{sandbox.url}/_sandbox/fans/{everyone[0]}/context", json={"totalCents": 777}, timeout=5
    ).raise_for_status()
    stale = refresh_context(store.db, client, creator, everyone, TTL, T0 + TTL)
    assert (stale.stale, stale.stored) == (12, 12)
    assert requests_to(sandbox) == [("POST", "/insights/fans/batch"), ("POST", "/chats/statuses")]
    assert context_for(store.db, creator, everyone[0]).total_spend_cents == 777
    assert context_for(store.db, creator, everyone[0]).fetched_at == T0 + TTL


def test_context_holds_what_fanvue_said_about_each_fan(sandbox, store):
    creator, everyone = sandbox.world.creator["uuid"], fans(sandbox)
    requests.post(
        f"{sandbox.url}/_sandbox/fans/{everyone[0]}/context",
        json={
            "totalCents": 123_400,
            "biggestCents": 20_000,
            "online": True,
            "lastSeenAt": "2026-12-01T11:59:00Z",
        },
        timeout=5,
    ).raise_for_status()
    refresh_context(store.db, client_for(sandbox.url, sandbox.token), creator, everyone, TTL, T0)
    first = context_for(store.db, creator, everyone[0])
    assert isinstance(first, FanContext) and first.status == "subscriber" and first.auto_renew is True
    assert (first.total_spend_cents, first.biggest_payment_cents, first.online) == (123_400, 20_000, True)
    assert first.last_seen_at == datetime(2026, 12, 1, 11, 59, tzinfo=UTC)
    assert context_for(store.db, creator, everyone[1]).status == "expired"
    never = context_for(store.db, creator, everyone[3])
    assert (never.status, never.total_spend_cents, never.last_purchase_at, never.online) == (
        "follower",
        0,
        None,
        False,
    )
    assert context_for(store.db, creator, STRANGER) is None


def test_one_creators_context_is_never_another_creators(sandbox, store):
    creator, client, everyone = (
        sandbox.world.creator["uuid"],
        client_for(sandbox.url, sandbox.token),
        fans(sandbox),
    )
    refresh_context(store.db, client, creator, everyone[:2], TTL, T0)
    other = "11111111-1111-4111-8111-111111111111"
    assert context_for(store.db, other, everyone[0]) is None
    assert fan_context.stale_fans(store.db, other, everyone[:2], TTL, T0) == everyone[:2]
    assert fan_context.stale_fans(store.db, creator, everyone[:3], TTL, T0) == [everyone[2]]


def test_cold_requests_stay_within_one_per_100_fans_each(store):
    with Sandbox(fans=250, seed=4, rate_limit=100_000) as sb:
        creator, everyone = sb.world.creator["uuid"], fans(sb)
        report = refresh_context(store.db, client_for(sb.url, sb.token), creator, everyone, TTL, T0)
        assert (report.stale, report.stored) == (250, 250)
        assert requests_to(sb) == [("POST", "/insights/fans/batch"), ("POST", "/chats/statuses")] * 3


def test_fanvue_down_returns_without_raising_and_stores_nothing(store):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    report = refresh_context(store.db, client_for(closed, "t"), "c", ["f1", "f2"], TTL, T0)
    assert report.stale == 2 and report.stored == 0 and "did not answer" in report.failed
    assert stored(store) == []


def test_fanvue_slow_returns_without_raising_and_stores_nothing(sandbox, store):
    sandbox.world.inject_fault("hang", 5, path="/insights")
    client = client_for(sandbox.url, sandbox.token, timeout=0.3, read_retries=0)
    report = refresh_context(store.db, client, sandbox.world.creator["uuid"], fans(sandbox), TTL, T0)
    assert report.stored == 0 and report.failed and stored(store) == []


def test_fanvue_failing_on_statuses_stores_nothing_of_that_batch(sandbox, store):
    sandbox.world.inject_fault("503", 5, path="/chats/statuses")
    client = client_for(sandbox.url, sandbox.token)
    report = refresh_context(store.db, client, sandbox.world.creator["uuid"], fans(sandbox), TTL, T0)
    assert report.stored == 0 and "503" in report.failed and stored(store) == []


def test_a_passing_per_fan_error_is_not_cached_and_is_asked_again(sandbox, store):
    creator, client, everyone = (
        sandbox.world.creator["uuid"],
        client_for(sandbox.url, sandbox.token),
        fans(sandbox),
    )
    requests.post(f"{sandbox.url}/_sandbox/fans/{everyone[0]}/context", json={"error": "internal"}, timeout=5)
    report = refresh_context(store.db, client, creator, everyone, TTL, T0)
    assert report.stored == 11 and context_for(store.db, creator, everyone[0]) is None
    assert fan_context.stale_fans(store.db, creator, everyone, TTL, T0) == [everyone[0]]


def test_a_login_without_the_scopes_is_reported_once_per_refresh_and_nothing_stored(sandbox, store):
    pair = log_in(sandbox, sandbox.world.creator["handle"], " ".join(CHAT_SCOPES))
    client = client_for(sandbox.url, pair["access_token"])
    report = refresh_context(store.db, client, sandbox.world.creator["uuid"], fans(sandbox), TTL, T0)
    assert report.stored == 0 and "read:insights and read:fan" in report.missing_scope
    assert requests_to(sandbox) == [("POST", "/insights/fans/batch")] and stored(store) == []


def test_the_ttl_setting_defaults_to_an_hour_and_is_checked():
    base = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_CHANNEL_ID": "C1",
        "SLACK_SIGNING_SECRET": "s",
        "FANVUE_ACCESS_TOKEN": "t",
    }
    assert settings.from_mapping(base).fan_context_ttl_minutes == fan_context.DEFAULT_TTL_MINUTES == 60
    assert settings.from_mapping({**base, "FAN_CONTEXT_TTL_MINUTES": "15"}).fan_context_ttl_minutes == 15
    with pytest.raises(settings.SettingsError, match="FAN_CONTEXT_TTL_MINUTES should be between 1 and 10080"):
        settings.from_mapping({**base, "FAN_CONTEXT_TTL_MINUTES": "0"})
