"""The agency client against a sandbox serving several creators: paging, early stops, budgets, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import requests

from fanvue import (
    AgencyAdminRequired,
    AgencyClient,
    CreatorNotReachable,
    MissingScopeError,
    NotFoundError,
    RateBudget,
    RateLimitedError,
    SendOutcomeUnknown,
    StaticToken,
)
from standins.fanvue import Sandbox
from standins.fanvue.agency import ADMIN, MEMBER

CONTROL = "/_sandbox"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(creators=4, fans=15, seed=9) as sb:
        yield sb


def client_for(sandbox: Sandbox, account: str = ADMIN, **kwargs) -> AgencyClient:
    kwargs.setdefault("budget", RateBudget(sleep=lambda s: None))
    return AgencyClient(
        sandbox.url, StaticToken(sandbox.member_token(account)), sleep=lambda s: None, **kwargs
    )


def uuids(sandbox: Sandbox) -> list[str]:
    return [w.creator["uuid"] for w in sandbox.worlds]


def api_requests(sandbox: Sandbox, prefix: str) -> list:
    return [r for r in sandbox.world.requests if r.path.startswith(prefix)]


def test_creators_are_walked_page_by_page(sandbox):
    with client_for(sandbox) as client:
        creators = list(client.creators(page_size=1))
    assert [c.uuid for c in creators] == uuids(sandbox)
    assert creators[1].handle == "luna-park" and creators[1].name == "Luna Park"
    assert [r.query["page"] for r in api_requests(sandbox, "/creators")] == ["1", "2", "3", "4"]


def test_a_team_member_lists_only_the_creators_it_reaches(sandbox):
    with client_for(sandbox, MEMBER) as client:
        reached = [c.uuid for c in client.creators()]
    assert reached == uuids(sandbox)[::2]


def test_agency_chats_come_newest_first_and_a_fan_who_writes_moves_to_the_top(sandbox):
    third, fan = uuids(sandbox)[2], sandbox.worlds[2].fans()[5]["uuid"]
    requests.post(
        f"{sandbox.url}{CONTROL}/creators/{third}/fans/{fan}/messages", json={"text": "hi!"}, timeout=5
    )
    with client_for(sandbox) as client:
        rows = list(client.agency_chats(page_size=50))
    assert len(rows) == 60 and {r.creator_uuid for r in rows} == set(uuids(sandbox))
    times = [r.last_message_at for r in rows]
    assert times == sorted(times, reverse=True)
    top = rows[0]
    assert (top.creator_uuid, top.fan.uuid, top.fan_spoke_last) == (third, fan, True)
    assert top.last_message.text == "hi!" and top.unread_messages_count >= 1


def test_agency_chats_stop_at_the_first_older_row_without_reading_further_pages(sandbox):
    with client_for(sandbox) as client:
        everything = list(client.agency_chats(page_size=50))
        sandbox.world.clear_requests()
        since = everything[6].last_message_at
        recent = list(client.agency_chats(page_size=5, since=since))
        pages_for_since = len(api_requests(sandbox, "/agencies/chats"))
        sandbox.world.clear_requests()
        for _row in client.agency_chats(page_size=5):
            break
    assert [(r.creator_uuid, r.fan.uuid) for r in recent] == [
        (r.creator_uuid, r.fan.uuid) for r in everything[:7]
    ]
    assert pages_for_since == 2  # rows 1-5, then 6-10 where the eighth is older: no third page
    assert len(api_requests(sandbox, "/agencies/chats")) == 1


def test_a_creators_chat_rows_carry_what_the_desk_needs(sandbox):
    world = sandbox.worlds[1]
    creator = world.creator["uuid"]
    with client_for(sandbox) as client:
        rows = list(client.creator(creator).chats(page_size=4))
    assert len(api_requests(sandbox, f"/creators/{creator}/chats")) == 4  # 15 rows in pages of 4
    assert sorted(r.fan.uuid for r in rows) == sorted(f["uuid"] for f in world.fans())
    for row in rows:
        chat = world.chat(row.fan.uuid)
        assert row.creator_uuid == creator
        assert row.unread_messages_count == chat["unreadMessagesCount"]
        assert row.is_top_spender is chat["user"]["isTopSpender"]
        assert row.last_message.uuid == chat["lastMessage"]["uuid"]


def test_every_message_read_leaves_the_chat_unread(sandbox):
    with client_for(sandbox) as client:
        for world in sandbox.worlds:
            view = client.creator(world.creator["uuid"])
            unread = [r for r in view.chats() if r.unread_messages_count]
            for row in unread[:3]:
                view.messages(row.fan.uuid, size=10)
                assert world.chat(row.fan.uuid)["isRead"] is False
    reads = [r for r in sandbox.world.requests if r.path.endswith("/messages")]
    assert len(reads) == 12
    assert all(r.query.get("markAsRead") == "false" and r.status == 200 for r in reads)


def test_a_send_goes_to_that_creators_fan_only_and_shows_the_member(sandbox):
    first, second = sandbox.worlds[0], sandbox.worlds[2]
    fan = first.fans()[0]["uuid"]
    with client_for(sandbox, MEMBER) as client:
        message_uuid = client.creator(first.creator["uuid"]).send_message(fan, "see you friday ✨")
    [sent] = first.sent_messages()
    assert (sent["uuid"], sent["text"], sent["recipient"]["uuid"]) == (message_uuid, "see you friday ✨", fan)
    assert sent["sentByUserId"] == sandbox.agency.members[MEMBER].uuid
    assert second.sent_messages() == [] and sandbox.worlds[1].sent_messages() == []


@pytest.mark.parametrize("fault", ["500", "drop_response"])
def test_a_send_whose_outcome_is_unknown_is_never_repeated(sandbox, fault):
    creator = sandbox.worlds[0].creator["uuid"]
    fan = sandbox.worlds[0].fans()[0]["uuid"]
    sandbox.world.inject_fault(fault, method="POST", path=f"/creators/{creator}/")
    with client_for(sandbox) as client, pytest.raises(SendOutcomeUnknown) as caught:
        client.send_message(creator, fan, "hello")
    assert caught.value.creator_uuid == creator and caught.value.user_uuid == fan
    assert caught.value.path == f"/creators/{creator}/chats/{fan}/message"
    assert len([r for r in sandbox.world.requests if r.method == "POST"]) == 1


def test_an_unreachable_creator_is_a_typed_error_and_the_others_go_on(sandbox):
    creators = uuids(sandbox)
    fan = sandbox.worlds[1].fans()[0]["uuid"]
    requests.post(
        f"{sandbox.url}{CONTROL}/agency/linked", json={"creator": creators[2], "linked": False}, timeout=5
    )
    refused = {}
    with client_for(sandbox, MEMBER) as client:
        for creator in creators:
            try:
                list(client.creator_chats(creator))
            except CreatorNotReachable as exc:
                refused[exc.creator_uuid] = exc.status
        with pytest.raises(CreatorNotReachable) as on_read:
            client.messages(creators[1], fan)
        with pytest.raises(CreatorNotReachable):
            client.send_message(creators[3], fan, "hi")
    # Out of the member's reach: 403; no longer managed by the agency: 404.
    assert refused == {creators[1]: 403, creators[2]: 404, creators[3]: 403}
    assert on_read.value.creator_uuid == creators[1] and sandbox.worlds[3].sent_messages() == []


def test_a_vanished_chat_is_not_mistaken_for_an_unreachable_creator(sandbox):
    world = sandbox.worlds[0]
    fan = world.fans()[0]["uuid"]
    world.remove_chat(fan)
    with client_for(sandbox) as client, pytest.raises(NotFoundError) as caught:
        client.messages(world.creator["uuid"], fan)
    assert not isinstance(caught.value, CreatorNotReachable)


def test_only_agency_admins_read_the_agency_wide_list(sandbox):
    with client_for(sandbox, MEMBER) as client, pytest.raises(AgencyAdminRequired) as caught:
        list(client.agency_chats())
    assert isinstance(caught.value, MissingScopeError) and caught.value.status == 403


def test_one_creators_429s_do_not_slow_another_creators_budget():
    waits: dict[str, list[float]] = {}

    def budget_of(creator: str) -> RateBudget:
        waits[creator] = []
        return RateBudget(sleep=waits[creator].append)

    user_waits: list[float] = []
    with Sandbox(creators=2, fans=3, seed=2, rate_limit=3) as sb:
        busy, calm = (w.creator["uuid"] for w in sb.worlds)
        client = client_for(
            sb,
            budget=RateBudget(sleep=user_waits.append),
            creator_budgets=budget_of,
            max_rate_limit_retries=2,
        )
        for _ in range(3):
            list(client.creator_chats(busy))
        with pytest.raises(RateLimitedError):
            list(client.creator_chats(busy))
        for _ in range(3):
            list(client.creator_chats(calm))
        creators = list(client.creators())
        client.close()
        statuses = {
            prefix: [r.status for r in sb.world.requests if r.path.startswith(prefix)]
            for prefix in (f"/creators/{busy}", f"/creators/{calm}")
        }
    assert statuses[f"/creators/{busy}"] == [200, 200, 200, 429, 429, 429]
    assert statuses[f"/creators/{calm}"] == [200, 200, 200]
    assert len(creators) == 2
    # The busy creator's budget waited (for its reset, then Retry-After); the calm one's and the user's never.
    assert len(waits[busy]) == 3 and min(waits[busy]) >= 1
    assert waits[calm] == [] and user_waits == []


def test_a_naive_since_is_refused_before_any_request(sandbox):
    with client_for(sandbox) as client, pytest.raises(ValueError, match="timezone-aware"):
        next(client.agency_chats(since=datetime(2026, 1, 1)))
    assert api_requests(sandbox, "/agencies") == []
