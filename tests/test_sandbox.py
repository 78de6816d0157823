"""Behaviour of the Fanvue sandbox over real HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import requests

from standins.fanvue import Sandbox, World
from standins.fanvue.vault import ready_media

VERSION = "2025-06-26"
UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def sandbox():
    with Sandbox(fans=20, seed=1) as sb:
        yield sb


@pytest.fixture
def api(sandbox):
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {sandbox.token}", "X-Fanvue-API-Version": VERSION})
    session.base = sandbox.url
    yield session
    session.close()


def call(session: requests.Session, method: str, path: str, **kwargs) -> requests.Response:
    kwargs.setdefault("timeout", 5)
    return session.request(method, session.base + path, **kwargs)


def fan_by_handle(sandbox: Sandbox, fragment: str) -> dict:
    return next(f for f in sandbox.world.fans() if fragment in f["handle"])


def all_chats(api: requests.Session, **params) -> list[dict]:
    rows, page = [], 1
    while True:
        body = call(api, "GET", "/chats", params={**params, "page": page, "size": 7}).json()
        rows += body["data"]
        if not body["pagination"]["hasMore"]:
            return rows
        page += 1


# -- auth, version, headers ---------------------------------------------------------------------------
def test_missing_or_wrong_token_is_401(sandbox, api):
    plain = requests.get(sandbox.url + "/users/me", headers={"X-Fanvue-API-Version": VERSION}, timeout=5)
    wrong = call(api, "GET", "/users/me", headers={"Authorization": "Bearer nope"})
    assert (plain.status_code, plain.json()) == (401, {"error": "Unauthorized"})
    assert wrong.status_code == 401
    assert [r.token_ok for r in sandbox.world.requests] == [False, False]


def test_expired_tokens_answer_401_until_a_new_one_is_added(sandbox, api):
    sandbox.world.expire_tokens()
    assert call(api, "GET", "/users/me").status_code == 401
    sandbox.world.add_token("fresh")
    assert call(api, "GET", "/users/me", headers={"Authorization": "Bearer fresh"}).status_code == 200


@pytest.mark.parametrize(
    "headers", [{}, {"X-Fanvue-API-Version": "1999"}, {"X-Fanvue-API-Version": "2099-01-01"}]
)
def test_missing_or_unknown_version_is_400(sandbox, headers):
    response = requests.get(
        sandbox.url + "/users/me", timeout=5, headers={"Authorization": f"Bearer {sandbox.token}", **headers}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"error", "message"}


def test_retired_version_is_410_with_next_version(api):
    response = call(api, "GET", "/chats", headers={"X-Fanvue-API-Version": "2024-01-01"})
    assert response.status_code == 410
    assert response.json()["nextVersion"] == VERSION


def test_every_response_has_request_id_and_api_responses_rate_headers(sandbox, api):
    responses = [
        call(api, "GET", "/users/me"),
        call(api, "GET", "/nope"),
        requests.get(sandbox.url + "/_sandbox/fans", timeout=5),
    ]
    ids = {r.headers["X-Request-Id"] for r in responses}
    assert len(ids) == 3
    assert responses[1].status_code == 404 and "message" in responses[1].json()
    assert [r.headers["X-RateLimit-Remaining"] for r in responses[:2]] == ["199", "198"]
    assert responses[0].headers["X-RateLimit-Limit"] == "200"
    assert int(responses[0].headers["X-RateLimit-Reset"]) > 1_600_000_000
    assert "X-RateLimit-Limit" not in responses[2].headers


def test_users_me_is_the_creator(sandbox, api):
    me = call(api, "GET", "/users/me").json()
    assert me["uuid"] == sandbox.world.creator["uuid"] and me["isCreator"] is True


# -- chat list ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"size": 0},
        {"size": 51},
        {"size": "2.5"},
        {"size": "ten"},
        {"page": 0},
        {"page": "1.5"},
        {"sortBy": "alphabetical"},
        {"filter": "nope"},
    ],
)
def test_bad_list_parameters_are_400_with_errors(api, params):
    response = call(api, "GET", "/chats", params=params)
    assert response.status_code == 400
    assert isinstance(response.json()["errors"], list) and response.json()["errors"]


def test_pages_cover_every_chat_once_and_size_is_the_count_returned(api):
    first = call(api, "GET", "/chats", params={"size": 7}).json()
    assert first["pagination"] == {"page": 1, "size": 7, "hasMore": True}
    last = call(api, "GET", "/chats", params={"size": 7, "page": 3}).json()
    assert last["pagination"] == {"page": 3, "size": 6, "hasMore": False}
    uuids = [row["user"]["uuid"] for row in all_chats(api)]
    assert len(uuids) == 20 == len(set(uuids))
    assert call(api, "GET", "/chats", params={"size": 50}).json()["pagination"]["size"] == 20
    assert call(api, "GET", "/chats").json()["pagination"]["size"] == 15


def test_default_order_is_newest_last_message_first(api):
    stamps = [row["lastMessageAt"] for row in all_chats(api)]
    assert stamps == sorted(stamps, reverse=True)


def test_unread_filter_returns_exactly_the_unread_chats(sandbox, api):
    unread = all_chats(api, filter="unread")
    expected = {f["uuid"] for f in sandbox.world.fans() if not sandbox.world.chat(f["uuid"])["isRead"]}
    assert {row["user"]["uuid"] for row in unread} == expected
    assert all(row["isRead"] is False for row in unread)
    both = all_chats(api, filter=["unread", "not_muted"])
    assert {r["user"]["uuid"] for r in both} == {r["user"]["uuid"] for r in unread if not r["isMuted"]}


def test_unread_counts_sum_the_chats(sandbox, api):
    body = call(api, "GET", "/chats/unread").json()
    chats = [sandbox.world.chat(f["uuid"]) for f in sandbox.world.fans()]
    assert body["unreadChatsCount"] == sum(1 for c in chats if not c["isRead"])
    assert body["unreadMessagesCount"] == sum(c["unreadMessagesCount"] for c in chats)
    assert set(body["unreadNotifications"]) == {
        "newFollower",
        "newPostComment",
        "newPostLike",
        "newPurchase",
        "newSubscriber",
        "newTip",
        "newPromotion",
    }


# -- messages -----------------------------------------------------------------------------------------
def test_messages_are_newest_first_and_paged(sandbox, api):
    fan = fan_by_handle(sandbox, "jake")  # the 30-message history
    page1 = call(
        api, "GET", f"/chats/{fan['uuid']}/messages", params={"size": 20, "markAsRead": "false"}
    ).json()
    page2 = call(
        api, "GET", f"/chats/{fan['uuid']}/messages", params={"size": 20, "page": 2, "markAsRead": "false"}
    ).json()
    stamps = [m["sentAt"] for m in page1["data"] + page2["data"]]
    assert len(stamps) == 30 and stamps == sorted(stamps, reverse=True)
    assert page1["pagination"]["hasMore"] is True and page2["pagination"] == {
        "page": 2,
        "size": 10,
        "hasMore": False,
    }


def test_reading_messages_marks_the_chat_read_by_default(sandbox, api):
    fan = sandbox.world.fans()[0]["uuid"]
    assert sandbox.world.chat(fan)["unreadMessagesCount"] > 0
    call(api, "GET", f"/chats/{fan}/messages")
    chat = sandbox.world.chat(fan)
    assert (chat["isRead"], chat["unreadMessagesCount"]) == (True, 0)
    fan_messages = [m for m in sandbox.world.messages(fan) if m["sender"]["uuid"] == fan]
    assert all(m["isRead"] for m in fan_messages)


def test_mark_as_read_false_leaves_the_chat_unread(sandbox, api):
    fan = sandbox.world.fans()[0]["uuid"]
    before = sandbox.world.chat(fan)
    response = call(api, "GET", f"/chats/{fan}/messages", params={"markAsRead": "false"})
    assert response.status_code == 200
    assert response.json()["data"][0]["isRead"] is False
    assert sandbox.world.chat(fan) == before


def test_messages_bad_uuid_400_unknown_chat_404_bad_flag_400(sandbox, api):
    bad = call(api, "GET", "/chats/not-a-uuid/messages")
    unknown = call(api, "GET", f"/chats/{UNKNOWN_UUID}/messages")
    flag = call(
        api, "GET", f"/chats/{sandbox.world.fans()[0]['uuid']}/messages", params={"markAsRead": "yes"}
    )
    assert (bad.status_code, list(bad.json())) == (400, ["message"])
    assert (unknown.status_code, list(unknown.json())) == (404, ["message"])
    assert flag.status_code == 400 and flag.json()["errors"]


def test_removed_chat_is_404(sandbox, api):
    fan = sandbox.world.fans()[3]["uuid"]
    sandbox.world.remove_chat(fan)
    assert call(api, "GET", f"/chats/{fan}/messages").status_code == 404
    assert fan not in {row["user"]["uuid"] for row in all_chats(api)}


# -- sending ------------------------------------------------------------------------------------------
def test_send_stores_a_creator_message_and_marks_the_chat_read(sandbox, api):
    fan = sandbox.world.fans()[0]["uuid"]
    response = call(api, "POST", f"/chats/{fan}/message", json={"text": "thanks, you too! 💕"})
    assert response.status_code == 201
    sent = sandbox.world.sent_messages(fan)
    assert [m["uuid"] for m in sent] == [response.json()["messageUuid"]]
    assert (
        sent[0]["sender"]["uuid"] == sandbox.world.creator["uuid"]
        and sent[0]["text"] == "thanks, you too! 💕"
    )
    assert sandbox.world.messages(fan)[0]["uuid"] == sent[0]["uuid"]
    chat = sandbox.world.chat(fan)
    assert (chat["isRead"], chat["unreadMessagesCount"], chat["lastMessage"]["uuid"]) == (
        True,
        0,
        sent[0]["uuid"],
    )


def test_send_with_media_and_price(sandbox, api):
    fan = sandbox.world.fans()[0]["uuid"]
    [media] = ready_media(sandbox.world)
    response = call(api, "POST", f"/chats/{fan}/message", json={"mediaUuids": [media], "price": 300})
    assert response.status_code == 201
    sent = sandbox.world.sent_messages(fan)[0]
    assert (sent["text"], sent["mediaUuids"], sent["pricing"]) == (None, [media], {"USD": {"price": 300}})


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": ""},
        {"text": "x" * 5001},
        {"text": 5},
        {"text": "hi", "price": 299},
        {"text": "hi", "price": 9.99},
        {"mediaUuids": ["nope"]},
        [1, 2],
    ],
)
def test_send_validation_is_400_and_stores_nothing(sandbox, api, body):
    response = call(api, "POST", f"/chats/{sandbox.world.fans()[0]['uuid']}/message", json=body)
    assert response.status_code == 400
    assert response.json()["errors"] and response.json()["message"]
    assert sandbox.world.sent_messages() == []


def test_send_accepts_exactly_5000_characters(sandbox, api):
    response = call(
        api, "POST", f"/chats/{sandbox.world.fans()[0]['uuid']}/message", json={"text": "x" * 5000}
    )
    assert response.status_code == 201


def test_uncontactable_fan_is_400_message(sandbox, api):
    blocked = fan_by_handle(sandbox, "blocked")
    response = call(api, "POST", f"/chats/{blocked['uuid']}/message", json={"text": "hi"})
    assert (response.status_code, list(response.json())) == (400, ["message"])
    assert sandbox.world.sent_messages() == []
    sandbox.world.set_contactable(blocked["uuid"], True)
    assert call(api, "POST", f"/chats/{blocked['uuid']}/message", json={"text": "hi"}).status_code == 201


@pytest.mark.parametrize(
    "method,path",
    [("POST", "/chats/{fan}/message"), ("PATCH", "/chats/{fan}"), ("POST", "/chats/messages/batch")],
)
def test_malformed_json_is_400_and_the_server_keeps_serving(sandbox, api, method, path):
    fan = sandbox.world.fans()[0]["uuid"]
    response = call(
        api, method, path.format(fan=fan), data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["errors"]
    assert call(api, "GET", "/users/me").status_code == 200


# -- patch --------------------------------------------------------------------------------------------
def test_patch_updates_flags_with_204_and_no_body(sandbox, api):
    fan = sandbox.world.fans()[3]["uuid"]  # a read chat
    response = call(
        api, "PATCH", f"/chats/{fan}", json={"isRead": False, "isMuted": True, "nickname": "Ahmed"}
    )
    assert (response.status_code, response.content) == (204, b"")
    chat = sandbox.world.chat(fan)
    assert (chat["isRead"], chat["isMuted"], chat["user"]["nickname"]) == (False, True, "Ahmed")
    assert fan in {row["user"]["uuid"] for row in all_chats(api, filter="unread")}
    assert call(api, "PATCH", f"/chats/{fan}", json={"isRead": True}).status_code == 204
    assert sandbox.world.chat(fan)["isRead"] is True


def test_patch_rejects_bad_values(sandbox, api):
    fan = sandbox.world.fans()[0]["uuid"]
    assert call(api, "PATCH", f"/chats/{fan}", json={"isRead": "yes"}).status_code == 400
    assert call(api, "PATCH", f"/chats/{fan}", json={"nickname": "x" * 31}).status_code == 400
    assert call(api, "PATCH", "/chats/zzz", json={"isRead": True}).json() == {
        "message": "Invalid UUID format for parameter userUuid"
    }


# -- batch --------------------------------------------------------------------------------------------
def test_batch_answers_per_chat_with_errors_and_does_not_mark_read(sandbox, api):
    fans = [f["uuid"] for f in sandbox.world.fans()]
    sandbox.world.remove_chat(fans[3])
    sandbox.world.set_batch_error(fans[4], "forbidden")
    before = sandbox.world.chat(fans[0])
    body = {"chatUuids": [fans[0], fans[3], fans[4], UNKNOWN_UUID], "limit": 5}
    response = call(api, "POST", "/chats/messages/batch", json=body)
    assert response.status_code == 200
    by_chat = response.json()["byChat"]
    assert by_chat[fans[3]] == {"error": "not_found"} and by_chat[UNKNOWN_UUID] == {"error": "not_found"}
    assert by_chat[fans[4]] == {"error": "forbidden"}
    first = by_chat[fans[0]]
    assert [m["uuid"] for m in first["messages"]] == [m["uuid"] for m in sandbox.world.messages(fans[0])[:5]]
    assert first["hasMore"] is True and first["oldestMessageUuid"] == first["messages"][-1]["uuid"]
    assert sandbox.world.chat(fans[0]) == before


def test_batch_since_returns_only_newer_messages(sandbox, api):
    fan = sandbox.world.fans()[0]["uuid"]
    cursor = sandbox.world.messages(fan)[0]["uuid"]
    empty = call(api, "POST", "/chats/messages/batch", json={"chatUuids": [fan], "sinceMessageUuid": cursor})
    assert empty.json()["byChat"][fan] == {"messages": [], "hasMore": False, "oldestMessageUuid": None}
    new = [
        sandbox.world.add_fan_message(fan, "one"),
        sandbox.world.add_fan_message(fan, None, media_type="video"),
    ]
    later = call(api, "POST", "/chats/messages/batch", json={"chatUuids": [fan], "sinceMessageUuid": cursor})
    assert [m["uuid"] for m in later.json()["byChat"][fan]["messages"]] == [new[1]["uuid"], new[0]["uuid"]]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"chatUuids": []},
        {"chatUuids": [UNKNOWN_UUID] * 51},
        {"chatUuids": ["nope"]},
        {"chatUuids": [UNKNOWN_UUID], "limit": 0},
        {"chatUuids": [UNKNOWN_UUID], "limit": 51},
        {"chatUuids": [UNKNOWN_UUID], "sinceMessageUuid": UNKNOWN_UUID},
    ],
)
def test_batch_validation_is_400(api, body):
    response = call(api, "POST", "/chats/messages/batch", json=body)
    assert response.status_code == 400 and response.json()["errors"]


# -- rate limit and faults ----------------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after():
    with Sandbox(fans=3, seed=1, rate_limit=5) as sb:
        headers = {"Authorization": f"Bearer {sb.token}", "X-Fanvue-API-Version": VERSION}
        responses = [requests.get(sb.url + "/users/me", headers=headers, timeout=5) for _ in range(6)]
        other = requests.get(
            sb.url + "/users/me", timeout=5, headers={**headers, "Authorization": "Bearer someone-else"}
        )
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["4", "3", "2", "1", "0", "0"]
    assert responses[-1].json()["error"] and int(responses[-1].headers["Retry-After"]) >= 1
    assert other.status_code == 401  # a separate bucket per token


@pytest.mark.parametrize("kind,status", [("500", 500), ("503", 503), ("429", 429)])
def test_status_faults_hit_matching_requests_only_count_times(sandbox, api, kind, status):
    sandbox.world.inject_fault(kind, count=2, method="GET", path="/chats")
    statuses = [call(api, "GET", "/users/me").status_code] + [
        call(api, "GET", "/chats").status_code for _ in range(3)
    ]
    assert statuses == [200, status, status, 200]
    if kind == "429":
        assert call(api, "GET", "/chats").status_code == 200
        sandbox.world.inject_fault("429")
        assert int(call(api, "GET", "/chats").headers["Retry-After"]) >= 1


def test_drop_response_performs_the_send_then_closes_the_connection(sandbox, api):
    fan = sandbox.world.fans()[0]["uuid"]
    sandbox.world.inject_fault("drop_response", method="POST", path="/chats/")
    with pytest.raises(requests.ConnectionError):
        call(api, "POST", f"/chats/{fan}/message", json={"text": "did this arrive?"})
    assert [m["text"] for m in sandbox.world.sent_messages(fan)] == ["did this arrive?"]
    assert sandbox.world.requests[-1].status == 0
    assert call(api, "GET", "/users/me").status_code == 200


def test_hang_outlasts_the_client_timeout_and_stop_interrupts_it():
    sb = Sandbox(fans=2, seed=1).start()
    try:
        sb.world.inject_fault("hang", path="/users/me")
        with pytest.raises(requests.Timeout):
            requests.get(
                sb.url + "/users/me",
                timeout=0.3,
                headers={"Authorization": f"Bearer {sb.token}", "X-Fanvue-API-Version": VERSION},
            )
        assert sb.world.request_count("GET", "/users/me") == 1
    finally:
        sb.stop()  # the 30 s hang must not hold this up (the pytest timeout would fail the test)


def test_unknown_fault_kind_is_rejected(sandbox):
    with pytest.raises(ValueError):
        sandbox.world.inject_fault("418")


def test_latency_is_configurable_and_requests_still_succeed(sandbox, api):
    sandbox.world.set_latency(20)
    assert call(api, "GET", "/users/me").status_code == 200
    assert sandbox.world.latency_ms == 20


def test_requests_are_recorded_with_query_and_status(sandbox, api):
    call(api, "GET", "/chats", params={"filter": "unread", "size": 5})
    call(api, "GET", "/chats", headers={"X-Fanvue-API-Version": "2024-01-01"})
    records = sandbox.world.requests
    assert [(r.method, r.path, r.query, r.status) for r in records] == [
        ("GET", "/chats", {"filter": "unread", "size": "5"}, 200),
        ("GET", "/chats", {}, 410),
    ]
    assert sandbox.world.request_count("GET", "/chats") == 2
    sandbox.world.clear_requests()
    assert sandbox.world.requests == []


# -- controls over HTTP -------------------------------------------------------------------------------
def test_controls_over_http(sandbox, api):
    control = sandbox.url + "/_sandbox"
    listing = requests.get(control + "/fans", timeout=5).json()
    fan = listing["data"][3]["uuid"]
    assert listing["creator"]["uuid"] == sandbox.world.creator["uuid"] and len(listing["data"]) == 20
    message = requests.post(f"{control}/fans/{fan}/messages", json={"text": "still there?"}, timeout=5)
    assert message.status_code == 201 and message.json()["sender"]["uuid"] == fan
    assert fan in {row["user"]["uuid"] for row in all_chats(api, filter="unread")}
    reply = requests.post(
        f"{control}/fans/{fan}/messages", json={"text": "yes!", "from": "creator"}, timeout=5
    )
    assert reply.status_code == 201 and sandbox.world.chat(fan)["isRead"] is True
    call(api, "POST", f"/chats/{fan}/message", json={"text": "sent via API"})
    sent = requests.get(control + "/sent", params={"fan": fan}, timeout=5).json()["data"]
    assert [m["text"] for m in sent] == ["sent via API"]
    assert (
        requests.post(control + "/faults", json={"kind": "503", "path": "/users/me"}, timeout=5).status_code
        == 201
    )
    assert call(api, "GET", "/users/me").status_code == 503
    requests.post(control + "/latency", json={"ms": 5}, timeout=5)
    assert sandbox.world.latency_ms == 5
    log = requests.get(control + "/requests", timeout=5).json()
    assert log["count"] == len(log["data"]) == len(sandbox.world.requests) >= 3
    assert [r["status"] for r in log["data"][-2:]] == [201, 503]
    assert requests.delete(control + "/requests", timeout=5).status_code == 204
    assert sandbox.world.requests == []
    requests.post(control + "/tokens/expire", timeout=5)
    assert call(api, "GET", "/users/me").status_code == 401
    requests.post(control + "/tokens", json={"token": "again"}, timeout=5)
    assert call(api, "GET", "/users/me", headers={"Authorization": "Bearer again"}).status_code == 200
    assert requests.get(control + "/nothing", timeout=5).status_code == 404
    assert requests.post(control + "/faults", json={"kind": "boom"}, timeout=5).status_code == 400
    assert (
        requests.post(f"{control}/fans/{UNKNOWN_UUID}/messages", json={"text": "x"}, timeout=5).status_code
        == 404
    )


# -- seeding ------------------------------------------------------------------------------------------
FIXED_NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


def snapshot(world: World) -> list:
    return [(f, world.chat(f["uuid"]), world.messages(f["uuid"])) for f in world.fans()]


def test_same_seed_same_world_different_seed_different_world():
    assert snapshot(World(fans=12, seed=7, now=FIXED_NOW)) == snapshot(World(fans=12, seed=7, now=FIXED_NOW))
    assert snapshot(World(fans=12, seed=7, now=FIXED_NOW)) != snapshot(World(fans=12, seed=8, now=FIXED_NOW))
    texts = [[m["text"] for m in w.messages(w.fans()[5]["uuid"])] for w in (World(seed=3), World(seed=3))]
    assert texts[0] == texts[1]


def test_seed_has_the_promised_variety():
    world = World(fans=20, seed=1, now=FIXED_NOW)
    fans = world.fans()
    chats = {f["uuid"]: world.chat(f["uuid"]) for f in fans}
    history = {f["uuid"]: world.messages(f["uuid"]) for f in fans}
    creator = world.creator["uuid"]
    assert all(uuid.UUID(f["uuid"]).version == 4 for f in fans)
    assert {1, 30} <= {len(h) for h in history.values()} and all(1 <= len(h) <= 30 for h in history.values())
    everything = [m for h in history.values() for m in h]
    assert any(
        m["text"] is None and m["hasMedia"] and m["mediaType"] in {"image", "video", "audio"}
        for m in everything
        if m["sender"]["uuid"] != creator
    )
    assert any(m["type"] == "TIP" and m["pricing"]["USD"]["price"] >= 300 for m in everything)
    assert any(c["isRead"] and c["lastMessage"]["senderUuid"] == creator for c in chats.values())
    flagged = [c for c in chats.values() if not c["isRead"] and c["lastMessage"]["senderUuid"] == creator]
    assert len(flagged) == 1 and flagged[0]["unreadMessagesCount"] == 0
    blocked = [f for f in fans if not f["contactable"]]
    assert len(blocked) == 1 and "blocked" in blocked[0]["handle"]
    names = {f["displayName"] for f in fans}
    assert {"Łukasz ✨", "さくら", "Маша 💋", "أحمد"} <= names
    unread_share = sum(1 for c in chats.values() if not c["isRead"]) / len(chats)
    assert 0.6 <= unread_share <= 0.8
    first = chats[fans[0]["uuid"]]
    assert first["isRead"] is False and first["lastMessage"]["text"] and first["unreadMessagesCount"] >= 1


def test_the_world_finds_fans_by_handle_and_takes_new_messages():
    world = World(fans=5, seed=2)
    fan = world.fan("sakura")
    before = world.chat(fan["uuid"])["unreadMessagesCount"]
    added = world.add_fan_message(fan["uuid"], "ping")
    chat = world.chat(fan["uuid"])
    assert (chat["unreadMessagesCount"], chat["isRead"], chat["lastMessage"]["uuid"]) == (
        before + 1,
        False,
        added["uuid"],
    )
    world.add_creator_message(fan["uuid"], "pong")
    assert world.chat(fan["uuid"])["unreadMessagesCount"] == 0
    assert world.sent_messages() == []
    with pytest.raises(KeyError):
        world.fan("nobody")
