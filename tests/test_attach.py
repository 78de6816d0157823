"""Selling from a card over real HTTP: Attach (folder, ready media, price) with its checks, the resale guard
on attach and at Send, Send's confirmation naming price and items, and a saved template put on the card."""

from __future__ import annotations

import json

import pytest

from inbox.selling import Selling
from slack import attach, blocks
from slack import attach_blocks as ab
from standins.fanvue.vault import vault_of
from standins.slack_requests import (
    API_APP_ID,
    TEAM_DOMAIN,
    VERIFICATION_TOKEN,
    payload_body,
    view_submission_body,
)
from store import audit, offers
from store.earnings import offer_for
from tests.harness import Harness
from tests.pending_card import PendingCard
from tests.webhook_act_rig import wait_for

pytestmark = pytest.mark.both_modes  # each Slack-facing test runs over HTTP and over Socket Mode


def attach_view(h: Harness) -> dict:
    return [v for v in h.slack.views() if v["view"]["callback_id"] == ab.ATTACH_VIEW][-1]  # the newest


def pick_folder(h: Harness, folder: str, user: str = "U0ALICE") -> dict:
    opened = attach_view(h)
    view = {**opened["view"], "id": opened["view_id"], "state": {"values": {}}}
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0TEAM"},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": opened["view_id"]},
        "trigger_id": h.slack.new_trigger_id(user),
        "team": {"id": "T0TEAM", "domain": TEAM_DOMAIN},
        "view": view,
        "actions": [
            {
                "type": "static_select",
                "action_id": ab.FOLDER_PICK,
                "block_id": ab.FOLDER_BLOCK,
                "selected_option": {"text": {"type": "plain_text", "text": folder}, "value": folder},
                "action_ts": "1700000000.000001",
            }
        ],
    }
    assert h.post(payload_body(payload)).status_code == 200
    h.settle()
    return attach_view(h)["view"]


def submit(h: Harness, view: dict, media: list[str], price: str, user: str = "U0ALICE") -> dict:
    values = {
        ab.MEDIA_BLOCK: {
            ab.MEDIA_INPUT: {
                "type": "multi_static_select",
                "selected_options": [{"text": {"type": "plain_text", "text": m}, "value": m} for m in media],
            }
        },
        ab.PRICE_BLOCK: {ab.PRICE_INPUT: {"type": "plain_text_input", "value": price}},
    }
    response = h.post(view_submission_body(user_id=user, user_name=user.lower(), view=view, values=values))
    h.settle()
    return response.json() if response.text.strip() else {}


def ready_in_folder(h: Harness) -> tuple[str, list]:
    vault = vault_of(h.sandbox.world)
    by_folder: dict[str, list] = {}
    for item in vault.media.values():
        if item.status == "ready":
            by_folder.setdefault(item.folder, []).append(item)
    folder = max(by_folder, key=lambda f: len(by_folder[f]))
    return folder, by_folder[folder]


def offered(h: Harness, draft, folder: str) -> dict:
    h.click(draft, ab.ATTACH)
    return pick_folder(h, folder)


def card_json(h: Harness, draft) -> str:
    return json.dumps(h.card(draft).blocks, ensure_ascii=False)


def send_button(h: Harness, draft) -> dict:
    return next(
        e
        for b in h.card(draft).blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == blocks.SEND
    )


