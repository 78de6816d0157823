"""The walk-through: one poll cycle, the cards it posts, six moments of a team deciding on them, a note, a sale,
and a card brought by a webhook."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from demo import selling
from demo.render import mrkdwn_text, render_blocks, without_history
from demo.stage import (
    CARD_TIMEOUT,
    CHANNEL,
    CLICK_TIMEOUT,
    SECOND_CHANNEL,
    TEAM,
    DemoFailed,
    Stage,
    creator_handles,
)
from inbox.cycle import run_cycle
from slack import blocks, note_blocks
from standins.slack_requests import view_submission_payload
from store import audit, drafts

EDITED_TEXT = "Hey! Thank you, that means a lot 💕 New set drops Friday, you'll see it first."
FAN_AGAIN = "also, did you get my last message? 🙈"
NOTE_TEXT = "Loves the beach sets; promised her a preview of Friday's drop"
FAN_NEW = "just subscribed, hi! 👋"
EXPECTED_SENT = 4
STATUS_WORDS = {drafts.PENDING: "waiting for a decision", drafts.FAILED: "refused by Fanvue"}

Say = Callable[[str], None]


@dataclass(frozen=True)
class Expect:
    """What a step must leave behind: messages that reached Fanvue, the card's status, a note to someone."""

    sent: int
    status: str
    note: str | None = None  # a pattern one of the step's ephemeral messages matches


class Tour:
    """Acts, then reports what changed: the card, the ephemeral notes and what reached Fanvue."""

    def __init__(self, st: Stage, say: Say):
        self.st = st
        self.say = say
        self.notes_seen = 0
        self.sent_seen = 0

    def show_card(self, draft_id: int, *, brief: bool = False) -> None:
        """The card as Slack shows it now; `brief` leaves out the chat the reader has seen already."""
        _, msg = self.st.card(draft_id)
        for line in render_blocks(without_history(msg.blocks) if brief else msg.blocks, TEAM):
            self.say("    " + line)

    def step(self, number: int, title: str, draft_id: int, act: Callable[[], None], expect: Expect) -> None:
        self.say(f"\n== Step {number}: {title}")
        act()
        self.st.settle()
        draft, _ = self.st.card(draft_id)
        self.show_card(draft_id, brief=draft.status != drafts.PENDING)
        notes = self.st.slack.ephemerals()[self.notes_seen :]
        self.notes_seen += len(notes)
        for note in notes:
            self.say(f"  Only {TEAM.get(note['user'], note['user'])} sees: {mrkdwn_text(note['text'], TEAM)}")
        sent = self.st.sandbox.world.sent_messages()[self.sent_seen :]
        self.sent_seen += len(sent)
        for message in sent:
            self.say(f"  Fanvue got, for @{message['recipient']['handle']}: {message['text']!r}")
        if not sent:
            self.say("  Fanvue got nothing.")
        check(
            len(sent) == expect.sent,
            f"step {number}: {len(sent)} messages reached Fanvue, expected {expect.sent}",
        )
        check(
            draft.status == expect.status,
            f"step {number}: the card is {draft.status}, expected {expect.status}",
        )
        if expect.note:
            check(
                any(re.search(expect.note, n["text"]) for n in notes),
                f"step {number}: nobody was told anything matching {expect.note!r}",
            )


def check(condition: bool, failure: str) -> None:
    if not condition:
        raise DemoFailed(failure)


