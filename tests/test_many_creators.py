"""One app serving several creators: cards per channel, sends through the right login, pauses kept apart."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

import app
from desk import CreatorDesk, Desk
from standins.fanvue import Sandbox
from standins.fanvue.agency import ADMIN, MEMBER
from standins.fanvue.model import Chat
from standins.slack_requests import slash_command_body
from store import audit, drafts
from tests.harness import Harness
from tests.webhook_act_rig import wait_for

CHANNEL_A, CHANNEL_B = "C0LUNA", "C0MILO"
API = "2025-06-26"


def creator_desk(handle: str, channel: str, approvers: frozenset[str] = frozenset()) -> CreatorDesk:
    return CreatorDesk(
        handle=handle,
        channel=channel,
        persona_file=None,
        approvers=approvers,
        approver_group=None,
        enabled=True,
        webhook_secret=None,
        sla_minutes=None,
        ppv_max_price_cents=None,
    )


@pytest.fixture
def two():
    with Sandbox(creators=2, fans=6, seed=11, rate_limit=40) as sb:
        yield sb


def handles(sandbox: Sandbox) -> list[str]:
    return [w.creator["handle"] for w in sandbox.worlds]


def desk_for(sandbox: Sandbox, approvers_a: frozenset[str] = frozenset()) -> Desk:
    a, b = handles(sandbox)
    return Desk({a: creator_desk(a, CHANNEL_A, approvers_a), b: creator_desk(b, CHANNEL_B)})


def creator_logins(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [("creator", sandbox.creator_token(h)) for h in handles(sandbox)]


def cards_in(h: Harness, channel: str) -> list:
    return [m for m in h.slack.messages(channel) if m.blocks and "💬" in m.blocks[0]["text"]["text"]]


def subscribe(world_from, world_to, fan_uuid: str) -> None:
    """The same Fanvue user becomes a fan of a second creator (the sandbox seeds each creator apart)."""
    with world_from._lock:
        fan = copy.copy(world_from._chats[fan_uuid].fan)
    with world_to._lock:
        world_to._chats[fan_uuid] = Chat(fan=fan, created_at=datetime.now(UTC), is_read=True)


@pytest.fixture
def desk_app(tmp_path: Path, two, slack):
    h = Harness(tmp_path / "bridge.db", two, slack, logins=creator_logins(two), desk=desk_for(two))
    yield h
    h.close()


def test_two_creators_get_their_cards_in_their_own_channels_with_the_creator_named(desk_app, two):
    report = desk_app.cycle()
    a, b = handles(two)
    luna, milo = cards_in(desk_app, CHANNEL_A), cards_in(desk_app, CHANNEL_B)
    assert luna and milo and report.cards.posted == len(luna) + len(milo)
    assert all(f"*@{a}*" in m.blocks[0]["text"]["text"] for m in luna)
    assert all(f"*@{b}*" in m.blocks[0]["text"]["text"] for m in milo)
    # Each card answers a fan of that creator only.
    fans_a = {f["uuid"] for f in two.worlds[0].fans()}
    rows = desk_app.store.db.query("SELECT creator_uuid, creator_handle, fan_uuid, channel FROM drafts")
    for row in rows:
        mine = row["fan_uuid"] in fans_a
        assert (row["creator_handle"], row["channel"]) == ((a, CHANNEL_A) if mine else (b, CHANNEL_B))
        assert row["creator_uuid"] == two.worlds[0 if mine else 1].creator["uuid"]
    assert not desk_app.slack.messages("C0CARDS")


def test_a_fan_of_both_creators_is_two_conversations_and_send_goes_through_one(desk_app, two):
    world_a, world_b = two.worlds
    fan = next(f for f in world_a.fans() if "blocked" not in f["handle"])
    subscribe(world_a, world_b, fan["uuid"])
    world_a.add_fan_message(fan["uuid"], "hello luna")
    world_b.add_fan_message(fan["uuid"], "hello milo")
    desk_app.cycle()
    rows = list(
        desk_app.store.db.query("SELECT id, creator_uuid FROM drafts WHERE fan_uuid = ?", [fan["uuid"]])
    )
    assert {r["creator_uuid"] for r in rows} == {world_a.creator["uuid"], world_b.creator["uuid"]}
    on_b = drafts.get(
        desk_app.store.db, next(r["id"] for r in rows if r["creator_uuid"] == world_b.creator["uuid"])
    )
    assert on_b.channel == CHANNEL_B and "hello milo" in str(on_b.context)

    desk_app.click(on_b, "draft_send")

    assert [m["text"] for m in world_b.sent_messages(fan["uuid"])] == [on_b.draft_text]
    assert world_a.sent_messages(fan["uuid"]) == []
    assert drafts.get(desk_app.store.db, on_b.id).status == drafts.SENT
    other = next(r["id"] for r in rows if r["creator_uuid"] == world_a.creator["uuid"])
    assert drafts.get(desk_app.store.db, other).status == drafts.PENDING
    reads = [r for r in two.world.requests if r.method == "GET" and r.path.endswith("/messages")]
    assert reads and all(r.query.get("markAsRead") == "false" for r in reads)
    assert world_a.chat(fan["uuid"])["isRead"] is False  # B's send and every read left A's chat unread


def test_an_approver_of_one_creator_cannot_decide_on_anothers_card(tmp_path, two, slack):
    h = Harness(
        tmp_path / "bridge.db",
        two,
        slack,
        logins=creator_logins(two),
        desk=desk_for(two, approvers_a=frozenset({"U0ALICE"})),
    )
    try:
        h.cycle()
        card_a, card_b = (cards_in(h, CHANNEL_A)[0], cards_in(h, CHANNEL_B)[0])
        draft_a = next(d for d in drafts.with_status(h.store.db, drafts.PENDING) if d.ts == card_a.ts)
        draft_b = next(d for d in drafts.with_status(h.store.db, drafts.PENDING) if d.ts == card_b.ts)
        # Creator B has no approvers of its own and SLACK_APPROVERS is unset: anyone may decide there,
        # but only Alice on A's cards.
        h.click(draft_a, "draft_skip", user="U0BOB")
        assert drafts.get(h.store.db, draft_a.id).status == drafts.PENDING
        assert any("approvers" in text for text in h.ephemerals("U0BOB"))
        denied = [r for r in audit.for_draft(h.store.db, draft_a.id) if r["action"] == "denied"]
        assert denied and denied[0]["actor"] == "U0BOB"
        assert denied[0]["creator_uuid"] == two.worlds[0].creator["uuid"]
        h.click(draft_b, "draft_skip", user="U0BOB")
        assert drafts.get(h.store.db, draft_b.id).status == drafts.SKIPPED
    finally:
        h.close()


def test_a_revoked_login_pauses_only_its_creator_with_one_message_in_its_channel(desk_app, two, slack):
    a, b = handles(two)
    desk_app.cycle()
    assert cards_in(desk_app, CHANNEL_A) and cards_in(desk_app, CHANNEL_B)
    two.worlds[1].expire_tokens()  # B removed the app: its token is refused, and so is its refresh token
    for world in two.worlds:
        fan = next(f for f in world.fans() if "blocked" not in f["handle"])
        world.add_fan_message(fan["uuid"], "still there?")
    second = desk_app.cycle()
    fan = next(f for f in two.worlds[0].fans() if "blocked" not in f["handle"])
    two.worlds[0].add_fan_message(fan["uuid"], "hello?")
    third = desk_app.cycle()
    notices = [(m.channel, m.text) for m in slack.messages() if not m.blocks]
    assert len(notices) == 1 and notices[0][0] == CHANNEL_B
    assert f"The Fanvue login of @{b} has expired or was revoked" in notices[0][1]
    assert second.drafted + second.redrafted == 1 and third.drafted + third.redrafted == 1
    assert second.skipped == {b: "login needed"} and third.skipped == {b: "login needed"}


def test_a_creator_answering_only_429_does_not_stop_the_others_cards(tmp_path, two, slack):
    a, b = handles(two)
    h = Harness(tmp_path / "bridge.db", two, slack, logins=creator_logins(two), desk=desk_for(two))
    try:
        h.cycle()
        before_a, before_b = len(cards_in(h, CHANNEL_A)), len(cards_in(h, CHANNEL_B))
        for world in two.worlds:
            fan = next(f for f in world.fans() if "blocked" not in f["handle"])
            world.add_fan_message(fan["uuid"], "one more thing")
        # Spend B's whole budget at Fanvue: every request with B's token is now answered 429.
        with requests.Session() as http:
            for _ in range(45):
                http.get(
                    f"{two.url}/users/me",
                    headers={"Authorization": f"Bearer {two.creator_token(b)}", "X-Fanvue-API-Version": API},
                    timeout=5,
                )
        report = h.cycle()
    finally:
        h.close()
    assert report.skipped == {b: "Fanvue: RateLimitedError"}
    assert len(cards_in(h, CHANNEL_B)) == before_b
    assert report.drafted + report.redrafted == 1  # A's fan: a new card or a new version of one
    assert len(cards_in(h, CHANNEL_A)) >= before_a


def test_a_new_login_fanvue_is_slow_to_name_does_not_hold_the_other_creators_cards(tmp_path, two, slack):
    a, b = handles(two)
    h = Harness(
        tmp_path / "bridge.db",
        two,
        slack,
        logins=creator_logins(two),
        desk=desk_for(two),
        fanvue_timeout=10.0,
    )
    try:
        assert h.svc.desk is not None
        h.svc.desk.polls.deadline = 1.0
        # B's login is not known yet (as when Fanvue could not say who it is at start).
        [link] = [link for link in h.svc.desk.links if link.id == 2]
        link.me, link.identified = None, False
        slow = two.worlds[1]
        slow.set_latency(3000)  # B's token is answered after the cycle's wait
        two.world.clear_requests()
        first = h.cycle()
        assert cards_in(h, CHANNEL_A) and not cards_in(h, CHANNEL_B)
        assert first.skipped == {"account 2": "slow: reading the login in the background"}
        wait_for(lambda: link.me is not None)
        slow.set_latency(0)
        h.cycle()
        assert cards_in(h, CHANNEL_B)  # B's login read in the background, then served
        assert two.world.request_count(path_prefix="/users/me") == 2  # A's and B's, each read once
    finally:
        h.close()


def test_an_agency_admin_finds_waiting_chats_on_the_agency_list_and_a_quiet_cycle_costs_one_request(
    tmp_path, two, slack
):
    h = Harness(tmp_path / "bridge.db", two, slack, logins=[("agency", two.member_token(ADMIN))])
    try:
        first = h.cycle()
        posted = [m for m in h.slack.messages("C0CARDS") if m.blocks]  # cards, not the fan context notice
        assert first.drafted > 0 and posted
        named = {m.blocks[0]["text"]["text"].split("*@")[1].split("*")[0] for m in posted}
        assert named == set(handles(two))
        two.world.clear_requests()
        quiet = h.cycle()
        api = [r for r in two.world.requests if not r.path.startswith("/_sandbox")]
        assert [r.path for r in api] == ["/agencies/chats"] and quiet.drafted == 0
        # A fan writes: the next cycle finds it on the first page and drafts it.
        fan = next(f for f in two.worlds[1].fans() if "blocked" not in f["handle"])
        two.worlds[1].add_fan_message(fan["uuid"], "are you around?")
        woke = h.cycle()
    finally:
        h.close()
    assert woke.drafted + woke.redrafted == 1
    reads = [r for r in two.world.requests if r.path.endswith("/messages")]
    assert reads and all(r.query.get("markAsRead") == "false" for r in reads)


def test_a_team_member_with_an_unreachable_creator_is_told_once_and_the_others_are_served(tmp_path, slack):
    with Sandbox(creators=3, fans=5, seed=5) as sb:
        reached = [w.creator for w in sb.worlds[::2]]  # the member reaches creators 1 and 3
        h = Harness(tmp_path / "bridge.db", sb, slack, logins=[("agency", sb.member_token(MEMBER))])
        try:
            h.cycle()
            # Creator 3 is taken out of the member's reach after its list was read.
            requests.post(
                f"{sb.url}/_sandbox/agency/reach",
                json={"member": MEMBER, "creators": [reached[0]["uuid"]]},
                timeout=5,
            ).raise_for_status()
            fan = next(f for f in sb.worlds[0].fans() if "blocked" not in f["handle"])
            sb.worlds[0].add_fan_message(fan["uuid"], "hi again")
            second = h.cycle()
            third = h.cycle()
        finally:
            h.close()
        reads = [r for r in sb.world.requests if r.path.endswith("/messages")]
    notices = [m.text for m in slack.messages() if not m.blocks and "fan insights" not in m.text]
    assert len(notices) == 1 and f"@{reached[1]['handle']}" in notices[0]
    assert second.drafted + second.redrafted == 1 and third.skipped == {}
    assert reads and all(r.query.get("markAsRead") == "false" for r in reads)


def slash(h: Harness, text: str, channel: str, user: str = "U0ALICE") -> str:
    before = len(h.slack.responses())
    body = slash_command_body(
        command="/fanvue",
        text=text,
        user_id=user,
        user_name=user.lower(),
        channel_id=channel,
        response_url=h.slack.new_response_url(channel=channel, user=user),
        trigger_id=h.slack.new_trigger_id(user),
    )
    assert h.post(body).status_code == 200
    h.settle()
    (answer,) = h.slack.responses()[before:]
    return "\n".join(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")


def test_fanvue_and_the_reports_answer_for_one_creator(desk_app, two, capsys, monkeypatch):
    a, b = handles(two)
    desk_app.cycle()
    pending = drafts.with_status(desk_app.store.db, drafts.PENDING)
    on_a = next(d for d in pending if d.creator_handle == a)
    on_b = next(d for d in pending if d.creator_handle == b)
    desk_app.click(on_a, "draft_skip", user="U0ALICE")
    desk_app.click(on_b, "draft_skip", user="U0BOB")

    in_a = slash(desk_app, "audit skipped", CHANNEL_A)
    assert f"creator @{a}" in in_a and "u0alice" in in_a.lower() and "U0BOB" not in in_a
    anywhere = slash(desk_app, f"audit skipped creator:{b}", "C0ELSEWHERE")
    assert "U0BOB" in anywhere and "U0ALICE" not in anywhere
    both = slash(desk_app, "stats", "C0ELSEWHERE")
    assert f"creator @{a}: 0 sent, 0 edited and sent, 1 skipped" in both
    waiting = slash(desk_app, "", CHANNEL_B)
    assert f"{len([d for d in pending if d.creator_handle == b]) - 1} card" in waiting

    env_file = str(desk_app.store.path.parent / "none")
    monkeypatch.setenv("DATABASE_PATH", str(desk_app.store.path))
    assert app.main(["stats", "--creator", b, "--format", "csv", "--env-file", env_file]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "actor,sent,edited,skipped,median_to_take_s,median_take_to_decision_s,sla_on_time,sla_replies",
        "U0BOB,0,0,1,,,,",
    ]
    assert app.main(["stats", "--format", "json", "--env-file", env_file]) == 0
    per_creator = json.loads(capsys.readouterr().out)["creators"]
    assert {c["creator"]: c["skipped"] for c in per_creator} == {a: 1, b: 1}
    assert app.main(["audit", "--creator", f"@{a}", "--format", "json", "--env-file", env_file]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["actor"] for r in rows} <= {"U0ALICE", "scheduler"}


def test_a_slow_creator_is_left_running_and_the_others_cards_go_out_in_the_same_cycle(tmp_path, slack):
    with Sandbox(creators=3, fans=5, seed=5) as sb:
        own, slow = sb.worlds[1].creator, sb.worlds[0].creator  # the team member reaches creators 1 and 3
        logins = [("creator", sb.creator_token(own["handle"])), ("agency", sb.member_token(MEMBER))]
        h = Harness(tmp_path / "bridge.db", sb, slack, logins=logins)
        h.svc.desk.polls.deadline = 0.3
        sb.hang_seconds = 5
        try:
            h.svc.desk.find()  # who is who, before the slow creator's chat list starts hanging
            requests.post(
                f"{sb.url}/_sandbox/faults",
                json={"kind": "hang", "count": 1, "path": f"/creators/{slow['uuid']}/chats"},
                timeout=5,
            ).raise_for_status()
            first = h.cycle()
            second = h.cycle()
        finally:
            h.close()
    assert first.skipped == {slow["handle"]: "slow: still polling in the background"}
    assert second.skipped.get(slow["handle"]) in ("still busy from an earlier cycle", None)
    posted_for = {
        m.blocks[0]["text"]["text"].split("*@")[1].split("*")[0] for m in slack.messages() if m.blocks
    }
    assert own["handle"] in posted_for


def test_the_cap_on_new_cards_per_cycle_is_per_channel(desk_app):
    report = desk_app.cycle(max_posts=1)
    assert len(cards_in(desk_app, CHANNEL_A)) == 1 and len(cards_in(desk_app, CHANNEL_B)) == 1
    assert report.cards.posted == 2 and report.cards.deferred > 0
    waiting = {
        handle: n
        for handle, n in desk_app.store.db.execute(
            "SELECT creator_handle, COUNT(*) FROM drafts WHERE status = 'pending' GROUP BY creator_handle"
        ).fetchall()
    }
    assert report.cards.deferred == sum(waiting.values()) - 2
    desk_app.cycle(max_posts=1)
    for channel in (CHANNEL_A, CHANNEL_B):
        handle = next(h for h, d in desk_app.svc.desk.desk.creators.items() if d.channel == channel)
        assert len(cards_in(desk_app, channel)) == min(2, waiting[handle])
