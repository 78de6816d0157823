"""Selling from the card of a creator reached through an agency login: the creator's media listed through
`/creators/{creator}/media` (Fanvue gives agencies no vault folders or templates), the resale guard, and
the paid message sent through the agency's send route, all over real HTTP."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
import requests

from fanvue import AgencyClient, RateBudget, StaticToken
from fanvue.media import NotForAgencies
from slack import attach, blocks
from slack import attach_blocks as ab
from standins.fanvue.agency import ADMIN
from standins.fanvue.vault import vault_of
from store import drafts
from store.earnings import offer_for
from tests.contract import load_agency_spec, validate_exchange
from tests.harness import Harness
from tests.test_attach import attach_view, submit
from tests.test_many_creators import two  # noqa: F401 - the fixture


def _agency_card(h: Harness, world) -> drafts.Draft:
    """A waiting card of `world`'s creator, after a cycle through the agency login."""
    h.cycle()
    creator = world.creator["uuid"]
    fans = {f["uuid"] for f in world.fans() if "blocked" not in f["handle"]}
    return next(
        d
        for d in drafts.with_status(h.store.db, drafts.PENDING)
        if d.creator_uuid == creator and d.fan_uuid in fans
    )


def _ready(world) -> list:
    vault = vault_of(world)
    with vault._lock:
        return [m for m in vault.media.values() if m.status == "ready"]


def test_the_agency_media_client_lists_a_creators_media_and_purchases_within_the_contract(two):  # noqa: F811
    responses: list[requests.Response] = []
    session = requests.Session()
    session.hooks["response"].append(lambda resp, *a, **k: responses.append(resp))
    world = two.worlds[1]
    creator = world.creator["uuid"]
    fan = next(f["uuid"] for f in world.fans() if "blocked" not in f["handle"])
    with AgencyClient(
        two.url,
        StaticToken(two.member_token(ADMIN)),
        session=session,
        budget=RateBudget(sleep=lambda s: None),
        sleep=lambda s: None,
    ) as agency:
        media = agency.media(creator)
        assert not media.has_vault
        ready = list(media.media_list(ready=True, page_size=3, purchased_by=fan))
        assert ready and all(m.ready for m in ready)
        assert {m.uuid for m in ready} == {m.uuid for m in _ready(world)}
        wanted = [ready[0].uuid, ready[-1].uuid]
        assert set(media.items(wanted)) == set(wanted)
        assert media.purchased(fan, wanted) == dict.fromkeys(wanted, False)
        with pytest.raises(NotForAgencies, match="agency logins"):
            list(media.folders())
        with pytest.raises(NotForAgencies, match="templates"):
            list(media.templates())
    spec = load_agency_spec()
    for resp in responses:
        validate_exchange(spec, resp)
    assert {r.request.path_url.split("?")[0] for r in responses} == {f"/creators/{creator}/media"}


def test_an_agency_creators_card_sells_the_creators_media_through_the_agency_routes(tmp_path, two, slack):  # noqa: F811
    world = two.worlds[0]
    h = Harness(tmp_path / "bridge.db", two, slack, logins=[("agency", two.member_token(ADMIN))])
    try:
        draft = _agency_card(h, world)
        h.click(draft, ab.ATTACH)
        view = attach_view(h)["view"]
        ids = [b.get("block_id") for b in view["blocks"]]
        assert ab.FOLDER_BLOCK not in ids and ab.MEDIA_BLOCK in ids  # no folders: the media at once
        assert "no vault folders" in json.dumps(view)
        options = next(b for b in view["blocks"] if b.get("block_id") == ab.MEDIA_BLOCK)["element"]["options"]
        ready = _ready(world)
        assert {o["value"] for o in options} == {m.uuid for m in ready}
        vault_of(world).bought(draft.fan_uuid, [ready[0].uuid])
        answer = submit(h, view, [ready[0].uuid], "8")
        assert answer["response_action"] == "errors" and "already bought" in json.dumps(answer["errors"])
        assert submit(h, view, [ready[1].uuid], "8") == {}
        assert offer_for(h.store.db, draft.id).media_uuids == (ready[1].uuid,)
        h.click(draft, blocks.SEND)
        [sent] = world.sent_messages(draft.fan_uuid)
        assert sent["pricing"]["USD"]["price"] == 800 and sent["mediaUuids"] == [ready[1].uuid]
        creator = world.creator["uuid"]
        paths = {r.path for r in two.world.requests}
        assert f"/creators/{creator}/media" in paths
        assert f"/creators/{creator}/chats/{draft.fan_uuid}/message" in paths
        assert not {"/media", "/vault/folders", "/chats/templates"} & paths
    finally:
        h.close()


def test_an_agency_creators_card_has_no_template_button_and_an_old_one_says_why(tmp_path, two, slack):  # noqa: F811
    h = Harness(tmp_path / "bridge.db", two, slack, logins=[("agency", two.member_token(ADMIN))])
    try:
        draft = _agency_card(h, two.worlds[0])
        card = h.card(draft)
        shown = json.dumps(card.blocks)
        assert ab.TEMPLATE not in shown and ab.ATTACH in shown
        # A card drawn before (or by an older version of the app) still has the button.
        old = copy.deepcopy(card.blocks)
        actions = next(b for b in old if b.get("block_id") == "decide")
        actions["elements"].append(
            {
                "type": "button",
                "action_id": ab.TEMPLATE,
                "value": blocks.button_value(draft),
                "text": {"type": "plain_text", "text": "Template"},
            }
        )
        h.click(draft, ab.TEMPLATE, message=dataclasses.replace(card, blocks=old))
        assert any(attach.NO_TEMPLATES[:40] in text for text in h.ephemerals("U0ALICE"))
        assert not [v for v in h.slack.views() if v["view"]["callback_id"] == ab.TEMPLATE_VIEW]
        assert "/chats/templates" not in {r.path for r in two.world.requests}
    finally:
        h.close()


def test_an_agency_sandbox_refuses_the_media_of_a_creator_out_of_reach(two):  # noqa: F811
    resp = requests.get(
        f"{two.url}/creators/00000000-0000-4000-8000-000000000000/media",
        headers={"Authorization": f"Bearer {two.member_token(ADMIN)}", "X-Fanvue-API-Version": "2025-06-26"},
        timeout=5,
    )
    assert resp.status_code == 404
    validate_exchange(load_agency_spec(), resp)