def walk(st: Stage, say: Say) -> None:
    """Run one poll cycle, show the cards, then play the team's seven moments; DemoFailed when one goes wrong."""
    blocked = _blocked_fan_waiting(st)
    say("== The poll cycle reads the Fanvue sandbox and posts cards to the Slack stand-in")
    report = run_cycle(st.runtime.services, max_posts=st.runtime.settings.slack_max_posts_per_cycle)
    say(report.summary())
    for handle in _creator_wrote_last(st):
        say(
            f"  No card for @{handle}: the chat is unread, but its latest message is the creator's, "
            "so there is nothing to answer."
        )
    pending = {d.ts: d for d in drafts.with_status(st.db, drafts.PENDING) if d.ts}
    posted = [pending[m.ts] for m in st.slack.messages(CHANNEL) if m.ts in pending]
    cards = [d.id for d in posted if d.fan_uuid != blocked["uuid"]]
    blocked_card = next((d.id for d in posted if d.fan_uuid == blocked["uuid"]), None)
    check(
        len(cards) >= 5 and blocked_card is not None,
        f"the cycle posted {len(posted)} cards; the demo needs five plus one for @{blocked['handle']}",
    )
    tour = Tour(st, say)
    say("")
    for number, draft_id in enumerate(cards, 1):
        say(f"-- Card {number}")
        tour.show_card(draft_id)
    say(f"-- The card of @{blocked['handle']}, who cannot be messaged")
    tour.show_card(blocked_card)
    _second_creator(st, say)
    handle = {d.id: d.fan_handle for d in posted}
    alice, bob, carol, dana = TEAM

    tour.step(
        1,
        f"Alice clicks Send on card 1 (@{handle[cards[0]]})",
        cards[0],
        lambda: st.click(alice, cards[0], blocks.SEND),
        Expect(1, drafts.SENT),
    )
    tour.step(
        2,
        f"Bob clicks Edit on card 2 (@{handle[cards[1]]}) and sends his own words",
        cards[1],
        lambda: _edit_and_send(st, say, bob, cards[1]),
        Expect(1, drafts.SENT),
    )
    tour.step(
        3,
        f"Carol clicks Skip on card 3 (@{handle[cards[2]]})",
        cards[2],
        lambda: st.click(carol, cards[2], blocks.SKIP),
        Expect(0, drafts.SKIPPED),
    )
    tour.step(
        4,
        f"Alice and Bob both click Send on card 4 (@{handle[cards[3]]}) at the same moment",
        cards[3],
        lambda: _at_once(st, (alice, bob), cards[3]),
        Expect(1, drafts.SENT, r"Already sent by|is sending this reply right now"),
    )
    tour.step(
        5,
        f"Dana clicks Send on the card of @{blocked['handle']}, who cannot be messaged",
        blocked_card,
        lambda: st.click(dana, blocked_card, blocks.SEND),
        Expect(0, drafts.FAILED, "Fanvue refused"),
    )
    before = drafts.get(st.db, cards[4])
    tour.step(
        6,
        f"@{before.fan_handle} writes again, just before Dana clicks Send on card 5",
        cards[4],
        lambda: _fan_writes_then_send(st, say, dana, before),
        Expect(0, drafts.PENDING, "wrote again"),
    )
    after = drafts.get(st.db, cards[4])
    check(
        after.version == before.version + 1 and after.draft_text, "step 6: the card does not show a new draft"
    )
    tour.step(
        7,
        f"Bob clicks Note on card 5 and writes what the team should remember about @{before.fan_handle}",
        cards[4],
        lambda: _note(st, say, bob, cards[4]),
        Expect(0, drafts.PENDING),
    )
    _, card = st.card(cards[4])
    check(NOTE_TEXT in str(card.blocks), "step 7: the card does not show the team's note")
    _webhook_step(st, say, tour)
    tour.step(
        9,
        f"Bob attaches a vault item at ${selling.PRICE} on card 5 (@{before.fan_handle}) and sends it",
        cards[4],
        lambda: selling.attach_and_send(st, say, bob, cards[4]),
        Expect(1, drafts.SENT),
    )
    selling.buy_and_credit(st, say, cards[4])


def _webhook_step(st: Stage, say: Say, tour: Tour) -> None:
    """Fanvue's webhook is registered; a fan writes and the card is in Slack without a poll cycle."""
    world = st.sandbox.world
    carded = {row["fan_uuid"] for row in st.db.query("SELECT fan_uuid FROM drafts")}
    fan = next(f for f in world.fans() if f["uuid"] not in carded and "blocked" not in f["handle"])
    say(f"\n== Step 8: Webhooks are on; @{fan['handle']} writes in Fanvue, and no poll cycle runs")
    st.listen_for_webhooks()
    started = time.monotonic()
    world.add_fan_message(fan["uuid"], FAN_NEW)
    say(
        f"  In Fanvue, @{fan['handle']} writes: {FAN_NEW!r}; Fanvue posts a signed message.received to the app"
    )
    card = None
    while card is None and time.monotonic() - started < CARD_TIMEOUT:
        card = next(
            (d for d in drafts.with_status(st.db, drafts.PENDING) if d.fan_uuid == fan["uuid"] and d.ts), None
        )
        time.sleep(0.02)
    check(card is not None, f"step 8: no card for @{fan['handle']} {CARD_TIMEOUT:.0f} s after the webhook")
    assert card is not None
    say(
        f"  The app read that one chat and posted its card {time.monotonic() - started:.2f} s after the message:"
    )
    tour.show_card(card.id, brief=True)


def _second_creator(st: Stage, say: Say) -> None:
    """The second creator's cards went to its own channel, each naming its creator; none crossed over."""
    first, second = creator_handles(st.sandbox)
    theirs = [m for m in st.slack.messages(SECOND_CHANNEL) if m.blocks]
    crossed = [m for m in st.slack.messages(CHANNEL) if m.blocks and f"@{second}*" in str(m.blocks[0])]
    check(
        bool(theirs) and not crossed and all(f"*@{second}*" in str(m.blocks[0]) for m in theirs),
        f"@{second}'s cards did not all go to its own channel {SECOND_CHANNEL}, naming it",
    )
    say(
        f"-- @{second}'s {len(theirs)} cards went to its own channel {SECOND_CHANNEL}, not {CHANNEL}; the first:"
    )
    say("    " + render_blocks(theirs[0].blocks[:1], TEAM)[0])