def test_attach_stores_the_offer_and_the_card_shows_items_price_and_asks_before_send(
    pending_card: PendingCard,
):
    h, fan, draft = pending_card
    folder, items = ready_in_folder(h)
    view = offered(h, draft, folder)
    options = next(b for b in view["blocks"] if b.get("block_id") == ab.MEDIA_BLOCK)["element"]["options"]
    assert {o["value"] for o in options} == {i.uuid for i in items}  # ready ones only
    chosen = items[:2]
    assert submit(h, view, [i.uuid for i in chosen], "12.50") == {}
    offer = offer_for(h.store.db, draft.id)
    assert (
        offer is not None and offer.price_cents == 1250 and offer.media_uuids == tuple(i.uuid for i in chosen)
    )
    shown = card_json(h, draft)
    assert "$12.50" in shown and all(i.name in shown for i in chosen)
    assert '"image"' not in shown  # MEDIA_PREVIEW=none: no image block
    assert [r for r in audit.for_draft(h.store.db, draft.id) if r["action"] == offers.ATTACHED]
    # Only the blurred variant was ever asked for.
    asked = [r.query.get("variants") for r in h.sandbox.world.requests if "variants" in r.query]
    assert asked and all(v in ("blurred", ["blurred"]) for v in asked)
    confirm = send_button(h, draft)["confirm"]
    text = confirm["text"]["text"]
    assert "$12.50" in text and all(i.name in text for i in chosen) and len(text) <= 300
    h.click(draft, blocks.SEND)
    [sent] = h.sandbox.world.sent_messages(fan["uuid"])
    assert sent["mediaUuids"] == [i.uuid for i in chosen] and sent["pricing"]["USD"]["price"] == 1250
    [row] = [r for r in audit.for_draft(h.store.db, draft.id) if r["action"] == "sent"]
    assert row["details"]["price_cents"] == 1250 and row["details"]["confirmed_by"] == "U0ALICE"
    assert row["details"]["media_uuids"] == [i.uuid for i in chosen]


@pytest.mark.parametrize(
    ("price", "media", "why"),
    [
        ("2.99", 1, "lowest price"),
        ("100.01", 1, "most"),
        ("5", 0, "at least one media"),
        ("abc", 1, "dollars"),
    ],
)
def test_a_bad_price_or_no_media_is_refused_in_the_modal(pending_card: PendingCard, price, media, why):
    h, fan, draft = pending_card
    folder, items = ready_in_folder(h)
    view = offered(h, draft, folder)
    answer = submit(h, view, [i.uuid for i in items[:media]], price)
    assert answer["response_action"] == "errors" and why in json.dumps(answer["errors"])
    assert offer_for(h.store.db, draft.id) is None


def test_media_not_ready_is_refused(pending_card: PendingCard):
    h, fan, draft = pending_card
    folder, items = ready_in_folder(h)
    view = offered(h, draft, folder)
    vault_of(h.sandbox.world).set_status(items[0].uuid, "processing")
    answer = submit(h, view, [items[0].uuid], "5")
    assert answer["response_action"] == "errors" and "not ready" in json.dumps(answer["errors"])
    assert offer_for(h.store.db, draft.id) is None


def test_an_item_the_fan_bought_is_refused_on_attach_and_at_send(pending_card: PendingCard):
    h, fan, draft = pending_card
    folder, items = ready_in_folder(h)
    view = offered(h, draft, folder)
    vault_of(h.sandbox.world).bought(fan["uuid"], [items[0].uuid])
    answer = submit(h, view, [items[0].uuid], "5")
    assert answer["response_action"] == "errors" and "already bought" in json.dumps(answer["errors"])
    assert submit(h, view, [items[1].uuid], "5") == {}
    vault_of(h.sandbox.world).bought(fan["uuid"], [items[1].uuid])  # bought elsewhere meanwhile
    h.click(draft, blocks.SEND)
    assert h.sandbox.world.sent_messages(fan["uuid"]) == []
    assert "already bought" in card_json(h, draft)


def test_a_slow_fanvue_closes_the_modal_in_time_and_the_check_ends_on_the_card_or_with_the_teammate(
    pending_card: PendingCard, monkeypatch
):
    h, fan, draft = pending_card
    folder, items = ready_in_folder(h)
    view = offered(h, draft, folder)
    vault_of(h.sandbox.world).bought(fan["uuid"], [items[0].uuid])
    monkeypatch.setattr(attach, "CHECK_BUDGET_SECONDS", 0.05)
    h.sandbox.world.set_latency(300)  # the check outlives the wait: Slack gets an empty answer at once
    assert submit(h, view, [items[0].uuid], "5") == {}
    told = wait_for(lambda: h.slack.ephemerals("U0ALICE"))
    assert "already bought" in told[-1]["text"] and offer_for(h.store.db, draft.id) is None
    assert submit(h, view, [items[1].uuid], "7") == {}
    offer = wait_for(lambda: offer_for(h.store.db, draft.id))
    assert offer.price_cents == 700 and offer.media_uuids == (items[1].uuid,)
    wait_for(lambda: "$7.00" in card_json(h, draft))


