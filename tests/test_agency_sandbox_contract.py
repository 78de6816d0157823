"""Every answer of the sandbox's agency routes, success and error, fits Fanvue's agency contract."""

from __future__ import annotations

import json

import pytest
import requests
from openapi_core.validation.response.exceptions import InvalidData

from standins.fanvue import Sandbox
from standins.fanvue.agency import ADMIN, MEMBER
from standins.fanvue.vault import ready_media
from tests.contract import load_agency_spec, spec_path, validate_exchange, validate_response

VERSION = "2025-06-26"
UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(creators=3, fans=12, seed=4, rate_limit=1000) as sb:
        yield sb


@pytest.fixture
def spec():
    return load_agency_spec()


def slots(sandbox: Sandbox) -> dict:
    first, second, third = (w.creator["uuid"] for w in sandbox.worlds)
    fans = sandbox.worlds[0].fans()
    return {
        "creator": first,
        "unreachable": second,  # the team member reaches every other creator: the first and the third
        "third": third,
        "fan": fans[0]["uuid"],
        "blocked": next((f["uuid"] for f in fans if "blocked" in f["handle"]), UNKNOWN_UUID),
        "third_fan": sandbox.worlds[2].fans()[1]["uuid"],
    }


def call(sandbox: Sandbox, who: str, method: str, path: str, **kwargs) -> requests.Response:
    tokens = {
        "admin": sandbox.member_token(ADMIN),
        "member": sandbox.member_token(MEMBER),
        "creator": sandbox.token,
    }
    headers = {"Authorization": f"Bearer {tokens[who]}", "X-Fanvue-API-Version": VERSION}
    headers.update(kwargs.pop("headers", {}))
    url = sandbox.url + path.format(**slots(sandbox))
    return requests.request(method, url, headers=headers, timeout=5, **kwargs)


SUCCESSES = [
    ("admin", "GET", "/creators", {}, 200),
    ("member", "GET", "/creators", {"params": {"page": 1, "size": 1}}, 200),
    ("admin", "GET", "/creators", {"params": {"page": 7}}, 200),
    ("admin", "GET", "/agencies/chats", {"params": {"size": 50}}, 200),
    ("admin", "GET", "/agencies/chats", {"params": {"page": 2, "size": 5}}, 200),
    ("member", "GET", "/creators/{creator}/chats", {"params": {"size": 5}}, 200),
    ("admin", "GET", "/creators/{unreachable}/chats", {}, 200),
    ("member", "GET", "/creators/{creator}/chats/{fan}/messages", {"params": {"markAsRead": "false"}}, 200),
    ("member", "GET", "/creators/{third}/chats/{third_fan}/messages", {"params": {"size": 50}}, 200),
    (
        "member",
        "POST",
        "/creators/{creator}/chats/{fan}/message",
        {"json": {"text": "hi from the team 👋"}},
        201,
    ),
    (
        "admin",
        "POST",
        "/creators/{third}/chats/{third_fan}/message",
        {"json": {"text": "a set", "price": 999}},
        201,
    ),
    ("member", "PATCH", "/creators/{creator}/chats/{fan}", {"json": {"isMuted": False}}, 204),
    ("member", "GET", "/creators/{creator}/chats/{fan}/messages", {}, 200),
    ("member", "GET", "/creators/{creator}/insights/earnings", {"params": {"size": 1}}, 200),
    (
        "admin",
        "GET",
        "/creators/{unreachable}/insights/earnings",
        {"params": {"size": 50, "startDate": "2024-10-20T00:00:00Z", "source": "message,tip"}},
        200,
    ),
]


@pytest.mark.parametrize(("who", "method", "path", "kwargs", "status"), SUCCESSES)
def test_successful_agency_exchanges_fit_the_contract(spec, sandbox, who, method, path, kwargs, status):
    response = call(sandbox, who, method, path, **kwargs)
    assert response.status_code == status, response.text
    validate_exchange(spec, response)


