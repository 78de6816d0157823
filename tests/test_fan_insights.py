"""The fan context client against the sandbox: bulk splitting, per-fan errors, odd values, the GET fallback,
and a login without the fan context scopes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from fanvue import FanvueClient, MissingScopeError, Mode, RateBudget, StaticToken, scope_string
from fanvue.insights import ChatStatus, FanStatus, InsightsClient, InsightsError
from fanvue.scopes import CHAT_SCOPES
from standins.fanvue import Sandbox
from tests.test_agency_scopes import log_in

STRANGER = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    with Sandbox(fans=230, seed=3, rate_limit=100_000) as sb:
        yield sb


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(fans=8, seed=5) as sb:
        yield sb


def insights_client(sandbox: Sandbox, token: str | None = None, **kwargs) -> InsightsClient:
    api = FanvueClient(
        sandbox.url,
        StaticToken(token or sandbox.token),
        budget=RateBudget(sleep=lambda s: None),
        sleep=lambda s: None,
        **kwargs,
    )
    return InsightsClient(api)


def fan_uuids(sandbox: Sandbox) -> list[str]:
    return [fan["uuid"] for fan in sandbox.world.fans()]


def logged(sandbox: Sandbox, prefix: str) -> list:
    return [r for r in sandbox.world.requests if r.path.startswith(prefix)]


def control(sandbox: Sandbox, fan: str, **changes) -> dict:
    resp = requests.post(f"{sandbox.url}/_sandbox/fans/{fan}/context", json=changes, timeout=5)
    resp.raise_for_status()
    return resp.json()


def test_many_fans_are_read_100_at_a_time_and_statuses_too(big):
    fans = fan_uuids(big)
    big.world.clear_requests()
    client = insights_client(big)
    read = client.fan_insights(fans + fans[:5])  # repeats are asked for once
    statuses = client.online_statuses(fans)
    assert sorted(read.insights) == sorted(fans) and read.errors == {}
    batch, status_calls = logged(big, "/insights/fans/batch"), logged(big, "/chats/statuses")
    assert [(r.method, r.status) for r in batch] == [("POST", 200)] * 3
    assert [(r.method, r.status) for r in status_calls] == [("POST", 200)] * 3
    assert len(big.world.requests) == 6
    assert sorted(statuses) == sorted(fans)
    assert all(isinstance(s, ChatStatus) and s.fan_uuid == uuid for uuid, s in statuses.items())


def test_insights_carry_status_spending_and_subscription_as_the_sandbox_holds_them(sandbox):
    first, second, blocked, follower = fan_uuids(sandbox)[:4]
    control(
        sandbox, first, totalCents=123_400, biggestCents=20_000, lastPurchaseAt="2026-01-02T03:04:05.000Z"
    )
    read = insights_client(sandbox).fan_insights([first, second, blocked, follower])
    one = read.insights[first]
    assert (one.status, one.total_spend_cents, one.biggest_payment_cents) == ("subscriber", 123_400, 20_000)
    assert one.last_purchase_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert one.auto_renew is True and one.renews_at is not None and one.subscribed_at is not None
    assert read.insights[second].status == FanStatus.EXPIRED and read.insights[second].renews_at is None
    assert read.insights[blocked].status == FanStatus.NOT_CONTACTABLE
    never = read.insights[follower]
    assert (never.status, never.total_spend_cents, never.last_purchase_at) == ("follower", 0, None)
    assert never.subscribed_at is None and never.auto_renew is False


def test_per_fan_errors_inside_a_200_leave_the_other_fans_read(sandbox):
    first, second, third = fan_uuids(sandbox)[:3]
    control(sandbox, second, error="forbidden")
    control(sandbox, third, error="internal")
    read = insights_client(sandbox).fan_insights([first, second, third, STRANGER])
    assert list(read.insights) == [first]
    assert read.errors == {
        second: InsightsError.FORBIDDEN,
        third: InsightsError.INTERNAL,
        STRANGER: InsightsError.NOT_FOUND,
    }
    assert [r.status for r in logged(sandbox, "/insights")] == [200]


def test_an_unknown_status_is_kept_as_it_came(sandbox):
    first = fan_uuids(sandbox)[0]
    control(sandbox, first, status="vip_gold")
    read = insights_client(sandbox).fan_insights([first])
    assert read.insights[first].status == "vip_gold"


def test_statuses_leave_out_who_is_not_a_fan_and_follow_the_control(sandbox):
    first, second = fan_uuids(sandbox)[:2]
    control(sandbox, first, online=False, lastSeenAt="2026-03-04T05:06:07.000Z")
    control(sandbox, second, online=True, lastSeenAt=None)
    statuses = insights_client(sandbox).online_statuses([first, second, STRANGER])
    assert statuses == {
        first: ChatStatus(first, False, datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)),
        second: ChatStatus(second, True, None),
    }


def test_without_the_batch_route_the_get_form_reads_20_at_a_time(big):
    fans = fan_uuids(big)[:45]
    big.world.clear_requests()
    big.world.inject_fault("404", 1, "POST", "/insights/fans/batch")
    client = insights_client(big)
    read = client.fan_insights(fans + [STRANGER])
    assert sorted(read.insights) == sorted(fans) and read.errors == {STRANGER: InsightsError.NOT_FOUND}
    calls = logged(big, "/insights")
    assert [(r.method, r.path, r.status) for r in calls[:1]] == [("POST", "/insights/fans/batch", 404)]
    gets = calls[1:]
    assert [len(r.query["fanUuids"].split(",")) for r in gets] == [20, 20, 6]
    assert {(r.method, r.path, r.status) for r in gets} == {("GET", "/insights/fans", 200)}
    # The client remembers: the next read does not try the batch route again.
    client.fan_insights(fans[:3])
    assert [r.method for r in logged(big, "/insights")[len(calls) :]] == ["GET"]


def test_an_entry_of_an_unexpected_shape_costs_only_that_fan(sandbox, monkeypatch):
    first, second = fan_uuids(sandbox)[:2]
    client = insights_client(sandbox)
    real = client._api._json

    def garble(resp, what):
        body = real(resp, what)
        body[second] = {"status": "subscriber", "spending": {"total": "lots"}}
        return body

    monkeypatch.setattr(client._api, "_json", garble)
    read = client.fan_insights([first, second])
    assert list(read.insights) == [first] and read.errors == {second: InsightsError.MALFORMED}


def test_a_login_without_the_fan_context_scopes_gets_one_typed_error_naming_them(sandbox):
    pair = log_in(sandbox, sandbox.world.creator["handle"], " ".join(CHAT_SCOPES))
    client = insights_client(sandbox, pair["access_token"])
    with pytest.raises(MissingScopeError) as caught:
        client.fan_insights(fan_uuids(sandbox)[:2])
    assert caught.value.status == 403
    assert "read:insights and read:fan" in caught.value.message and "log in again" in caught.value.message
    # Online status needs only read:chat, which the login has.
    assert len(client.online_statuses(fan_uuids(sandbox)[:2])) == 2
    assert [(r.path, r.status) for r in logged(sandbox, "/")] == [
        ("/insights/fans/batch", 403),
        ("/chats/statuses", 200),
    ]


def test_a_creator_login_asks_for_and_gets_the_fan_context_scopes(sandbox):
    pair = log_in(sandbox, sandbox.world.creator["handle"], scope_string(Mode.CREATOR))
    assert {"read:insights", "read:fan"} <= set(pair["scope"].split())
    read = insights_client(sandbox, pair["access_token"]).fan_insights(fan_uuids(sandbox)[:2])
    assert len(read.insights) == 2


def test_a_fan_of_another_creator_is_not_found_for_this_one():
    with Sandbox(creators=2, fans=4, seed=2) as sb:
        theirs = sb.worlds[1].fans()[0]["uuid"]
        mine = sb.world.fans()[0]["uuid"]
        read = insights_client(sb).fan_insights([mine, theirs])
        statuses = insights_client(sb).online_statuses([mine, theirs])
    assert list(read.insights) == [mine] and read.errors == {theirs: InsightsError.NOT_FOUND}
    assert list(statuses) == [mine]


def test_a_string_instead_of_a_list_is_refused_before_any_request(sandbox):
    with pytest.raises(TypeError):
        insights_client(sandbox).fan_insights(fan_uuids(sandbox)[0])
    assert logged(sandbox, "/") == []
