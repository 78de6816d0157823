"""Earnings of creators reached through an agency login: read with /creators/{creator}/insights/earnings in
the creator's own rate bucket, credited to the teammate whose Send click sent the paid message, and a login
lacking read:insights told once while the other creators are still read."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from fanvue import AgencyClient, MissingScopeError, Mode, RateBudget, StaticToken, scope_string
from inbox.earnings import read_earnings
from slack import blocks
from standins.fanvue import Sandbox
from standins.fanvue.agency import ADMIN, MEMBER
from standins.fanvue.vault import ready_media
from store import drafts, earnings
from store.clock import utcnow
from store.db import write
from tests.harness import CHANNEL, Harness
from tests.test_agency_scopes import log_in

API = "2025-06-26"
SINCE = "2000-01-01T00:00:00.000Z"


@pytest.fixture
def two() -> Iterator[Sandbox]:
    with Sandbox(creators=2, fans=6, seed=11, rate_limit=100) as sb:
        yield sb


def control(sandbox: Sandbox, creator_uuid: str, path: str, body: dict) -> dict:
    """A /_sandbox/ control of one creator's account (fans buying, tipping)."""
    resp = requests.post(f"{sandbox.url}/_sandbox/creators/{creator_uuid}{path}", json=body, timeout=5)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def tip(sandbox: Sandbox, world, cents: int) -> None:
    fan = next(f["uuid"] for f in world.fans() if "blocked" not in f["handle"])
    control(sandbox, world.creator["uuid"], f"/fans/{fan}/tip", {"cents": cents})


def earnings_reads(sandbox: Sandbox) -> list[str]:
    return [r.path for r in sandbox.world.requests if r.path.endswith("/insights/earnings")]


def test_a_paid_message_sent_through_an_agency_login_is_read_by_creator_and_credited_to_the_sender(
    tmp_path: Path, two, slack
):
    h = Harness(tmp_path / "bridge.db", two, slack, logins=[("agency", two.member_token(ADMIN))])
    try:
        h.cycle()
        world = two.worlds[1]
        creator = world.creator["uuid"]
        draft = next(
            d
            for d in drafts.with_status(h.store.db, drafts.PENDING)
            if d.creator_uuid == creator and "blocked" not in d.fan_handle
        )
        media = ready_media(world)
        with write(h.store.db):
            earnings.set_offer(h.store.db, earnings.Offer(draft.id, 1500, tuple(media)), "U0ALICE")
        h.click(draft, blocks.SEND, user="U0BOB")
        [sent] = world.sent_messages(draft.fan_uuid)
        assert sent["pricing"] == {"USD": {"price": 1500}}
        sends = [r.path for r in two.world.requests if r.method == "POST" and r.path.endswith("/message")]
        assert sends == [f"/creators/{creator}/chats/{draft.fan_uuid}/message"]
        # Whether the fan already bought the items was asked through the agency's media route too.
        assert f"/creators/{creator}/media" in {r.path for r in two.world.requests}
        bought = control(two, creator, f"/fans/{draft.fan_uuid}/buy", {"messageUuid": sent["uuid"]})
        tip(two, two.worlds[0], 300)  # the other creator's earnings, not through the desk
        two.world.clear_requests()
        report = read_earnings(h.svc)
        reads = earnings_reads(two)
    finally:
        h.close()
    assert (report.creators, report.new, report.errors) == (2, 2, {})
    # Each creator read through the agency route, never the member's own /insights/earnings.
    assert sorted(reads) == sorted(f"/creators/{w.creator['uuid']}/insights/earnings" for w in two.worlds)
    credit = earnings.revenue_credit(h.store.db, SINCE, utcnow())
    [bob] = credit.teammates
    assert (bob.name, bob.paid_sent, bob.bought, bob.gross_cents, bob.net_cents) == (
        "U0BOB",
        1,
        1,
        1500,
        1200,
    )
    assert (credit.outside_lines, credit.outside_gross_cents) == (1, 300)
    [line] = [r for r in h.store.db.query("SELECT * FROM earnings WHERE creator_uuid = ?", [creator])]
    assert line["message_uuid"] == sent["uuid"] == bought["messageUuid"]
    assert not [m for m in slack.messages(CHANNEL) if not m.blocks and "earnings" in m.text.lower()]


