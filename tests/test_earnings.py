"""Earnings: the client's cursor paging, lines stored once, refunds, and revenue credited to the teammate
whose Send click sent the paid message (through the whole app, the sandbox's buy control and the read)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
import requests

from fanvue import FanvueClient, RateBudget, ServerError, StaticToken
from fanvue.earnings import EarningsClient
from inbox.earnings import read_creator, read_earnings
from slack import blocks, command_blocks
from standins.fanvue import Sandbox
from standins.fanvue.vault import ready_media
from store import earnings, queries
from store.clock import utcnow
from store.db import write
from store.report import stats_report
from tests.pending_card import post_pending_card
from tests.test_command_blocks import valid

pytestmark = pytest.mark.both_modes  # each Slack-facing test runs over HTTP and over Socket Mode


def api_client(sandbox: Sandbox) -> FanvueClient:
    return FanvueClient(
        sandbox.url, StaticToken(sandbox.token), budget=RateBudget(sleep=lambda s: None), sleep=lambda s: None
    )


def control(sandbox: Sandbox, path: str, body: dict) -> dict:
    resp = requests.post(f"{sandbox.url}/_sandbox{path}", json=body, timeout=5)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def sell(sandbox: Sandbox, api: FanvueClient, fan: str, cents: int = 999) -> tuple[str, dict]:
    """A paid message sent by the creator outside the desk, and the fan buying it."""
    message = api.send_message(fan, "A set", price_cents=cents, media_uuids=ready_media(sandbox.world))
    return message, control(sandbox, f"/fans/{fan}/buy", {"messageUuid": message})


def fans(sandbox: Sandbox) -> list[str]:
    return [f["uuid"] for f in sandbox.world.fans() if "blocked" not in f["handle"]]


def test_lines_are_walked_by_cursor_newest_first_with_kinds_and_amounts(sandbox):
    api = api_client(sandbox)
    fan, other = fans(sandbox)[:2]
    message, bought = sell(sandbox, api, fan, 1200)
    control(sandbox, f"/fans/{other}/tip", {"cents": 500})
    control(
        sandbox,
        "/earnings/refund",
        {"transactionOrderId": bought["transactionOrderId"], "kind": "chargeback"},
    )
    sandbox.world.clear_requests()
    lines = list(EarningsClient(api).lines(size=1))
    assert [(line.kind, line.gross_cents, line.net_cents) for line in lines] == [
        ("chargeback", -1200, -960),
        ("tip", 500, 400),
        ("purchase", 1200, 960),
    ]
    assert lines[2].message_uuid == lines[0].message_uuid == message and lines[1].message_uuid is None
    assert lines[2].fan_uuid == fan and lines[1].fan_uuid == other
    assert len({line.key for line in lines}) == 3
    cursors = [r.query.get("cursor") for r in sandbox.world.requests]
    assert cursors[0] is None and len(set(cursors[1:])) == 2  # each page asked with the cursor it was given


def test_a_line_delivered_twice_or_read_twice_is_stored_once_and_a_refund_adjusts(harness):
    sandbox, svc = harness.sandbox, harness.svc
    api = api_client(sandbox)
    fan = fans(sandbox)[0]
    _, bought = sell(sandbox, api, fan, 1000)
    control(sandbox, "/earnings/redeliver", {"transactionOrderId": bought["transactionOrderId"]})
    first = read_earnings(svc)
    assert (first.lines, first.new) == (2, 1)
    again = read_earnings(svc)
    assert (again.lines, again.new) == (2, 0)  # read again from the newest stored: nothing new
    control(sandbox, "/earnings/refund", {"transactionOrderId": bought["transactionOrderId"]})
    assert read_earnings(svc).new == 1
    assert read_earnings(svc).new == 0
    credit = earnings.revenue_credit(svc.store.db, "2000-01-01T00:00:00.000Z", utcnow())
    # Sent in Fanvue, not through the desk: counted apart, and the refund takes back exactly the purchase.
    assert (credit.teammates, credit.outside_lines) == ([], 2)
    assert (credit.outside_gross_cents, credit.outside_net_cents) == (0, 0)


def test_an_unfinished_read_goes_on_from_its_cursor(harness):
    sandbox, store = harness.sandbox, harness.store
    for fan in fans(sandbox)[:3]:
        control(sandbox, f"/fans/{fan}/tip", {"cents": 300})
    session = requests.Session()

    def fail_after_first_page(resp, *args, **kwargs):
        # Fanvue fails from the second page on, retries included.
        if resp.status_code == 200 and not sandbox.world.faults.pending():
            sandbox.world.inject_fault("500", count=4, method="GET", path="/insights/earnings")

    session.hooks["response"].append(fail_after_first_page)
    failing = FanvueClient(
        sandbox.url,
        StaticToken(sandbox.token),
        session=session,
        sleep=lambda s: None,
        budget=RateBudget(sleep=lambda s: None),
    )
    creator = sandbox.world.creator["uuid"]
    with pytest.raises(ServerError):
        read_creator(store, EarningsClient(failing), creator, utcnow(), page_size=1)
    state = earnings.read_state(store.db, creator)
    assert state.cursor is not None and store.db.execute("SELECT COUNT(*) FROM earnings").fetchone()[0] == 1
    sandbox.world.clear_requests()
    assert read_creator(store, EarningsClient(api_client(sandbox)), creator, utcnow(), page_size=1) == (2, 2)
    assert sandbox.world.requests[0].query["cursor"] == state.cursor
    assert earnings.read_state(store.db, creator).cursor is None
    assert store.db.execute("SELECT COUNT(*) FROM earnings").fetchone()[0] == 3


def test_revenue_is_credited_to_the_teammate_whose_send_click_sent_the_paid_message(harness):
    sandbox, svc, db = harness.sandbox, harness.svc, harness.store.db
    _, fan, draft = post_pending_card(harness)
    media = ready_media(sandbox.world)
    with write(db):
        earnings.set_offer(db, earnings.Offer(draft.id, 1500, tuple(media)), "U0ALICE")
    harness.click(draft, blocks.SEND, user="U0BOB")
    [sent] = sandbox.world.sent_messages(fan["uuid"])
    assert (sent["pricing"], sent["mediaUuids"]) == ({"USD": {"price": 1500}}, media)
    other = next(f for f in fans(sandbox) if f != fan["uuid"])
    _, outside = sell(sandbox, api_client(sandbox), other, 700)
    bought = control(sandbox, f"/fans/{fan['uuid']}/buy", {"messageUuid": sent["uuid"]})
    assert bought["messageUuid"] == sent["uuid"]
    read_earnings(svc)
    read_earnings(svc)  # twice: still counted once
    credit = earnings.revenue_credit(db, "2000-01-01T00:00:00.000Z", utcnow())
    [bob] = credit.teammates
    assert (bob.name, bob.paid_sent, bob.bought, bob.gross_cents, bob.net_cents) == (
        "U0BOB",
        1,
        1,
        1500,
        1200,
    )
    assert bob.conversion == 1.0 and bob.not_bought_48h == 0
    assert (credit.outside_lines, credit.outside_gross_cents) == (1, 700)
    control(sandbox, "/earnings/refund", {"transactionOrderId": bought["transactionOrderId"]})
    read_earnings(svc)
    [bob] = earnings.revenue_credit(db, "2000-01-01T00:00:00.000Z", utcnow()).teammates
    assert (bob.paid_sent, bob.bought, bob.gross_cents, bob.net_cents) == (1, 0, 0, 0)
    # Two days on, an offer bought and refunded counts as not bought within 48 h.
    later = earnings.revenue_credit(db, "2000-01-01T00:00:00.000Z", utcnow() + timedelta(hours=49))
    assert later.teammates[0].not_bought_48h == 0  # it was bought within 48 h, then refunded
    text = stats_report(db, since="30d", fmt="table", now=utcnow())
    assert "matched by message" in text and "U0BOB" in text and "not through the desk" in text
    assert outside["gross"] == 700
    # CSV: one table, Bob's decisions and his revenue on one row, a spreadsheet reads it as it is.
    rows = list(csv.DictReader(io.StringIO(stats_report(db, since="30d", fmt="csv", now=utcnow()))))
    by_name = {(r["kind"], r["name"]): r for r in rows}
    bob_row = by_name[("teammate", "U0BOB")]
    assert (bob_row["sent"], bob_row["paid_sent"], bob_row["bought"], bob_row["gross_cents"]) == (
        "1",
        "1",
        "0",
        "0",
    )
    assert by_name[("outside", earnings.OUTSIDE)]["gross_cents"] == "700"
    assert all(len(r) == len(rows[0]) and None not in r for r in rows)


def test_an_offer_not_bought_within_48_hours_is_counted(harness):
    db = harness.store.db
    _, fan, draft = post_pending_card(harness)
    with write(db):
        earnings.set_offer(
            db, earnings.Offer(draft.id, 900, tuple(ready_media(harness.sandbox.world))), "U0A"
        )
    harness.click(draft, blocks.SEND, user="U0ALICE")
    read_earnings(harness.svc)
    soon = earnings.revenue_credit(db, "2000-01-01T00:00:00.000Z", utcnow())
    later = earnings.revenue_credit(db, "2000-01-01T00:00:00.000Z", utcnow() + timedelta(hours=49))
    assert (soon.teammates[0].paid_sent, soon.teammates[0].not_bought_48h) == (1, 0)
    assert (later.teammates[0].bought, later.teammates[0].not_bought_48h) == (0, 1)
    assert later.teammates[0].conversion == 0.0


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_stats_without_paid_messages_or_earnings_stay_as_they_were(harness, fmt):
    text = stats_report(harness.store.db, since="7d", fmt=fmt, now=utcnow())
    assert "revenue" not in text.lower()


def test_the_slack_stats_say_where_the_revenue_comes_from_and_escape_creator_handles():
    credit = earnings.RevenueCredit(
        since="2026-01-01T00:00:00.000Z",
        teammates=[earnings.CreditRow("U0BOB", 4, 1, 1500, 1200, 2)],
        creators=[earnings.CreditRow("<!channel>*bold*", 4, 1, 1500, 1200, 2)],
        outside_lines=3,
        outside_gross_cents=-250,
        outside_net_cents=-200,
    )
    team = queries.TeamStats(
        since=credit.since, teammates=[], replies=0, median_reply_seconds=None, p90_reply_seconds=None
    )
    message = valid(command_blocks.stats(team, "7d", credit))
    text = "\n".join(block["text"]["text"] for block in message["blocks"])
    assert "matched by message" in text and "<@U0BOB>" in text
    assert "4 paid sent, 1 bought (25%), $15.00 gross, $12.00 net, 2 not bought within 48 h" in text
    assert "not through the desk: 3 earnings lines, -$2.50 gross, -$2.00 net" in text
    assert "<!channel>" not in text
    empty = command_blocks.stats(team, "7d", earnings.RevenueCredit(since=credit.since))
    assert "matched by message" not in json.dumps(empty)
