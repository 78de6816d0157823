"""The vault, media and template client against the sandbox: paging, blurred previews only, purchases,
and priced sends refused before they leave or by Fanvue, never sent twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from fanvue import FanvueClient, InvalidMessage, RateBudget, SendOutcomeUnknown, StaticToken
from fanvue.errors import PaidMessageRefused
from fanvue.media import BLURRED, MediaClient, MediaItem
from standins.fanvue import Sandbox
from standins.fanvue.vault import ready_media, vault_of


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(fans=6, seed=11, creators=2, hang_seconds=5) as sb:
        yield sb


def api_client(sandbox: Sandbox, timeout: float = 5.0) -> FanvueClient:
    return FanvueClient(
        sandbox.url,
        StaticToken(sandbox.token),
        budget=RateBudget(sleep=lambda s: None),
        sleep=lambda s: None,
        timeout=timeout,
    )


def logged(sandbox: Sandbox, prefix: str) -> list:
    return [r for r in sandbox.world.requests if r.path.startswith(prefix)]


def fan_of(sandbox: Sandbox) -> str:
    return next(f["uuid"] for f in sandbox.world.fans() if "blocked" not in f["handle"])


def test_folders_and_a_folders_media_are_walked_page_by_page(sandbox):
    media = MediaClient(api_client(sandbox))
    folders = list(media.folders())
    assert [f.name for f in folders] == ["Beach set", "Behind the scenes", "Customs"]
    assert [f.media_count for f in folders] == [7, 10, 13]
    # The folder list names no paging parameters: the first page is asked for without any.
    assert [r.query for r in logged(sandbox, "/vault/folders")] == [{}, {"page": "2"}]
    sandbox.world.clear_requests()
    items = list(media.folder_media("Behind the scenes", page_size=4))
    assert len(items) == len({i.uuid for i in items}) == 10
    assert [r.query["page"] for r in logged(sandbox, "/vault/folders/")] == ["1", "2", "3"]
    assert all(r.path == "/vault/folders/Behind%20the%20scenes/media" for r in logged(sandbox, "/vault/"))


def test_only_the_blurred_variant_is_ever_asked_for_and_its_url_is_fresh_each_time(sandbox):
    media = MediaClient(api_client(sandbox))
    listed = list(media.media_list(page_size=8))
    assert len(listed) == 30  # four pages
    ready = [m for m in listed if m.ready]
    assert ready and all(m.blurred is not None and "/blurred/" in m.blurred.url for m in ready)
    waiting = [m for m in listed if not m.ready]
    assert waiting and all(m.blurred is None and m.status == "processing" for m in waiting)
    first = media.media(ready[0].uuid)
    again = media.media(ready[0].uuid)
    assert first.blurred.url != again.blurred.url  # signed and short-lived: never the same URL twice
    asked = logged(sandbox, "/media")
    assert len(asked) == 6
    assert all(r.query.get("variants") == BLURRED for r in asked)
    assert not any(kind in str(r.query) for r in asked for kind in ("main", "thumbnail"))


def test_whether_a_fan_bought_media_comes_from_purchasedBy(sandbox):
    api = api_client(sandbox)
    fan = fan_of(sandbox)
    sold, other = ready_media(sandbox.world, 2)
    message = api.send_message(fan, "A set for you", price_cents=700, media_uuids=[sold])
    requests.post(f"{sandbox.url}/_sandbox/fans/{fan}/buy", json={"messageUuid": message}, timeout=5)
    media = MediaClient(api)
    assert media.purchased(fan, [sold, other]) == {sold: True, other: False}
    assert media.media(sold, purchased_by=fan).purchased_by_fan is True
    assert media.media(sold).purchased_by_fan is None
    assert all(r.query.get("purchasedBy") == fan for r in logged(sandbox, "/media")[:-1])


def test_templates_are_paged_and_keep_price_media_and_folder(sandbox):
    media = MediaClient(api_client(sandbox))
    templates = list(media.templates(page_size=5))
    assert len(templates) == 18 and len(logged(sandbox, "/chats/templates")) == 4
    paid = [t for t in templates if t.price_cents is not None]
    assert paid and all(t.price_cents == 999 and len(t.media_uuids) == 1 for t in paid)
    assert all(t.price_cents is None and t.media_uuids == () for t in templates if t not in paid)
    customs = list(media.templates(folder="cust"))
    assert customs and {t.folder_name for t in customs} == {"Customs"}


def test_unknown_fields_and_statuses_are_kept_not_refused():
    item = MediaItem.from_api(
        {
            "uuid": "u",
            "status": "transcoding",
            "sparkle": 1,
            "variants": [{"variantType": "main", "url": "x"}],
        }
    )
    assert (item.status, item.ready, item.blurred, item.extra) == ("transcoding", False, None, {"sparkle": 1})


# --- priced sends -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "media", "ceiling"),
    [(299, True, None), (0, True, None), (1500, True, 1000), (999, False, None), (True, True, None)],
    ids=["below-minimum", "zero", "above-ceiling", "no-media", "not-a-number"],
)
def test_a_priced_send_that_breaks_the_rules_never_leaves(sandbox, price, media, ceiling):
    api = api_client(sandbox)
    with pytest.raises(InvalidMessage):
        api.send_message(
            fan_of(sandbox),
            "A set for you",
            price_cents=price,
            media_uuids=ready_media(sandbox.world) if media else (),
            max_price_cents=ceiling,
        )
    assert sandbox.world.request_count() == 0 and sandbox.world.sent_messages() == []


def test_media_not_ready_or_of_another_creator_is_fanvues_typed_refusal(sandbox):
    api = api_client(sandbox)
    fan = fan_of(sandbox)
    vault = vault_of(sandbox.world)
    processing = next(m.uuid for m in vault.media.values() if m.status == "processing")
    someone_elses = ready_media(sandbox.worlds[1])[0]
    for media in (processing, someone_elses):
        with pytest.raises(PaidMessageRefused) as caught:
            api.send_message(fan, "A set for you", price_cents=999, media_uuids=[media])
        assert caught.value.status == 400 and media in caught.value.message
    assert sandbox.world.sent_messages() == []
    # Once ready, the same item sells.
    requests.post(f"{sandbox.url}/_sandbox/vault/media/{processing}", json={"status": "ready"}, timeout=5)
    api.send_message(fan, "A set for you", price_cents=999, media_uuids=[processing])
    [sent] = sandbox.world.sent_messages()
    assert (sent["mediaUuids"], sent["pricing"]) == ([processing], {"USD": {"price": 999}})


def test_a_priced_send_fanvue_stored_but_never_answered_is_unknown_and_not_sent_again(sandbox):
    sandbox.hang_seconds = 3
    api = api_client(sandbox, timeout=0.5)
    fan = fan_of(sandbox)
    [media] = ready_media(sandbox.world)
    sandbox.world.inject_fault("store_then_hang", count=1, method="POST", path=f"/chats/{fan}/message")
    with pytest.raises(SendOutcomeUnknown):
        api.send_message(fan, "A set for you", price_cents=999, media_uuids=[media], template_uuid=None)
    assert len(sandbox.world.sent_messages(fan)) == 1
    assert sandbox.world.request_count("POST", f"/chats/{fan}/message") == 1


def test_a_template_uuid_goes_with_the_explicit_fields(sandbox):
    api = api_client(sandbox)
    template = next(t for t in MediaClient(api).templates() if t.price_cents)
    fan = fan_of(sandbox)
    api.send_message(
        fan,
        template.text or "",
        price_cents=template.price_cents,
        media_uuids=template.media_uuids,
        template_uuid=template.uuid,
    )
    [sent] = sandbox.world.sent_messages(fan)
    assert (sent["text"], sent["mediaUuids"]) == (template.text, list(template.media_uuids))
