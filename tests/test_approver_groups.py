"""A creator's approver group: its members decide, read from Slack, kept a few minutes, last known on failure."""

from __future__ import annotations

import dataclasses

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from desk import Desk
from inbox.approver_groups import GROUP_RETRY_SECONDS, GROUP_TTL_SECONDS, ApproverGroups, GroupUnknown
from standins.fanvue import Sandbox
from store import drafts
from tests.harness import BOT_TOKEN, Harness
from tests.test_many_creators import CHANNEL_A, cards_in, creator_logins, desk_for, handles

GROUP = "S0TEAM"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def two():
    with Sandbox(creators=2, fans=6, seed=11) as sb:
        yield sb


def group_desk(sandbox: Sandbox, users: frozenset[str] = frozenset()) -> Desk:
    desk = desk_for(sandbox)
    a = handles(sandbox)[0]
    creators = dict(desk.creators)
    creators[a] = dataclasses.replace(creators[a], approver_group=GROUP, approvers=users)
    return Desk(creators)


def set_group(slack, members: list[str]) -> None:
    with slack.state.lock:
        slack.state.usergroups[GROUP] = members


def test_the_groups_members_decide_and_a_change_counts_once_the_cache_expires(tmp_path, two, slack):
    set_group(slack, ["U0ALICE"])
    h = Harness(
        tmp_path / "bridge.db",
        two,
        slack,
        logins=creator_logins(two),
        desk=group_desk(two, frozenset({"U0CAROL"})),
        approvers=frozenset({"U0BOB"}),  # SLACK_APPROVERS do not decide for a creator with its own
    )
    clock = Clock()
    h.svc.desk.groups = ApproverGroups(h.web, clock=clock)
    try:
        h.cycle()
        pending = [d for d in drafts.with_status(h.store.db, drafts.PENDING) if d.channel == CHANNEL_A]
        assert len(pending) >= 3 and len(cards_in(h, CHANNEL_A)) == len(pending)
        first, second, third = pending[:3]
        h.click(first, "draft_skip", user="U0BOB")
        assert drafts.get(h.store.db, first.id).status == drafts.PENDING
        assert any("approvers" in text for text in h.ephemerals("U0BOB"))
        h.click(first, "draft_skip", user="U0ALICE")
        h.click(second, "draft_skip", user="U0CAROL")  # listed beside the group
        assert [drafts.get(h.store.db, d.id).status for d in (first, second)] == [drafts.SKIPPED] * 2
        assert len(slack.calls("usergroups.users.list")) == 1  # read once, then from the cache

        set_group(slack, ["U0BOB"])  # Alice leaves the group, Bob joins
        clock.now += GROUP_TTL_SECONDS + 1
        h.click(third, "draft_skip", user="U0ALICE")
        assert drafts.get(h.store.db, third.id).status == drafts.PENDING
        h.click(third, "draft_skip", user="U0BOB")
        assert drafts.get(h.store.db, third.id).status == drafts.SKIPPED
        assert [c.args["usergroup"] for c in slack.calls("usergroups.users.list")] == [GROUP, GROUP]
    finally:
        h.close()


def test_a_slack_failure_keeps_the_last_known_members_and_refuses_when_none_are_known(slack):
    clock = Clock()
    groups = ApproverGroups(WebClient(token=BOT_TOKEN, base_url=slack.api_url), clock=clock)
    slack.fail("usergroups.users.list", "missing_scope", count=1)
    with pytest.raises(GroupUnknown) as refused:
        groups.members(GROUP)
    assert GROUP in str(refused.value) and "usergroups:read" in str(refused.value)

    set_group(slack, ["U0ALICE", "U0BOB"])
    assert groups.members(GROUP) == {"U0ALICE", "U0BOB"}  # nothing known yet: asked again at once
    clock.now += GROUP_TTL_SECONDS + 1
    slack.fail("usergroups.users.list", "internal_error", count=1)
    assert groups.members(GROUP) == {"U0ALICE", "U0BOB"}  # Slack failed: the last known members
    set_group(slack, ["U0BOB"])
    asked = len(slack.calls("usergroups.users.list"))
    clock.now += GROUP_RETRY_SECONDS / 2
    assert groups.members(GROUP) == {"U0ALICE", "U0BOB"}  # not asked again straight away
    assert len(slack.calls("usergroups.users.list")) == asked
    clock.now += GROUP_RETRY_SECONDS
    assert groups.members(GROUP) == {"U0BOB"}  # refreshed once Slack answers again


def test_a_group_slack_does_not_know_refuses_the_click_with_the_reason(tmp_path, two, slack):
    h = Harness(tmp_path / "bridge.db", two, slack, logins=creator_logins(two), desk=group_desk(two))
    try:
        h.cycle()
        draft = next(d for d in drafts.with_status(h.store.db, drafts.PENDING) if d.channel == CHANNEL_A)
        h.click(draft, "draft_send", user="U0ALICE")
        assert drafts.get(h.store.db, draft.id).status == drafts.PENDING
        assert not two.worlds[0].sent_messages(draft.fan_uuid)
        [told] = h.ephemerals("U0ALICE")
        assert GROUP in told and "no such user group" in told and "nothing was done" in told
    finally:
        h.close()


def test_the_standin_answers_usergroups_users_list_as_slack_does(slack):
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
    set_group(slack, ["U0ALICE"])
    with slack.state.lock:
        slack.state.usergroups["S0OLD"] = ["U0BOB"]
        slack.state.disabled_groups.add("S0OLD")
    assert client.usergroups_users_list(usergroup=GROUP)["users"] == ["U0ALICE"]
    assert client.usergroups_users_list(usergroup="S0OLD", include_disabled=True)["users"] == ["U0BOB"]
    for group in ("S0OLD", "S0NONE"):
        with pytest.raises(SlackApiError) as refused:
            client.usergroups_users_list(usergroup=group)
        assert refused.value.response["error"] == "no_such_subteam"