def test_a_send_clicked_on_the_card_as_it_was_before_an_offer_changed_sends_nothing(
    pending_card: PendingCard,
):
    h, fan, draft = pending_card
    folder, items = ready_in_folder(h)
    free = h.card(draft)  # the card as one teammate sees it: text alone
    view = offered(h, draft, folder)
    assert submit(h, view, [items[0].uuid], "9") == {}  # another teammate attaches meanwhile
    h.click(draft, blocks.SEND, message=free)
    assert h.sandbox.world.sent_messages(fan["uuid"]) == []  # neither the paid offer nor text alone
    assert h.draft_for(fan["uuid"]).status == "pending" and "$9.00" in card_json(h, draft)
    priced = h.card(draft)
    h.click(draft, ab.REMOVE_OFFER, user="U0BOB")  # and then takes it off again
    h.click(draft, blocks.SEND, message=priced)
    assert h.sandbox.world.sent_messages(fan["uuid"]) == []


def test_remove_offer_takes_it_off_the_card_and_send_then_sends_the_text_alone(pending_card: PendingCard):
    h, fan, draft = pending_card
    folder, items = ready_in_folder(h)
    view = offered(h, draft, folder)
    assert submit(h, view, [items[0].uuid], "9") == {}
    h.svc.approvers = frozenset({"U0ALICE"})
    h.click(draft, ab.REMOVE_OFFER, user="U0MALLORY")  # not an approver: refused, told so
    assert offer_for(h.store.db, draft.id) is not None and h.slack.ephemerals("U0MALLORY")
    h.click(draft, ab.REMOVE_OFFER)
    assert offer_for(h.store.db, draft.id) is None
    shown = card_json(h, draft)
    assert "$9.00" not in shown and ab.REMOVE_OFFER not in shown and items[0].name not in shown
    assert "confirm" not in send_button(h, draft)
    [row] = [r for r in audit.for_draft(h.store.db, draft.id) if r["action"] == offers.REMOVED]
    assert row["actor"] == "U0ALICE" and row["details"]["price_cents"] == 900
    h.click(draft, blocks.SEND)
    [sent] = h.sandbox.world.sent_messages(fan["uuid"])
    assert sent["text"] == draft.draft_text and not sent.get("pricing") and not sent.get("mediaUuids")


def test_an_item_the_app_already_sent_this_fan_is_warned_about(pending_card: PendingCard):
    h, fan, draft = pending_card
    folder, items = ready_in_folder(h)
    assert submit(h, offered(h, draft, folder), [items[0].uuid], "5") == {}
    h.click(draft, blocks.SEND)
    assert len(h.sandbox.world.sent_messages(fan["uuid"])) == 1
    h.sandbox.world.add_fan_message(fan["uuid"], "more please")
    h.cycle()
    later = h.draft_for(fan["uuid"])
    assert later.id != draft.id
    assert submit(h, offered(h, later, folder), [items[0].uuid], "6") == {}
    assert "Already sent to this fan" in card_json(h, later)


def test_a_priced_send_whose_answer_is_lost_is_not_sent_twice(pending_card: PendingCard):
    h, fan, draft = pending_card
    folder, items = ready_in_folder(h)
    assert submit(h, offered(h, draft, folder), [items[0].uuid], "5") == {}
    h.sandbox.world.inject_fault("drop_response", count=1, method="POST", path="/message")
    h.click(draft, blocks.SEND)
    [sent] = h.sandbox.world.sent_messages(fan["uuid"])
    assert sent["pricing"]["USD"]["price"] == 500
    assert h.draft_for(fan["uuid"]).status == "sent"


