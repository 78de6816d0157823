"""Every request the Fanvue client makes, and every answer it gets, fits Fanvue's OpenAPI contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from fanvue import (
    AuthError,
    FanvueClient,
    NotContactableError,
    NotFoundError,
    RateBudget,
    RetiredVersionError,
    StaticToken,
    UnsupportedVersionError,
)
from standins.fanvue import Sandbox
from standins.fanvue.vault import ready_media
from tests.contract import load_spec, validate_exchange

TOKEN = "contract-token-51d2"


class Recorder:
    """Keeps every response the client's session receives (retries included)."""

    def __init__(self) -> None:
        self.responses: list[requests.Response] = []

    def hook(self, resp: requests.Response, *args, **kwargs) -> None:
        self.responses.append(resp)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(fans=60, seed=5, token=TOKEN) as sb:
        yield sb


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def make_client(sandbox: Sandbox, recorder: Recorder, **kwargs) -> FanvueClient:
    session = requests.Session()
    session.hooks["response"].append(recorder.hook)
    return FanvueClient(
        sandbox.url,
        kwargs.pop("token", StaticToken(TOKEN)),
        session=session,
        budget=RateBudget(sleep=lambda s: None),
        sleep=lambda s: None,
        **kwargs,
    )


def assert_all_valid(recorder: Recorder, expected_statuses: set[int]) -> None:
    spec = load_spec()
    assert recorder.responses, "the client made no request"
    for resp in recorder.responses:
        validate_exchange(spec, resp)
    assert {r.status_code for r in recorder.responses} == expected_statuses


def test_every_method_speaks_the_contract(sandbox, recorder):
    fans = [f["uuid"] for f in sandbox.world.fans()]
    first = fans[0]
    client = make_client(sandbox, recorder)
    client.me()
    chats = list(client.unread_chats(page_size=10))
    client.unread_counts()
    history = client.messages(first, size=5)
    client.recent_messages(fans, limit=3)
    client.recent_messages([first], since_message_uuid=history[-1].uuid)
    client.send_message(first, "Thank you! 💋")
    client.send_message(first, "A set for you", price_cents=999, media_uuids=ready_media(sandbox.world))
    client.close()
    assert len(chats) > 10  # more than one page was walked
    assert_all_valid(recorder, {200, 201})
    operations = {(r.request.method, operation_path(r.request, first)) for r in recorder.responses}
    assert operations == {
        ("GET", "/users/me"),
        ("GET", "/chats"),
        ("GET", "/chats/unread"),
        ("GET", "/chats/{userUuid}/messages"),
        ("POST", "/chats/messages/batch"),
        ("POST", "/chats/{userUuid}/message"),
    }


def operation_path(request: requests.PreparedRequest, user_uuid: str) -> str:
    return request.path_url.split("?")[0].replace(user_uuid, "{userUuid}")


def test_messages_request_sends_mark_as_read_false(sandbox, recorder):
    client = make_client(sandbox, recorder)
    client.messages(sandbox.world.fans()[0]["uuid"])
    [resp] = recorder.responses
    assert "markAsRead=false" in resp.request.url
    assert_all_valid(recorder, {200})


def test_error_answers_fit_the_contract(sandbox, recorder):
    fans = sandbox.world.fans()
    blocked = next(f["uuid"] for f in fans if "blocked" in f["handle"])
    gone = fans[1]["uuid"]
    sandbox.world.remove_chat(gone)
    client = make_client(sandbox, recorder)
    with pytest.raises(NotContactableError):
        client.send_message(blocked, "hello")
    with pytest.raises(NotFoundError):
        client.messages(gone)
    sandbox.world.inject_fault("429", count=1, path="/chats/unread")
    client.unread_counts()
    sandbox.world.expire_tokens()
    with pytest.raises(AuthError):
        client.me()
    assert_all_valid(recorder, {400, 404, 429, 200, 401})


@pytest.mark.parametrize(
    ("version", "error"), [("2024-01-01", RetiredVersionError), ("next", UnsupportedVersionError)]
)
def test_version_answers_fit_the_contract(sandbox, recorder, version, error):
    client = make_client(sandbox, recorder, api_version=version)
    with pytest.raises(error):
        client.unread_counts()
    spec = load_spec()
    [resp] = recorder.responses
    assert resp.request.headers["X-Fanvue-API-Version"] == version
    # The request itself is off-contract on purpose (the header is the spec's string, so it still parses).
    validate_exchange(spec, resp)
