"""The Fanvue client over real HTTP against the sandbox (and a tiny stub for answers it cannot give)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from fanvue import (
    AuthError,
    ConflictError,
    FanvueClient,
    FanvueError,
    FanvueUnavailable,
    InvalidMessage,
    MalformedResponse,
    MissingScopeError,
    NotContactableError,
    NotFoundError,
    RateBudget,
    RateLimitedError,
    RetiredVersionError,
    SendOutcomeUnknown,
    ServerError,
    StaticToken,
    UnsupportedVersionError,
    ValidationError,
)
from standins.fanvue import Sandbox
from standins.fanvue.vault import ready_media

TOKEN = "sandbox-token-7f3a9c"


class FakeTime:
    """A monotonic clock and a sleep that advances it, recording every sleep."""

    def __init__(self) -> None:
        self.now = 5000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RefreshingToken:
    """A provider that hands out `fresh` once asked to replace the token that got a 401."""

    def __init__(self, first: str, fresh: str) -> None:
        self.current = first
        self.fresh = fresh
        self.calls: list[str | None] = []

    def __call__(self, stale: str | None = None) -> str:
        self.calls.append(stale)
        if stale is not None and stale == self.current:
            self.current = self.fresh
        return self.current


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(fans=20, seed=1, token=TOKEN).start()
    yield sb
    sb.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_client(url: str, fake_time: FakeTime, token=None, **kwargs) -> FanvueClient:
    budget = RateBudget(clock=fake_time.monotonic, sleep=fake_time.sleep, wall_clock=fake_time.wall)
    kwargs.setdefault("timeout", 5.0)
    return FanvueClient(url, token or StaticToken(TOKEN), budget=budget, sleep=fake_time.sleep, **kwargs)


@pytest.fixture
def client(sandbox: Sandbox, fake_time: FakeTime) -> Iterator[FanvueClient]:
    c = make_client(sandbox.url, fake_time)
    yield c
    c.close()


def first_fan(sandbox: Sandbox) -> dict:
    return sandbox.world.fans()[0]


def blocked_fan(sandbox: Sandbox) -> dict:
    return next(f for f in sandbox.world.fans() if "blocked" in f["handle"])


def api_requests(sandbox: Sandbox, method: str, path_prefix: str) -> list:
    return [r for r in sandbox.world.requests if r.method == method and r.path.startswith(path_prefix)]


def query_value(record, name: str):
    value = record.query.get(name)
    return value[0] if isinstance(value, list) and len(value) == 1 else value


# --- every method ---------------------------------------------------------------------------


def test_me_returns_the_creator(client, sandbox):
    me = client.me()
    assert me.uuid == sandbox.world.creator["uuid"]
    assert me.handle == sandbox.world.creator["handle"]
    [record] = sandbox.world.requests
    assert (record.method, record.path, record.status, record.token_ok) == ("GET", "/users/me", 200, True)


def test_unread_chats_walks_every_page(fake_time):
    with Sandbox(fans=130, seed=3, token=TOKEN) as sb:
        for fan in sb.world.fans():
            sb.world.add_fan_message(fan["uuid"], "hi")
        with make_client(sb.url, fake_time) as client:
            chats = list(client.unread_chats())
        pages = api_requests(sb, "GET", "/chats")
        assert [query_value(r, "page") for r in pages] == ["1", "2", "3"]
        assert {query_value(r, "filter") for r in pages} == {"unread"}
        assert {query_value(r, "size") for r in pages} == {"50"}
        assert len(chats) == 130
        assert {c.user.uuid for c in chats} == {f["uuid"] for f in sb.world.fans()}
        assert all(not c.is_read and c.unread_messages_count >= 1 for c in chats)


def test_unread_chats_is_lazy(client, sandbox):
    chats = client.unread_chats(page_size=2)
    assert sandbox.world.request_count() == 0
    next(chats)
    assert sandbox.world.request_count("GET", "/chats") == 1


def test_unread_chats_match_the_sandbox_state(client, sandbox):
    unread = {f["uuid"] for f in sandbox.world.fans() if not sandbox.world.chat(f["uuid"])["isRead"]}
    chats = list(client.unread_chats(page_size=7))
    assert {c.user.uuid for c in chats} == unread
    assert first_fan(sandbox)["uuid"] in unread


def test_unread_counts(client, sandbox):
    counts = client.unread_counts()
    expected = sandbox.world.unread_counts()
    assert (counts.chats, counts.messages) == (expected["unreadChatsCount"], expected["unreadMessagesCount"])
    assert counts.chats > 0


def test_messages_never_mark_the_chat_read(client, sandbox):
    fan = first_fan(sandbox)
    assert sandbox.world.chat(fan["uuid"])["isRead"] is False
    history = client.messages(fan["uuid"], size=50)
    assert [m.uuid for m in history] == [m["uuid"] for m in sandbox.world.messages(fan["uuid"])][:50]
    assert sandbox.world.chat(fan["uuid"])["isRead"] is False
    [record] = api_requests(sandbox, "GET", f"/chats/{fan['uuid']}/messages")
    assert query_value(record, "markAsRead") == "false"
    assert (query_value(record, "page"), query_value(record, "size")) == ("1", "50")


def test_messages_second_page(client, sandbox):
    fan = first_fan(sandbox)
    for i in range(4):
        sandbox.world.add_fan_message(fan["uuid"], f"note {i}")
    everything = [m["uuid"] for m in sandbox.world.messages(fan["uuid"])]
    assert [m.uuid for m in client.messages(fan["uuid"], size=2, page=2)] == everything[2:4]


def test_recent_messages_splits_into_batches_of_fifty(fake_time):
    with Sandbox(fans=60, seed=2, token=TOKEN) as sb:
        uuids = [f["uuid"] for f in sb.world.fans()]
        with make_client(sb.url, fake_time) as client:
            result = client.recent_messages(uuids, limit=5)
        assert set(result) == set(uuids)
        assert sb.world.request_count("POST", "/chats/messages/batch") == 2
        fan = uuids[0]
        expected = [m["uuid"] for m in sb.world.messages(fan)][:5]
        assert [m.uuid for m in result[fan].messages] == expected
        assert result[fan].error is None


def test_recent_messages_reports_per_chat_errors_and_since(client, sandbox):
    fans = [f["uuid"] for f in sandbox.world.fans()[:3]]
    sandbox.world.remove_chat(fans[1])
    sandbox.world.set_batch_error(fans[2], "forbidden")
    cursor = sandbox.world.messages(fans[0])[0]["uuid"]
    newer = sandbox.world.add_fan_message(fans[0], "after the cursor")
    result = client.recent_messages(fans, since_message_uuid=cursor)
    assert [m.uuid for m in result[fans[0]].messages] == [newer["uuid"]]
    assert (result[fans[1]].error, result[fans[1]].messages) == ("not_found", [])
    assert result[fans[2]].error == "forbidden"


def test_recent_messages_with_nothing_asked_makes_no_request(client, sandbox):
    assert client.recent_messages([]) == {}
    assert sandbox.world.request_count() == 0


def test_send_message(client, sandbox):
    fan = first_fan(sandbox)
    media = ready_media(sandbox.world)
    message_uuid = client.send_message(
        fan["uuid"], "Thanks for the message ✨", price_cents=500, media_uuids=media
    )
    [sent] = sandbox.world.sent_messages(fan["uuid"])
    assert sent["uuid"] == message_uuid
    assert sent["text"] == "Thanks for the message ✨"
    assert sent["pricing"] == {"USD": {"price": 500}}
    assert sent["mediaUuids"] == media


# --- client-side validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "price"),
    [("", None), ("   \n\t", None), ("x" * 5001, None), ("fine", 299), ("fine", 0)],
)
def test_invalid_messages_are_rejected_before_any_request(client, sandbox, text, price):
    with pytest.raises(InvalidMessage):
        client.send_message(first_fan(sandbox)["uuid"], text, price_cents=price)
    assert sandbox.world.request_count() == 0
    assert sandbox.world.sent_messages() == []


def test_limits_are_inclusive(client, sandbox):
    fan = first_fan(sandbox)["uuid"]
    client.send_message(fan, "x" * 5000, price_cents=300, media_uuids=ready_media(sandbox.world))
    assert len(sandbox.world.sent_messages(fan)) == 1


# --- error mapping ----------------------------------------------------------------------------


def test_not_found(client, sandbox):
    fan = first_fan(sandbox)["uuid"]
    sandbox.world.remove_chat(fan)
    with pytest.raises(NotFoundError) as caught:
        client.messages(fan)
    assert caught.value.status == 404
    assert caught.value.path == f"/chats/{fan}/messages"
    assert sandbox.world.request_count() == 1


def test_not_contactable(client, sandbox):
    fan = blocked_fan(sandbox)["uuid"]
    with pytest.raises(NotContactableError) as caught:
        client.send_message(fan, "hello")
    assert caught.value.status == 400
    assert sandbox.world.sent_messages() == []
    assert sandbox.world.request_count("POST") == 1


def test_validation_error_from_the_server(client, sandbox):
    # Page sizes above 50 are refused by Fanvue; the client passes `size` through untouched.
    with pytest.raises(ValidationError) as caught:
        client.messages(first_fan(sandbox)["uuid"], size=51)
    assert caught.value.errors
    assert caught.value.status == 400


def test_unsupported_version(sandbox, fake_time):
    # The sandbox answers 400 for a version that is not a known date, and 410 for any older date.
    with make_client(sandbox.url, fake_time, api_version="next") as client:
        with pytest.raises(UnsupportedVersionError) as caught:
            client.me()
    assert caught.value.status == 400
    [record] = sandbox.world.requests
    assert record.status == 400


@pytest.mark.parametrize("version", ["1999-01-01", "2024-01-01"])
def test_retired_version(sandbox, fake_time, version):
    with make_client(sandbox.url, fake_time, api_version=version) as client:
        with pytest.raises(RetiredVersionError) as caught:
            client.unread_counts()
    assert caught.value.status == 410
    assert caught.value.next_version == "2025-06-26"
    assert sandbox.world.request_count() == 1


def test_expired_static_token_is_final(client, sandbox):
    sandbox.world.expire_tokens()
    with pytest.raises(AuthError) as caught:
        client.me()
    assert caught.value.status == 401
    assert sandbox.world.request_count() == 1


def test_401_then_refresh_then_success(sandbox, fake_time):
    provider = RefreshingToken(TOKEN, "fresh-token-b21c")
    sandbox.world.expire_tokens()
    sandbox.world.add_token("fresh-token-b21c")
    with make_client(sandbox.url, fake_time, token=provider) as client:
        assert client.me().uuid == sandbox.world.creator["uuid"]
        client.unread_counts()
    assert [r.token_ok for r in sandbox.world.requests] == [False, True, True]
    assert provider.calls == [None, TOKEN, None]


def test_401_after_refresh_raises_auth_error(sandbox, fake_time):
    provider = RefreshingToken(TOKEN, "also-rejected-9d0e")
    sandbox.world.expire_tokens()
    with make_client(sandbox.url, fake_time, token=provider) as client:
        with pytest.raises(AuthError):
            client.send_message(first_fan(sandbox)["uuid"], "hello")
    assert [r.token_ok for r in sandbox.world.requests] == [False, False]
    assert sandbox.world.sent_messages() == []


def test_rate_limited_then_success_honours_retry_after(sandbox, fake_time):
    session = requests.Session()
    answers: list[requests.Response] = []
    session.hooks["response"].append(lambda resp, *args, **kwargs: answers.append(resp))
    sandbox.world.inject_fault("429", count=1, method="GET", path="/chats/unread")
    with make_client(sandbox.url, fake_time, session=session) as client:
        client.unread_counts()
    assert [r.status for r in api_requests(sandbox, "GET", "/chats/unread")] == [429, 200]
    assert fake_time.sleeps == [pytest.approx(float(answers[0].headers["Retry-After"]))]
    session.close()


def test_retry_after_is_honoured(stub, fake_time):
    stub.answer(429, {"error": "Too many requests"}, {"Retry-After": "7"})
    stub.answer(200, {"unreadChatsCount": 0, "unreadMessagesCount": 0})
    with make_client(stub.url, fake_time) as client:
        client.unread_counts()
    assert fake_time.sleeps == [pytest.approx(7.0)]
    assert len(stub.seen) == 2


def test_send_is_retried_after_a_429(client, sandbox):
    fan = first_fan(sandbox)["uuid"]
    sandbox.world.inject_fault("429", count=1, method="POST", path="/message")
    client.send_message(fan, "hello once")
    assert [r.status for r in api_requests(sandbox, "POST", f"/chats/{fan}/message")] == [429, 201]
    assert [m["text"] for m in sandbox.world.sent_messages(fan)] == ["hello once"]


def test_rate_limit_retries_run_out(sandbox, fake_time):
    sandbox.world.inject_fault("429", count=10, path="/chats/unread")
    with make_client(sandbox.url, fake_time, max_rate_limit_retries=2) as client:
        with pytest.raises(RateLimitedError) as caught:
            client.unread_counts()
    assert caught.value.retry_after > 0
    assert sandbox.world.request_count("GET", "/chats/unread") == 3


def test_server_errors_are_retried_on_reads(client, sandbox, fake_time):
    sandbox.world.inject_fault("500", count=2, path="/chats/unread")
    assert client.unread_counts().chats > 0
    assert [r.status for r in api_requests(sandbox, "GET", "/chats/unread")] == [500, 500, 200]
    assert len(fake_time.sleeps) == 2


def test_server_errors_exhaust_read_retries(sandbox, fake_time):
    sandbox.world.inject_fault("503", count=10, path="/users/me")
    with make_client(sandbox.url, fake_time, read_retries=2) as client:
        with pytest.raises(ServerError) as caught:
            client.me()
    assert caught.value.status == 503
    assert sandbox.world.request_count() == 3


def test_batch_read_is_retried_on_server_error(client, sandbox):
    sandbox.world.inject_fault("500", count=1, path="/chats/messages/batch")
    fan = first_fan(sandbox)["uuid"]
    assert client.recent_messages([fan])[fan].messages
    assert sandbox.world.request_count("POST", "/chats/messages/batch") == 2


def test_server_error_on_send_is_not_retried(client, sandbox):
    fan = first_fan(sandbox)["uuid"]
    sandbox.world.inject_fault("500", count=1, method="POST", path="/message")
    with pytest.raises(SendOutcomeUnknown) as caught:
        client.send_message(fan, "did it arrive?")
    assert (caught.value.user_uuid, caught.value.text) == (fan, "did it arrive?")
    assert isinstance(caught.value.cause, ServerError)
    assert sandbox.world.request_count("POST") == 1


def test_dropped_response_on_send_is_an_unknown_outcome(client, sandbox):
    fan = first_fan(sandbox)["uuid"]
    sandbox.world.inject_fault("drop_response", count=1, method="POST", path="/message")
    with pytest.raises(SendOutcomeUnknown):
        client.send_message(fan, "delivered but unconfirmed")
    assert [m["text"] for m in sandbox.world.sent_messages(fan)] == ["delivered but unconfirmed"]
    assert sandbox.world.request_count("POST") == 1


def test_hanging_read_is_retried_then_unavailable(sandbox, fake_time):
    sandbox.world.inject_fault("hang", count=3, path="/chats/unread")
    with make_client(sandbox.url, fake_time, timeout=0.3, read_retries=2) as client:
        with pytest.raises(FanvueUnavailable):
            client.unread_counts()
    assert sandbox.world.request_count("GET", "/chats/unread") == 3


def test_hanging_send_is_an_unknown_outcome(sandbox, fake_time):
    fan = first_fan(sandbox)["uuid"]
    sandbox.world.inject_fault("hang", count=1, method="POST", path="/message")
    with make_client(sandbox.url, fake_time, timeout=0.3) as client:
        with pytest.raises(SendOutcomeUnknown):
            client.send_message(fan, "slow")
    assert sandbox.world.request_count("POST") == 1


def test_refused_connection_on_send_is_unavailable_not_unknown(fake_time):
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    with make_client(f"http://127.0.0.1:{port}", fake_time, timeout=1.0) as client:
        with pytest.raises(FanvueUnavailable):
            client.send_message("2f0c0a9e-8f4e-4c55-9d1e-3b6f0a7c1d22", "hello")


# --- headers and secrecy ----------------------------------------------------------------------


def test_every_request_carries_version_auth_and_accept_headers(stub):
    stub.answer(200, {"unreadChatsCount": 1, "unreadMessagesCount": 2})
    with FanvueClient(stub.url, StaticToken(TOKEN), sleep=lambda s: None) as client:
        client.unread_counts()
    [seen] = stub.seen
    assert seen["headers"]["X-Fanvue-API-Version"] == "2025-06-26"
    assert seen["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert seen["headers"]["Accept"] == "application/json"


def test_token_never_appears_in_errors_or_the_client(sandbox, fake_time, caplog):
    caplog.set_level("DEBUG")
    client = make_client(sandbox.url, fake_time)
    sandbox.world.expire_tokens()
    errors: list[FanvueError] = []
    with pytest.raises(AuthError) as caught:
        client.me()
    errors.append(caught.value)
    sandbox.world.add_token(TOKEN)
    sandbox.world.inject_fault("500", count=1, method="POST")
    with pytest.raises(SendOutcomeUnknown) as unknown:
        client.send_message(first_fan(sandbox)["uuid"], "hi")
    errors.append(unknown.value)
    for text in [str(client), repr(client), repr(StaticToken(TOKEN)), caplog.text]:
        assert TOKEN not in text
    for err in errors:
        assert TOKEN not in str(err) and TOKEN not in repr(err)
    assert "401" in str(errors[0]) and "GET /users/me" in str(errors[0])
    client.close()


# --- a stub server for answers the sandbox cannot give ----------------------------------------


class StubFanvue:
    """A tiny HTTP server answering queued (status, body, headers) and recording each request."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, object, dict]] = []
        self.seen: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.seen.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, payload, headers = (
                    stub.answers.pop(0) if stub.answers else (500, {"message": "?"}, {})
                )
                raw = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PATCH = _reply

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, status: int, body: object, headers: dict | None = None) -> None:
        self.answers.append((status, body, headers or {}))