@pytest.mark.parametrize("slow", [False, True], ids=["fanvue answers in time", "slow fanvue"])
def test_a_template_is_put_on_the_card_as_text_media_and_price(pending_card: PendingCard, monkeypatch, slow):
    h, fan, draft = pending_card
    vault = vault_of(h.sandbox.world)
    template = next(t for t in vault.templates if t.price and t.media_uuids and t.text)
    for uuid in template.media_uuids:
        vault.set_status(uuid, "ready")
    h.click(draft, ab.TEMPLATE)
    opened = next(v for v in h.slack.views() if v["view"]["callback_id"] == ab.TEMPLATE_VIEW)
    values = {
        ab.TEMPLATE_BLOCK: {
            ab.TEMPLATE_INPUT: {"type": "static_select", "selected_option": {"value": template.uuid}}
        }
    }
    if slow:  # the modal closes at once; the template reaches the card once Fanvue answers
        monkeypatch.setattr(attach, "CHECK_BUDGET_SECONDS", 0.05)
        h.sandbox.world.set_latency(300)
    response = h.post(
        view_submission_body(user_id="U0BOB", user_name="u0bob", view=opened["view"], values=values)
    )
    h.settle()
    assert not response.text.strip() or "errors" not in response.json()
    offer = wait_for(lambda: offer_for(h.store.db, draft.id))
    now = h.draft_for(fan["uuid"])  # a version for the template's text, one for its offer
    assert now.version == draft.version + 2 and now.draft_text == template.text.strip()
    assert offer.template_uuid == template.uuid and offer.price_cents == template.price
    wait_for(lambda: f"${template.price / 100:,.2f}" in card_json(h, now))
    wait_for(lambda: "templated" in [r["action"] for r in audit.for_draft(h.store.db, draft.id)])


def test_media_preview_blurred_shows_the_blurred_variant_fetched_when_the_card_is_drawn(pending_card):
    h, fan, draft = pending_card
    h.svc.selling = Selling(media_preview="blurred")
    folder, items = ready_in_folder(h)
    assert submit(h, offered(h, draft, folder), [items[0].uuid], "5") == {}
    images = [b for b in h.card(draft).blocks if b["type"] == "image"]
    assert len(images) == 1 and "/blurred/" in images[0]["image_url"]
    stored = json.dumps(h.store.db.execute("SELECT * FROM paid_offer_items").fetchall())
    assert items[0].uuid in stored and "https:" not in stored  # the URL is never kept
    asked = [r.query.get("variants") for r in h.sandbox.world.requests if "variants" in r.query]
    assert asked and all(v in ("blurred", ["blurred"]) for v in asked)


def test_only_an_approver_may_attach(pending_card: PendingCard):
    h, fan, draft = pending_card
    folder, items = ready_in_folder(h)
    view = offered(h, draft, folder)
    h.svc.approvers = frozenset({"U0ALICE"})
    answer = submit(h, view, [items[0].uuid], "5", user="U0MALLORY")
    assert answer["response_action"] == "errors" and offer_for(h.store.db, draft.id) is None
    assert submit(h, view, [items[0].uuid], "5", user="U0ALICE") == {}


def test_the_editor_of_a_card_with_an_offer_names_price_and_items_and_sends_them(pending_card: PendingCard):
    h, fan, draft = pending_card
    folder, items = ready_in_folder(h)
    assert submit(h, offered(h, draft, folder), [items[0].uuid], "5") == {}
    h.click(draft, blocks.EDIT)
    editor = next(v for v in h.slack.views() if v["view"]["callback_id"] == blocks.EDIT_VIEW)["view"]
    assert editor["submit"]["text"] == "Send for $5.00" and items[0].name in json.dumps(editor["blocks"])
    h.submit_edit(editor, "Just for you 💕")
    [sent] = h.sandbox.world.sent_messages(fan["uuid"])
    assert sent["text"] == "Just for you 💕" and sent["mediaUuids"] == [items[0].uuid]
    assert sent["pricing"]["USD"]["price"] == 500
