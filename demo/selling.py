"""The demo's selling step: a teammate attaches a priced item on a card and sends it, the fan buys it, the
earnings read runs once, and the revenue is credited to that teammate."""

from __future__ import annotations

from collections.abc import Callable

from demo.stage import TEAM, DemoFailed, Stage
from inbox.earnings import read_earnings
from slack import attach_blocks as ab
from slack import blocks
from standins.fanvue.earnings import buy
from standins.fanvue.vault import vault_of
from standins.slack_requests import API_APP_ID, TEAM_DOMAIN, VERIFICATION_TOKEN, view_submission_payload
from store import drafts
from store.clock import utcnow
from store.earnings import revenue_credit

PRICE = "7.50"
SINCE = "2000-01-01T00:00:00"  # the whole demo


def attach_and_send(st: Stage, say: Callable[[str], None], user: str, draft_id: int) -> None:
    """Attach the first ready item of a folder at PRICE through the modal, then Send (Slack's confirmation
    is shown, the click is the teammate's yes)."""
    draft, _ = st.card(draft_id)
    world = next(w for w in st.sandbox.worlds if any(f["uuid"] == draft.fan_uuid for f in w.fans()))
    vault = vault_of(world)
    item = sorted((m for m in vault.media.values() if m.status == "ready"), key=lambda m: (m.folder, m.name))[
        0
    ]
    st.click(user, draft_id, ab.ATTACH)
    st.settle()
    view = _attach_view(st)
    say(f"  A modal {view['title']['text']!r} opens for {TEAM[user]}; they pick the folder {item.folder!r}")
    st._post(user, _folder_pick(st, user, view, item.folder))
    st.settle()
    view = _attach_view(st)
    say(f"  …then {item.name!r} ({item.media_type}) and the price ${PRICE}")
    values = {
        ab.MEDIA_BLOCK: {
            ab.MEDIA_INPUT: {"type": "multi_static_select", "selected_options": [{"value": item.uuid}]}
        },
        ab.PRICE_BLOCK: {ab.PRICE_INPUT: {"type": "plain_text_input", "value": PRICE}},
    }
    st._post(
        user,
        view_submission_payload(
            user_id=user, user_name=TEAM[user].lower(), view=view, values=values, view_id=view.get("id", "V1")
        ),
    )
    st.settle()
    _, msg = st.card(draft_id)
    button = next(
        (
            e
            for b in msg.blocks
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == blocks.SEND
        ),
        {},
    )
    if "confirm" not in button:
        raise DemoFailed("the card with a paid offer has no confirmation on Send")
    say(f"  Slack asks {TEAM[user]}: {button['confirm']['text']['text']!r}; they confirm")
    st.click(user, draft_id, blocks.SEND)


def buy_and_credit(st: Stage, say: Callable[[str], None], draft_id: int) -> None:
    """The fan buys the paid message; the earnings read runs once; the stats credit the teammate."""
    draft = drafts.get(st.db, draft_id)
    if draft is None or draft.fanvue_message_uuid is None:
        raise DemoFailed("the paid message was not sent")
    world = next(w for w in st.sandbox.worlds if any(f["uuid"] == draft.fan_uuid for f in w.fans()))
    buy(world, draft.fan_uuid, draft.fanvue_message_uuid)
    say(f"  In Fanvue, @{draft.fan_handle} buys it; the scheduled earnings read runs once")
    report = read_earnings(st.runtime.services)
    say(f"  Earnings read: new lines stored: {report.new}")
    credit = revenue_credit(st.db, SINCE, utcnow())
    for row in credit.teammates:
        say(
            f"  Stats: {TEAM.get(row.name, row.name)}: {row.paid_sent} paid sent, {row.bought} bought, "
            f"${row.gross_cents / 100:,.2f} gross"
        )
    if not any(r.bought for r in credit.teammates):
        raise DemoFailed("the purchase was not credited to the teammate who sent it")


def _attach_view(st: Stage) -> dict:
    opened = [v for v in st.slack.views() if v["view"]["callback_id"] == ab.ATTACH_VIEW]
    if not opened:
        raise DemoFailed("no attach window opened")
    return {**opened[-1]["view"], "id": opened[-1]["view_id"]}


def _folder_pick(st: Stage, user: str, view: dict, folder: str) -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user, "username": TEAM[user].lower(), "name": TEAM[user].lower(), "team_id": "T0TEAM"},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": st.slack.new_trigger_id(user),
        "team": {"id": "T0TEAM", "domain": TEAM_DOMAIN},
        "view": {**view, "state": {"values": {}}},
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