@pytest.fixture
def stub() -> Iterator[StubFanvue]:
    s = StubFanvue()
    s.thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()
    s.thread.join()


def test_missing_scope_is_403(stub, fake_time):
    stub.answer(403, {"error": "missing scope read:chat"}, {"X-Request-Id": "req-42"})
    with make_client(stub.url, fake_time) as client:
        with pytest.raises(MissingScopeError) as caught:
            list(client.unread_chats())
    assert (
        str(caught.value) == "Fanvue answered 403 on GET /chats: missing scope read:chat (request id req-42)"
    )
    assert caught.value.request_id == "req-42"
    assert len(stub.seen) == 1


def test_conflict_is_409(stub, fake_time):
    stub.answer(409, {"message": "chat state changed"})
    with make_client(stub.url, fake_time) as client:
        with pytest.raises(ConflictError):
            client.send_message("2f0c0a9e-8f4e-4c55-9d1e-3b6f0a7c1d22", "hello")


def test_remaining_zero_holds_back_the_next_request(stub, fake_time):
    reset = int(fake_time.wall()) + 30
    stub.answer(
        200,
        {"unreadChatsCount": 0, "unreadMessagesCount": 0},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )
    stub.answer(200, {"unreadChatsCount": 0, "unreadMessagesCount": 0})
    with make_client(stub.url, fake_time) as client:
        client.unread_counts()
        assert fake_time.sleeps == []
        client.unread_counts()
    assert fake_time.sleeps == [pytest.approx(30.0)]
    assert len(stub.seen) == 2


