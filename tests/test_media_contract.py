"""Every request of the vault, template, earnings and priced-send clients, and every answer of the sandbox's
routes for them, success and error, fits Fanvue's contract (agency document: vault, media, earnings; chat
document: templates and the send)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from fanvue import FanvueClient, RateBudget, StaticToken
from fanvue.earnings import EarningsClient
from fanvue.errors import FanvueError, PaidMessageRefused
from fanvue.media import MediaClient
from standins.fanvue import Sandbox
from standins.fanvue.vault import ready_media, vault_of
from tests.contract import load_agency_spec, load_spec, validate_exchange, validate_response

VERSION = "2025-06-26"
CHAT_ROUTES = ("/chats/",)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(fans=6, seed=4, creators=2, rate_limit=100_000) as sb:
        yield sb


def spec_for(path: str):
    return load_spec() if path.startswith(CHAT_ROUTES) else load_agency_spec()


def recorded(sandbox: Sandbox) -> tuple[FanvueClient, list[requests.Response]]:
    responses: list[requests.Response] = []
    session = requests.Session()
    session.hooks["response"].append(lambda resp, *a, **k: responses.append(resp))
    api = FanvueClient(
        sandbox.url,
        StaticToken(sandbox.token),
        session=session,
        budget=RateBudget(sleep=lambda s: None),
        sleep=lambda s: None,
    )
    return api, responses


def test_every_call_of_the_vault_template_earnings_and_send_clients_speaks_the_contract(sandbox):
    api, responses = recorded(sandbox)
    media = MediaClient(api)
    fan = next(f["uuid"] for f in sandbox.world.fans() if "blocked" not in f["handle"])
    folders = list(media.folders())
    list(media.folder_media(folders[0].name, page_size=3))
    listed = list(media.media_list(page_size=10, purchased_by=fan))
    media.media(listed[1].uuid, purchased_by=fan)
    media.media(next(m.uuid for m in listed if not m.ready))
    template = next(t for t in media.templates(page_size=7) if t.price_cents)
    message = api.send_message(
        fan, "A set", price_cents=999, media_uuids=template.media_uuids, template_uuid=template.uuid
    )
    requests.post(f"{sandbox.url}/_sandbox/fans/{fan}/buy", json={"messageUuid": message}, timeout=5)
    requests.post(f"{sandbox.url}/_sandbox/fans/{fan}/tip", json={"cents": 400}, timeout=5)
    list(EarningsClient(api).lines(size=1))
    with pytest.raises(PaidMessageRefused):
        api.send_message(fan, "A set", price_cents=999, media_uuids=ready_media(sandbox.worlds[1]))
    with pytest.raises(FanvueError):
        list(media.folder_media("No such folder"))
    statuses = set()
    for resp in responses:
        validate_exchange(spec_for(resp.request.path_url), resp)
        statuses.add(resp.status_code)
    assert statuses == {200, 201, 400, 404}
    paths = {resp.request.path_url.split("?")[0] for resp in responses}
    assert {"/vault/folders", "/media", "/chats/templates", "/insights/earnings"} <= paths


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/media", {"variants": "main,thumbnail,blurred,thumbnail_gallery", "status": "ready,processing"}),
        ("/media/{media}", {"variants": "main,thumbnail_gallery"}),
        ("/media/{processing}", {"variants": "blurred"}),
        ("/vault/folders/Customs/media", {"page": 2, "size": 5}),
        ("/insights/earnings", {"size": 50, "startDate": "2024-10-20T00:00:00Z", "source": "message,tip"}),
        ("/chats/templates", {"folderName": "beach"}),
    ],
)
def test_the_sandboxs_answers_fit_the_contract(sandbox, path, params):
    vault = vault_of(sandbox.world)
    slots = {
        "media": ready_media(sandbox.world)[0],
        "processing": next(m.uuid for m in vault.media.values() if m.status != "ready"),
    }
    resp = requests.get(
        sandbox.url + path.format(**slots),
        params=params,
        headers={"Authorization": f"Bearer {sandbox.token}", "X-Fanvue-API-Version": VERSION},
        timeout=5,
    )
    assert resp.status_code == 200
    validate_exchange(spec_for(path), resp)


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/media", {"variants": "huge"}, 400),
        ("/media/not-a-uuid", {}, 400),
        ("/media/00000000-0000-4000-8000-000000000000", {}, 404),
        ("/insights/earnings", {"cursor": "%%%"}, 400),
        ("/insights/earnings", {"size": 51}, 400),
    ],
)
def test_the_sandboxs_refusals_fit_the_contract(sandbox, path, params, status):
    resp = requests.get(
        sandbox.url + path,
        params=params,
        headers={"Authorization": f"Bearer {sandbox.token}", "X-Fanvue-API-Version": VERSION},
        timeout=5,
    )
    assert resp.status_code == status
    validate_response(spec_for(path), resp)