ERRORS = [
    # (who, method, path, kwargs, status, request valid)
    ("member", "GET", "/agencies/chats", {}, 403, True),
    ("creator", "GET", "/agencies/chats", {}, 403, True),
    ("creator", "GET", "/creators", {}, 403, True),
    ("member", "GET", "/creators/{unreachable}/chats", {}, 403, True),
    ("member", "GET", "/creators/{unreachable}/chats/{fan}/messages", {}, 403, True),
    ("member", "POST", "/creators/{unreachable}/chats/{fan}/message", {"json": {"text": "hi"}}, 403, True),
    ("admin", "GET", f"/creators/{UNKNOWN_UUID}/chats", {}, 404, True),
    ("admin", "GET", f"/creators/{{creator}}/chats/{UNKNOWN_UUID}/messages", {}, 404, True),
    (
        "admin",
        "POST",
        f"/creators/{{creator}}/chats/{UNKNOWN_UUID}/message",
        {"json": {"text": "hi"}},
        404,
        True,
    ),
    ("admin", "POST", "/creators/{creator}/chats/{blocked}/message", {"json": {"text": "hi"}}, 400, True),
    ("admin", "POST", "/creators/{creator}/chats/{fan}/message", {"json": {}}, 400, True),
    ("admin", "POST", "/creators/{creator}/chats/{fan}/message", {"json": {"text": "x" * 5001}}, 400, False),
    ("admin", "GET", "/creators/not-a-uuid/chats", {}, 400, False),
    ("member", "GET", "/creators/{unreachable}/insights/earnings", {}, 403, True),
    ("creator", "GET", "/creators/{creator}/insights/earnings", {}, 403, True),
    ("admin", "GET", f"/creators/{UNKNOWN_UUID}/insights/earnings", {}, 404, True),
    ("admin", "GET", "/creators/{creator}/insights/earnings", {"params": {"size": 0}}, 400, False),
    ("admin", "GET", "/creators/{creator}/insights/earnings", {"params": {"cursor": "nope"}}, 400, True),
    ("admin", "GET", "/creators/{creator}/chats", {"params": {"size": 51}}, 400, False),
    ("admin", "GET", "/agencies/chats", {"params": {"page": 0}}, 400, False),
    ("admin", "GET", "/creators", {"headers": {"X-Fanvue-API-Version": "2024-01-01"}}, 410, True),
    ("admin", "GET", "/agencies/chats", {"headers": {"Authorization": "Bearer expired"}}, 401, True),
]


@pytest.mark.parametrize(("who", "method", "path", "kwargs", "status", "request_valid"), ERRORS)
def test_agency_error_answers_fit_the_contract(
    spec, sandbox, who, method, path, kwargs, status, request_valid
):
    response = call(sandbox, who, method, path, **kwargs)
    assert response.status_code == status, response.text
    (validate_exchange if request_valid else validate_response)(spec, response)


def test_a_managed_creators_earnings_lines_fit_the_contract(spec, sandbox):
    world = sandbox.worlds[2]
    fan = world.fans()[1]["uuid"]
    sent = call(
        sandbox,
        "member",
        "POST",
        f"/creators/{{third}}/chats/{fan}/message",
        json={"text": "a set", "price": 1200, "mediaUuids": ready_media(world)},
    )
    control = f"{sandbox.url}/_sandbox/creators/{world.creator['uuid']}"
    bought = requests.post(
        f"{control}/fans/{fan}/buy", json={"messageUuid": sent.json()["messageUuid"]}, timeout=5
    )
    requests.post(f"{control}/fans/{fan}/tip", json={"cents": 400}, timeout=5).raise_for_status()
    order = bought.json()["transactionOrderId"]
    requests.post(f"{control}/earnings/refund", json={"transactionOrderId": order}, timeout=5)
    first = call(sandbox, "member", "GET", "/creators/{third}/insights/earnings", params={"size": 2})
    rest = call(
        sandbox,
        "member",
        "GET",
        "/creators/{third}/insights/earnings",
        params={"size": 2, "cursor": first.json()["nextCursor"]},
    )
    lines = first.json()["data"] + rest.json()["data"]
    assert [(line["source"], line["gross"]) for line in lines] == [
        ("message", -1200),
        ("tip", 400),
        ("message", 1200),
    ]
    assert rest.json()["nextCursor"] is None
    for response in (first, rest):
        validate_exchange(spec, response)


def test_every_seeded_message_of_every_creator_fits_the_contract(spec, sandbox):
    for world in sandbox.worlds:
        for fan in world.fans():
            path = f"/creators/{world.creator['uuid']}/chats/{fan['uuid']}/messages"
            response = call(sandbox, "admin", "GET", path, params={"size": 50, "markAsRead": "false"})
            validate_exchange(spec, response)


def test_per_creator_rate_limit_answers_fit_the_contract(spec):
    with Sandbox(creators=3, fans=3, seed=1, rate_limit=1) as sb:
        first = call(sb, "admin", "GET", "/creators/{creator}/chats")
        limited = call(sb, "admin", "GET", "/creators/{creator}/chats")
    assert (first.status_code, limited.status_code) == (200, 429)
    assert int(limited.headers["Retry-After"]) >= 1 and limited.headers["X-RateLimit-Remaining"] == "0"
    validate_exchange(spec, first)
    validate_exchange(spec, limited)


def test_a_missing_agency_spec_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("FANVUE_AGENCY_SPEC_PATH", str(tmp_path / "absent.json"))
    monkeypatch.setenv("CI", "true")
    assert spec_path("agency") == tmp_path / "absent.json"
    with pytest.raises(pytest.fail.Exception):
        load_agency_spec()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        load_agency_spec()


def test_the_agency_contract_check_rejects_a_row_without_its_creator(spec, sandbox):
    response = call(sandbox, "admin", "GET", "/agencies/chats", params={"size": 2})
    broken = response.json()
    del broken["data"][0]["creatorUuid"]
    response._content = json.dumps(broken).encode()
    with pytest.raises(InvalidData):
        validate_response(spec, response)
