"""Every request the agency client makes, and every answer it gets, fits Fanvue's agency contract."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from fanvue import (
    AgencyAdminRequired,
    AgencyClient,
    CreatorNotReachable,
    NotContactableError,
    RateBudget,
    StaticToken,
)
from standins.fanvue import Sandbox
from standins.fanvue.agency import ADMIN, MEMBER
from standins.fanvue.vault import ready_media
from tests.contract import load_agency_spec, validate_exchange

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class Recorder:
    """Keeps every response the client's session receives (retries included)."""

    def __init__(self) -> None:
        self.responses: list[requests.Response] = []

    def hook(self, resp: requests.Response, *args, **kwargs) -> None:
        self.responses.append(resp)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(creators=3, fans=30, seed=6) as sb:
        yield sb


def make_client(sandbox: Sandbox, recorder: Recorder, account: str) -> AgencyClient:
    session = requests.Session()
    session.hooks["response"].append(recorder.hook)
    return AgencyClient(
        sandbox.url,
        StaticToken(sandbox.member_token(account)),
        session=session,
        budget=RateBudget(sleep=lambda s: None),
        sleep=lambda s: None,
    )


def operation(request: requests.PreparedRequest) -> tuple[str, str]:
    path = request.path_url.split("?")[0]
    path = re.sub(rf"^/creators/{UUID}", "/creators/{creatorUserUuid}", path)
    return request.method, re.sub(rf"/chats/{UUID}", "/chats/{userUuid}", path)


def test_every_agency_method_speaks_the_contract(sandbox):
    recorder = Recorder()
    client = make_client(sandbox, recorder, ADMIN)
    creators = list(client.creators(page_size=2))
    rows = list(client.agency_chats(page_size=20))
    first = client.creator(creators[0].uuid)
    chats = list(first.chats(page_size=10))
    fan = next(c.fan.uuid for c in chats if "blocked" not in c.fan.handle)
    first.messages(fan, size=5)
    first.send_message(fan, "Thank you! 💋")
    media = ready_media(sandbox.agency.creator_world(creators[0].uuid))
    paid = first.send_message(fan, "A set for you", price_cents=999, media_uuids=media)
    control = f"{sandbox.url}/_sandbox/creators/{creators[0].uuid}/fans/{fan}"
    requests.post(f"{control}/buy", json={"messageUuid": paid}, timeout=5).raise_for_status()
    requests.post(f"{control}/tip", json={"cents": 500}, timeout=5).raise_for_status()
    lines = list(first.earnings().lines(since=datetime.now(UTC) - timedelta(days=1), size=1))
    client.close()
    assert len(creators) == 3 and len(rows) == 90 and len(chats) == 30  # several pages of each were walked
    assert [line.message_uuid for line in lines] == [None, paid]  # two pages, by cursor
    spec = load_agency_spec()
    for resp in recorder.responses:
        validate_exchange(spec, resp)
    assert {r.status_code for r in recorder.responses} == {200, 201}
    assert {operation(r.request) for r in recorder.responses} == {
        ("GET", "/creators"),
        ("GET", "/agencies/chats"),
        ("GET", "/creators/{creatorUserUuid}/chats"),
        ("GET", "/creators/{creatorUserUuid}/chats/{userUuid}/messages"),
        ("POST", "/creators/{creatorUserUuid}/chats/{userUuid}/message"),
        ("GET", "/creators/{creatorUserUuid}/insights/earnings"),
    }


def test_refusals_the_client_types_fit_the_contract(sandbox):
    recorder = Recorder()
    client = make_client(sandbox, recorder, MEMBER)
    unreachable = sandbox.worlds[1].creator["uuid"]
    reachable = sandbox.worlds[0]
    blocked = next(f["uuid"] for f in reachable.fans() if "blocked" in f["handle"])
    with pytest.raises(AgencyAdminRequired):
        next(client.agency_chats())
    with pytest.raises(CreatorNotReachable):
        next(client.creator_chats(unreachable))
    with pytest.raises(NotContactableError):
        client.send_message(reachable.creator["uuid"], blocked, "hello")
    client.close()
    spec = load_agency_spec()
    for resp in recorder.responses:
        validate_exchange(spec, resp)
    assert [r.status_code for r in recorder.responses] == [403, 403, 400]