def _blocked_fan_waiting(st: Stage) -> dict:
    """The seed always has a fan who cannot be messaged; make sure that fan is waiting for a reply."""
    world = st.sandbox.world
    fan = next(f for f in world.fans() if "blocked" in f["handle"])
    chat = world.chat(fan["uuid"])
    if chat["isRead"] or (chat["lastMessage"] or {}).get("senderUuid") != fan["uuid"]:
        world.add_fan_message(fan["uuid"], "hello? 👋")
    return fan


def _creator_wrote_last(st: Stage) -> list[str]:
    """Unread chats the cycle leaves alone because the creator had the last word."""
    world = st.sandbox.world
    chats = [(fan, world.chat(fan["uuid"])) for fan in world.fans()]
    return [
        fan["handle"]
        for fan, chat in chats
        if not chat["isRead"] and (chat["lastMessage"] or {}).get("senderUuid") not in (None, fan["uuid"])
    ]


def _edit_and_send(st: Stage, say: Say, user: str, draft_id: int) -> None:
    opened = len(st.slack.views())
    st.click(user, draft_id, blocks.EDIT)
    st.settle()
    views = st.slack.views()[opened:]
    check(len(views) == 1, f"step 2: {len(views)} edit windows opened for {TEAM[user]}, expected 1")
    view = views[0]["view"]
    say(f"  A modal {view['title']['text']!r} opens for {TEAM[user]}, who rewrites the reply and submits it.")
    st.submit(user, view, EDITED_TEXT)


def _at_once(st: Stage, users: tuple[str, ...], draft_id: int) -> None:
    start = threading.Barrier(len(users))
    failures: list[DemoFailed] = []

    def click(user: str) -> None:
        start.wait(CLICK_TIMEOUT)
        try:
            st.click(user, draft_id, blocks.SEND)
        except DemoFailed as exc:
            failures.append(exc)

    threads = [threading.Thread(target=click, args=(user,), name=f"click-{user}") for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(CLICK_TIMEOUT)
    if failures:
        raise failures[0]


def _fan_writes_then_send(st: Stage, say: Say, user: str, draft: drafts.Draft) -> None:
    st.sandbox.world.add_fan_message(draft.fan_uuid, FAN_AGAIN)
    say(f"  In Fanvue, @{draft.fan_handle} writes: {FAN_AGAIN!r}")
    st.click(user, draft.id, blocks.SEND)


def _note(st: Stage, say: Say, user: str, draft_id: int) -> None:
    opened = len(st.slack.views())
    st.click(user, draft_id, note_blocks.NOTE)
    st.settle()
    views = st.slack.views()[opened:]
    check(len(views) == 1, f"step 7: {len(views)} note windows opened for {TEAM[user]}, expected 1")
    view = views[0]["view"]
    say(f"  A modal {view['title']['text']!r} opens for {TEAM[user]}: {NOTE_TEXT!r}")
    values = {
        note_blocks.NOTE_BLOCK: {note_blocks.NOTE_INPUT: {"type": "plain_text_input", "value": NOTE_TEXT}}
    }
    st._post(
        user,
        view_submission_payload(
            user_id=user, user_name=TEAM[user].lower(), view=view, values=values, view_id=view.get("id", "V1")
        ),
    )


def print_audit(st: Stage, say: Say) -> None:
    say("\n== Audit log (oldest first)")
    for row in reversed(audit.recent(st.db, limit=500)):
        actor = TEAM.get(row["actor"], row["actor"])
        fan = f"@{row['fan_handle']}" if row["fan_handle"] else "-"
        say(
            f"  {row['at'][11:19]}  {actor:<9} {row['action']:<15} {fan:<16} {short_details(row['details'])}".rstrip()
        )


def short_details(details: dict[str, Any], width: int = 48) -> str:
    """The one detail of an audit row worth a glance, cut to `width`."""
    for key in ("error", "reason", "text", "attempted"):
        if details.get(key):
            value = " ".join(str(details[key]).split())
            return f"{key}: {value if len(value) <= width else value[: width - 1] + '…'}"
    return ""


def summary(st: Stage) -> tuple[str, int]:
    """The closing line, and how many messages reached Fanvue."""
    counts = dict(st.db.execute("SELECT status, COUNT(*) FROM drafts GROUP BY status").fetchall())
    sent = sum(len(world.sent_messages()) for world in st.sandbox.worlds)
    cards = ", ".join(f"{n} {STATUS_WORDS.get(status, status)}" for status, n in sorted(counts.items()))
    return f"Summary: {sent} messages reached Fanvue (expected {EXPECTED_SENT}); cards: {cards}.", sent