def test_a_login_lacking_read_insights_is_warned_about_once_and_the_other_creators_are_read(
    tmp_path: Path, slack, caplog
):
    with Sandbox(creators=3, fans=4, seed=5) as sb:
        own = sb.worlds[1]  # the team member reaches creators 1 and 3; creator 2 logs in itself
        without = " ".join(s for s in scope_string(Mode.AGENCY).split() if s != "read:insights")
        member = log_in(sb, MEMBER, without)["access_token"]
        logins = [("creator", sb.creator_token(own.creator["handle"])), ("agency", member)]
        for world in sb.worlds:
            tip(sb, world, 400)
        h = Harness(tmp_path / "bridge.db", sb, slack, logins=logins)
        try:
            with caplog.at_level(logging.WARNING, logger="inbox.earnings"):
                report = read_earnings(h.svc)
            stored = {r["creator_uuid"] for r in h.store.db.query("SELECT creator_uuid FROM earnings")}
            reads = earnings_reads(sb)
        finally:
            h.close()
    assert (report.creators, report.new) == (1, 1) and stored == {own.creator["uuid"]}
    assert set(report.errors) == {sb.worlds[0].creator["handle"], sb.worlds[2].creator["handle"]}
    warnings = [r.getMessage() for r in caplog.records if r.name == "inbox.earnings"]
    assert len(warnings) == 1
    assert "read:insights" in warnings[0] and "log in again" in warnings[0]
    assert "/insights/earnings" in reads and len(reads) == 3  # its own route, and one refusal per creator


def test_a_creator_that_left_the_agency_fails_alone(tmp_path: Path, two, slack):
    first, second = (w.creator for w in two.worlds)
    for world in two.worlds:
        tip(two, world, 500)
    h = Harness(tmp_path / "bridge.db", two, slack, logins=[("agency", two.member_token(ADMIN))])
    try:
        h.svc.inboxes()  # the creators are found while both are managed
        requests.post(
            f"{two.url}/_sandbox/agency/linked", json={"creator": first["uuid"], "linked": False}, timeout=5
        ).raise_for_status()
        report = read_earnings(h.svc)
    finally:
        h.close()
    assert (report.creators, report.new) == (1, 1)
    assert list(report.errors) == [first["handle"]] and "not reachable" in report.errors[first["handle"]]
    stored = {r["creator_uuid"] for r in h.store.db.query("SELECT creator_uuid FROM earnings")}
    assert stored == {second["uuid"]}


def test_a_managed_creators_earnings_use_its_own_rate_bucket_not_the_members(two):
    token = two.member_token(MEMBER)  # reaches the first creator only
    creator = two.worlds[0].creator["uuid"]
    for cents in (300, 400, 500):
        tip(two, two.worlds[0], cents)
    with requests.Session() as http:  # the member's own bucket at Fanvue is spent
        answers = [
            http.get(
                f"{two.url}/users/me",
                headers={"Authorization": f"Bearer {token}", "X-Fanvue-API-Version": API},
                timeout=5,
            ).status_code
            for _ in range(101)
        ]
    assert answers[-1] == 429
    user_waits: list[float] = []
    client = AgencyClient(
        two.url,
        StaticToken(token),
        budget=RateBudget(limit=1, window=3600, sleep=user_waits.append),
        creator_budgets=lambda c: RateBudget(sleep=lambda s: None),
        sleep=lambda s: None,
    )
    with client:
        lines = list(client.creator(creator).earnings().lines(since=datetime.now(UTC) - timedelta(1), size=1))
        with pytest.raises(MissingScopeError) as refused:
            list(client.earnings(two.worlds[1].creator["uuid"]).lines())
    assert [line.gross_cents for line in lines] == [500, 400, 300]  # three pages, none refused
    assert user_waits == []  # nothing was counted against the member's own budget
    assert "read:insights" in str(refused.value)  # out of the member's reach: Fanvue's 403
