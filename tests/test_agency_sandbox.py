"""The sandbox with several creators: their own fans and tokens, the agency members, buckets and controls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from standins.fanvue import Sandbox
from standins.fanvue.__main__ import parse_args
from standins.fanvue.agency import ADMIN, MEMBER

VERSION = "2025-06-26"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(creators=3, fans=6, seed=2) as sb:
        yield sb


def get(sandbox: Sandbox, token: str, path: str, **params) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "X-Fanvue-API-Version": VERSION}
    return requests.get(sandbox.url + path, params=params, headers=headers, timeout=5)


def control(sandbox: Sandbox, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{sandbox.url}/_sandbox{path}", timeout=5, **kwargs)


def test_each_creator_has_its_own_fans_and_token(sandbox):
    fan_sets = [{f["uuid"] for f in w.fans()} for w in sandbox.worlds]
    assert all(len(s) == 6 for s in fan_sets) and len(set.union(*fan_sets)) == 18
    for world in sandbox.worlds:
        token = sandbox.creator_token(world.creator["handle"])
        assert get(sandbox, token, "/users/me").json()["uuid"] == world.creator["uuid"]
        rows = get(sandbox, token, "/chats", size=50).json()["data"]
        assert {r["user"]["uuid"] for r in rows} == {f["uuid"] for f in world.fans()}


def test_the_default_sandbox_is_one_creator_with_todays_token():
    with Sandbox(fans=2, seed=1) as sb:
        assert len(sb.worlds) == 1 and sb.worlds[0] is sb.world
        assert sb.creator_token(sb.world.creator["uuid"]) == sb.token == "sandbox-token"
        assert sb.world.creator["handle"] == "mia-rivers"


def test_reading_a_creators_chat_marks_it_read_unless_told_not_to(sandbox):
    world = sandbox.worlds[1]
    unread = [f["uuid"] for f in world.fans() if not world.chat(f["uuid"])["isRead"]]
    base = f"/creators/{world.creator['uuid']}/chats"
    admin = sandbox.member_token(ADMIN)
    assert get(sandbox, admin, f"{base}/{unread[0]}/messages", markAsRead="false").status_code == 200
    assert world.chat(unread[0])["isRead"] is False
    assert get(sandbox, admin, f"{base}/{unread[0]}/messages").status_code == 200
    assert world.chat(unread[0])["isRead"] is True


def test_creator_routes_count_per_creator_and_agency_routes_per_user():
    with Sandbox(creators=2, fans=2, seed=1, rate_limit=2) as sb:
        admin = sb.member_token(ADMIN)
        first, second = (f"/creators/{w.creator['uuid']}/chats" for w in sb.worlds)
        statuses = [get(sb, admin, first).status_code for _ in range(3)]
        other = get(sb, admin, second)
        agency = [get(sb, admin, "/agencies/chats").status_code, get(sb, admin, "/creators").status_code]
        user_spent = get(sb, admin, "/agencies/chats")
    assert statuses == [200, 200, 429] and other.status_code == 200
    assert other.headers["X-RateLimit-Remaining"] == "1" and other.headers["X-RateLimit-Limit"] == "2"
    assert agency == [200, 200] and user_spent.status_code == 429 and "Retry-After" in user_spent.headers


def test_a_fan_of_one_creator_writes_through_the_controls(sandbox):
    world = sandbox.worlds[2]
    fan = world.fans()[3]["uuid"]
    answer = control(
        sandbox, "POST", f"/creators/{world.creator['handle']}/fans/{fan}/messages", json={"text": "hey"}
    )
    assert answer.status_code == 201 and answer.json()["sender"]["uuid"] == fan
    assert world.messages(fan)[0]["text"] == "hey" and world.chat(fan)["isRead"] is False
    assert all(w.messages(f["uuid"])[0]["text"] != "hey" for w in sandbox.worlds[:2] for f in w.fans())
    listing = control(sandbox, "GET", f"/creators/{world.creator['uuid']}/fans").json()
    assert listing["creator"]["uuid"] == world.creator["uuid"] and len(listing["data"]) == 6


def test_controls_list_creators_and_set_a_members_reach(sandbox):
    creators = control(sandbox, "GET", "/creators").json()["data"]
    assert [c["handle"] for c in creators] == ["mia-rivers", "luna-park", "ava-stone"]
    assert creators[1]["tokens"] == ["sandbox-token-luna-park"] and all(c["linked"] for c in creators)
    member = sandbox.member_token(MEMBER)
    second = f"/creators/{creators[1]['uuid']}/chats"
    assert get(sandbox, member, second).status_code == 403
    state = control(
        sandbox, "POST", "/agency/reach", json={"member": MEMBER, "creators": ["luna-park"]}
    ).json()
    assert get(sandbox, member, second).status_code == 200
    assert next(m for m in state["members"] if m["account"] == MEMBER)["reach"] == [creators[1]["uuid"]]
    assert get(sandbox, member, f"/creators/{creators[0]['uuid']}/chats").status_code == 403


def test_bad_control_requests_are_refused_clearly(sandbox):
    assert (
        control(sandbox, "POST", "/creators/nobody/fans/x/messages", json={"text": "hi"}).status_code == 404
    )
    refused = control(sandbox, "POST", "/agency/reach", json={"member": "intern", "creators": []})
    assert refused.status_code == 400 and "intern" in refused.json()["message"]
    assert control(sandbox, "POST", "/agency/linked", json={"creator": "nobody"}).status_code == 400


def test_expiring_tokens_expires_every_account(sandbox):
    tokens = [sandbox.member_token(ADMIN), sandbox.member_token(MEMBER), sandbox.creator_token("ava-stone")]
    assert control(sandbox, "POST", "/tokens/expire").status_code == 204
    assert [get(sandbox, t, "/users/me").status_code for t in [*tokens, sandbox.token]] == [401] * 4
    control(sandbox, "POST", "/tokens", json={"account": ADMIN, "token": "fresh-admin"})
    assert get(sandbox, "fresh-admin", "/agencies/chats").status_code == 200


def test_a_member_has_an_account_of_its_own_without_chats(sandbox):
    member = sandbox.member_token(MEMBER)
    me = get(sandbox, member, "/users/me").json()
    assert me["uuid"] == sandbox.agency.members[MEMBER].uuid and me["isCreator"] is False
    assert get(sandbox, member, "/chats").json()["data"] == []


def test_the_command_line_takes_creators_and_fans_per_creator():
    args = parse_args(["--creators", "5", "--fans", "200"])
    assert (args.creators, args.fans) == (5, 200)
    assert parse_args([]).creators == 1
