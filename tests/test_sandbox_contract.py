"""Every sandbox answer, success and error, fits Fanvue's normalised OpenAPI contract."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from openapi_core.validation.request.exceptions import InvalidRequestBody
from openapi_core.validation.response.exceptions import InvalidData

from standins.fanvue import Sandbox
from standins.fanvue.vault import ready_media
from tests.contract import load_spec, validate_exchange, validate_request, validate_response

VERSION = "2025-06-26"
UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def sandbox():
    with Sandbox(fans=20, seed=3, rate_limit=500) as sb:
        yield sb


@pytest.fixture
def spec():
    return load_spec()


@pytest.fixture
def send(sandbox):
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {sandbox.token}", "X-Fanvue-API-Version": VERSION})

    def request(method: str, path: str, **kwargs) -> requests.Response:
        slots = fan_slots(sandbox)
        if "json" in kwargs:
            kwargs["json"] = fill(kwargs["json"], slots)
        return session.request(method, sandbox.url + path.format(**slots), timeout=5, **kwargs)

    yield request
    session.close()


def fill(value, slots: dict):
    """The JSON value with "{fan}"-style placeholders replaced by seeded uuids."""
    if isinstance(value, dict):
        return {key: fill(item, slots) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, slots) for item in value]
    return value.format(**slots) if isinstance(value, str) and value.startswith("{") else value


def fan_slots(sandbox: Sandbox) -> dict:
    fans = sandbox.world.fans()
    return {
        "fan": fans[0]["uuid"],
        "other": fans[3]["uuid"],
        "blocked": next(f["uuid"] for f in fans if "blocked" in f["handle"]),
        "media": ready_media(sandbox.world)[0],
    }


SUCCESSES = [
    ("GET", "/users/me", {}, 200),
    ("GET", "/chats", {}, 200),
    (
        "GET",
        "/chats",
        {"params": {"filter": ["unread", "not_muted"], "size": 50, "sortBy": "most_unanswered_chats"}},
        200,
    ),
    ("GET", "/chats", {"params": {"page": 9}}, 200),
    ("GET", "/chats/unread", {}, 200),
    ("GET", "/chats/{other}/messages", {"params": {"size": 50, "markAsRead": "false"}}, 200),
    ("GET", "/chats/{fan}/messages", {}, 200),
    (
        "POST",
        "/chats/messages/batch",
        {"json": {"chatUuids": ["{fan}", "{other}", UNKNOWN_UUID], "limit": 3}},
        200,
    ),
    ("POST", "/chats/{fan}/message", {"json": {"text": "hello 👋"}}, 201),
    (
        "POST",
        "/chats/{fan}/message",
        {"json": {"text": "a set", "mediaUuids": ["{media}"], "price": 999}},
        201,
    ),
    ("PATCH", "/chats/{fan}", {"json": {"isRead": False, "isMuted": True, "nickname": "Luk"}}, 204),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), SUCCESSES)
def test_successful_exchanges_fit_the_contract(spec, sandbox, send, method, path, kwargs, status):
    response = send(method, path, **kwargs)
    assert response.status_code == status
    validate_exchange(spec, response)


def test_every_seeded_message_fits_the_contract(spec, sandbox, send):
    # Each chat read in full, so every kind of seeded message (media, tips, pay-to-view) is checked.
    for fan in sandbox.world.fans():
        response = send("GET", f"/chats/{fan['uuid']}/messages", params={"size": 50, "markAsRead": "false"})
        validate_exchange(spec, response)


def test_batch_with_cursor_and_per_chat_errors_fits_the_contract(spec, sandbox, send):
    fans = sandbox.world.fans()
    sandbox.world.set_batch_error(fans[1]["uuid"], "internal")
    cursor = sandbox.world.messages(fans[0]["uuid"])[2]["uuid"]
    body = {"chatUuids": [f["uuid"] for f in fans[:3]], "sinceMessageUuid": cursor}
    response = send("POST", "/chats/messages/batch", json=body)
    assert response.json()["byChat"][fans[1]["uuid"]] == {"error": "internal"}
    validate_exchange(spec, response)


ERRORS = [
    # Requests that are themselves valid but the server refuses: the whole exchange is checked.
    ("GET", "/chats/{blocked}/messages", {"headers": {"Authorization": "Bearer expired"}}, 401, True),
    ("GET", "/users/me", {"headers": {"X-Fanvue-API-Version": "2024-01-01"}}, 410, True),
    ("GET", "/chats/unread", {"headers": {"X-Fanvue-API-Version": "1.0"}}, 400, True),
    ("GET", f"/chats/{UNKNOWN_UUID}/messages", {}, 404, True),
    ("POST", "/chats/{blocked}/message", {"json": {"text": "hi"}}, 400, True),
    ("POST", "/chats/{fan}/message", {"json": {"text": "x" * 5001}}, 400, False),
    ("POST", "/chats/{fan}/message", {"json": {"price": 100, "text": "hi"}}, 400, False),
    ("POST", "/chats/{fan}/message", {"json": {}}, 400, True),
    (
        "POST",
        "/chats/{fan}/message",
        {"data": b"{oops", "headers": {"Content-Type": "application/json"}},
        400,
        False,
    ),
    ("GET", "/chats", {"params": {"size": 51}}, 400, False),
    ("GET", "/chats", {"params": {"page": "abc"}}, 400, False),
    ("GET", "/chats/not-a-uuid/messages", {}, 400, False),
    ("GET", "/chats/{fan}/messages", {"params": {"markAsRead": "maybe"}}, 400, False),
    ("POST", "/chats/messages/batch", {"json": {"chatUuids": []}}, 400, False),
    (
        "POST",
        "/chats/messages/batch",
        {"data": b"[", "headers": {"Content-Type": "application/json"}},
        400,
        False,
    ),
    ("PATCH", "/chats/{fan}", {"json": {"isRead": "no"}}, 400, False),
    ("PATCH", "/chats/nope", {"json": {"isRead": True}}, 400, False),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "request_valid"), ERRORS)
def test_error_answers_fit_the_contract(spec, send, method, path, kwargs, status, request_valid):
    response = send(method, path, **kwargs)
    assert response.status_code == status
    (validate_exchange if request_valid else validate_response)(spec, response)


def test_rate_limit_and_injected_429_fit_the_contract(spec):
    with Sandbox(fans=2, seed=1, rate_limit=1) as sb:
        headers = {"Authorization": f"Bearer {sb.token}", "X-Fanvue-API-Version": VERSION}
        first = requests.get(sb.url + "/chats/unread", headers=headers, timeout=5)
        limited = requests.get(sb.url + "/chats/unread", headers=headers, timeout=5)
    assert (first.status_code, limited.status_code) == (200, 429)
    validate_exchange(spec, limited)


def test_injected_429_fits_the_contract(spec, sandbox, send):
    sandbox.world.inject_fault("429", path="/chats")
    response = send("GET", "/chats")
    assert response.status_code == 429
    validate_exchange(spec, response)


def test_the_contract_check_rejects_a_body_that_breaks_the_contract(spec, send):
    response = send("GET", "/chats/{fan}/messages", params={"markAsRead": "false"})
    broken = json.loads(response.content)
    del broken["data"][0]["isRead"]
    response._content = json.dumps(broken).encode()
    with pytest.raises(InvalidData):
        validate_response(spec, response)


def test_the_contract_check_insists_on_the_version_header(spec, sandbox):
    prepared = requests.Request(
        "GET", sandbox.url + "/users/me", headers={"Authorization": "Bearer x"}
    ).prepare()
    with pytest.raises(AssertionError):
        validate_request(spec, prepared)


def test_the_contract_check_validates_requests_against_the_spec(spec, sandbox):
    prepared = requests.Request(
        "POST",
        f"{sandbox.url}/chats/{uuid.uuid4()}/message",
        headers={"X-Fanvue-API-Version": VERSION, "Authorization": "Bearer x"},
        json={"text": ""},
    ).prepare()
    with pytest.raises(InvalidRequestBody):
        validate_request(spec, prepared)