def test_retry_after_absent_defaults_to_one_second(stub, fake_time):
    stub.answer(429, {"error": "Too many requests"})
    stub.answer(200, {"unreadChatsCount": 0, "unreadMessagesCount": 0})
    with make_client(stub.url, fake_time) as client:
        client.unread_counts()
    assert fake_time.sleeps == [pytest.approx(1.0)]


def test_huge_retry_after_is_capped(stub, fake_time):
    stub.answer(429, {"error": "Too many requests"}, {"Retry-After": "3600"})
    stub.answer(200, {"unreadChatsCount": 0, "unreadMessagesCount": 0})
    with make_client(stub.url, fake_time) as client:
        client.unread_counts()
    assert fake_time.sleeps == [pytest.approx(60.0)]


def test_malformed_success_body(stub, fake_time):
    stub.answer(200, {"data": [{"user": {"handle": "no-uuid"}}], "pagination": {"hasMore": False}})
    stub.answer(201, {"id": "not what the spec says"})
    with make_client(stub.url, fake_time) as client:
        with pytest.raises(MalformedResponse, match="user.uuid"):
            list(client.unread_chats())
        with pytest.raises(MalformedResponse, match="messageUuid"):
            client.send_message("2f0c0a9e-8f4e-4c55-9d1e-3b6f0a7c1d22", "hi")


def test_path_segments_are_escaped(stub, fake_time):
    stub.answer(201, {"messageUuid": "m-1"})
    with make_client(stub.url, fake_time) as client:
        client.send_message("../users/me", "hi")
    assert stub.seen[0]["path"] == "/chats/..%2Fusers%2Fme/message"
    assert json.loads(stub.seen[0]["body"]) == {"text": "hi"}
