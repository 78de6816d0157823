"""Every request of the fan context client and every answer of the sandbox's fan context routes, success and
error, fits Fanvue's contract (the agency document holds these routes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from openapi_core.validation.response.exceptions import InvalidData

from fanvue import FanvueClient, MissingScopeError, RateBudget, StaticToken
from fanvue.insights import InsightsClient
from fanvue.scopes import CHAT_SCOPES
from standins.fanvue import Sandbox
from tests.contract import load_agency_spec, validate_exchange, validate_response
from tests.test_agency_scopes import log_in

VERSION = "2025-06-26"
STRANGER = "00000000-0000-4000-8000-000000000000"


class Recorder:
    """Keeps every response the client's session receives."""

    def __init__(self) -> None:
        self.responses: list[requests.Response] = []

    def hook(self, resp: requests.Response, *args, **kwargs) -> None:
        self.responses.append(resp)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(fans=130, seed=8, rate_limit=100_000) as sb:
        yield sb


@pytest.fixture
def spec():
    return load_agency_spec()


def recorded_client(sandbox: Sandbox, recorder: Recorder, token: str | None = None) -> InsightsClient:
    session = requests.Session()
    session.hooks["response"].append(recorder.hook)
    api = FanvueClient(
        sandbox.url,
        StaticToken(token or sandbox.token),
        session=session,
        budget=RateBudget(sleep=lambda s: None),
        sleep=lambda s: None,
    )
    return InsightsClient(api)


def fans(sandbox: Sandbox) -> list[str]:
    return [fan["uuid"] for fan in sandbox.world.fans()]


def test_every_call_of_the_client_speaks_the_contract(sandbox, spec):
    everyone = fans(sandbox)
    for fan, changes in ((everyone[1], {"error": "forbidden"}), (everyone[2], {"error": "internal"})):
        requests.post(
            f"{sandbox.url}/_sandbox/fans/{fan}/context", json=changes, timeout=5
        ).raise_for_status()
    recorder = Recorder()
    client = recorded_client(sandbox, recorder)
    client.fan_insights([*everyone, STRANGER])
    client.online_statuses([*everyone, STRANGER])
    sandbox.world.inject_fault("404", 1, "POST", "/insights/fans/batch")
    client.fan_insights([*everyone[:25], STRANGER])
    seen = [(r.request.method, r.request.path_url.split("?")[0], r.status_code) for r in recorder.responses]
    assert seen == [
        ("POST", "/insights/fans/batch", 200),
        ("POST", "/insights/fans/batch", 200),
        ("POST", "/chats/statuses", 200),
        ("POST", "/chats/statuses", 200),
        ("POST", "/insights/fans/batch", 404),
        ("GET", "/insights/fans", 200),
        ("GET", "/insights/fans", 200),
    ]
    for resp in recorder.responses:
        if resp.status_code == 404:
            continue  # the injected "no such route" answer is not one the spec lists for this operation
        validate_exchange(spec, resp)


def test_a_refusal_for_missing_scopes_fits_the_contract(sandbox, spec):
    pair = log_in(sandbox, sandbox.world.creator["handle"], " ".join(CHAT_SCOPES))
    recorder = Recorder()
    with pytest.raises(MissingScopeError):
        recorded_client(sandbox, recorder, pair["access_token"]).fan_insights(fans(sandbox)[:3])
    assert [r.status_code for r in recorder.responses] == [403]
    validate_exchange(spec, recorder.responses[0])


def call(sandbox: Sandbox, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {sandbox.token}", "X-Fanvue-API-Version": VERSION}
    return requests.request(method, sandbox.url + path, headers=headers, timeout=5, **kwargs)


@pytest.mark.parametrize(
    "method, path, kwargs, status",
    [
        ("GET", "/insights/fans/{fan}", {}, 200),
        ("GET", "/insights/fans/{stranger}", {}, 404),
        ("GET", "/insights/fans", {"params": {"fanUuids": "{fan},{stranger}"}}, 200),
        ("GET", "/insights/fans", {"params": {"fanUuids": ",".join([STRANGER] * 21)}}, 400),
        ("GET", "/insights/fans", {"params": {"fanUuids": "not-a-uuid"}}, 400),
        ("POST", "/insights/fans/batch", {"json": {"userUuids": ["{fan}", "{stranger}"]}}, 200),
        ("POST", "/insights/fans/batch", {"json": {"userUuids": []}}, 400),
        ("POST", "/insights/fans/batch", {"json": {"userUuids": [STRANGER] * 101}}, 400),
        ("POST", "/chats/statuses", {"json": {"userUuids": ["{fan}", "{stranger}"]}}, 200),
        ("POST", "/chats/statuses", {"json": {"userUuids": ["nope"]}}, 400),
        ("POST", "/chats/statuses", {"json": {"userUuids": [STRANGER] * 101}}, 400),
    ],
)
def test_each_answer_of_the_sandbox_fits_the_contract(sandbox, spec, method, path, kwargs, status):
    slots = {"fan": fans(sandbox)[0], "stranger": STRANGER}

    def fill(value):
        if isinstance(value, str):
            return value.format(**slots)
        if isinstance(value, list):
            return [fill(v) for v in value]
        return {k: fill(v) for k, v in value.items()} if isinstance(value, dict) else value

    resp = call(sandbox, method, path.format(**slots), **fill(kwargs))
    assert resp.status_code == status, resp.text
    if status == 400:
        validate_response(spec, resp)  # the request is invalid on purpose; its answer must still fit
    else:
        validate_exchange(spec, resp)


def test_an_unknown_status_value_breaks_the_spec_enum_which_is_why_the_client_tolerates_it(sandbox, spec):
    fan = fans(sandbox)[0]
    requests.post(f"{sandbox.url}/_sandbox/fans/{fan}/context", json={"status": "vip"}, timeout=5)
    resp = call(sandbox, "GET", f"/insights/fans/{fan}")
    with pytest.raises(InvalidData):
        validate_response(spec, resp)
