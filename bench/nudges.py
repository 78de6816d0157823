"""Many cards going overdue at once against a paced Slack: how many messages and 429s the nudges cost."""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

import runtime
import settings as settings_module
from bench.rig import BOT_TOKEN, CHANNEL, header, table, workdir
from standins.slack_api import SlackStandin
from store import drafts
from store.clock import to_iso, utcnow
from store.db import Store, write
from store.draft_records import NewDraft

COMMAND = "python -m bench.nudges"
SLA = 15
TARGET_MESSAGES = 3  # per channel and nudge level: one list each time, never one message per card


@dataclass
class Pass:
    label: str
    cards: int
    messages: int  # chat.postMessage calls that reached Slack
    rate_limited: int  # answered 429
    permalinks: int
    updates: int  # cards re-rendered to show their new state
    seconds: float


def _seed(slack: SlackStandin, store: Store, cards: int) -> list[int]:
    """`cards` waiting cards, posted before the pace is switched on (as if over the last minutes)."""
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
    now = utcnow()
    ids = []
    for i in range(cards):
        new = NewDraft(
            creator_uuid="creator-1",
            fan_uuid=f"fan-{i}",
            fan_handle=f"fan{i}",
            fan_name=f"Fan {i}",
            fan_message_uuid=f"msg-{i}",
            fan_message_at=to_iso(now),
            waiting_since=to_iso(now),
            unread_count=1,
            draft_text=f"Hey Fan {i}, thanks for writing!",
        )
        draft = drafts.create(store.db, new)
        assert draft is not None
        ts = client.chat_postMessage(channel=CHANNEL, text=f"card {i}")["ts"]
        drafts.mark_card(store.db, draft, channel=CHANNEL, ts=ts, rev=draft.card_rev)
        ids.append(draft.id)
    return ids


def _age(store: Store, minutes: float) -> None:
    with write(store.db):
        store.db.execute(
            "UPDATE drafts SET waiting_since = ? WHERE status = 'pending'",
            [to_iso(utcnow() - timedelta(minutes=minutes))],
        )


def _counts(slack: SlackStandin) -> tuple[int, int, int, int]:
    calls = slack.calls()
    posts = [c for c in calls if c.method == "chat.postMessage"]
    return (
        sum(1 for c in posts if c.status == 200),
        sum(1 for c in calls if c.status == 429),
        sum(1 for c in calls if c.method == "chat.getPermalink"),
        sum(1 for c in calls if c.method == "chat.update"),
    )


def _app(slack: SlackStandin, db_path: Path) -> runtime.Runtime:
    """The app as `app.py run` builds it, with SLA_MINUTES; no cycle runs, so Fanvue is never asked."""
    settings = settings_module.from_mapping(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_CHANNEL_ID": CHANNEL,
            "SLACK_SIGNING_SECRET": "bench-signing-secret",
            "SLACK_API_URL": slack.api_url,
            "FANVUE_ACCESS_TOKEN": "bench-token",
            "FANVUE_API_BASE": "http://127.0.0.1:9",
            "DATABASE_PATH": str(db_path),
            "SLA_MINUTES": str(SLA),
        }
    )
    settings = dataclasses.replace(settings, slack_post_interval=0, port=0)
    return runtime.build(settings, host="127.0.0.1")


def run(cards: int, directory: Path) -> list[Pass]:
    """Ours (the cycle's SLA pass at the SLA and at twice it) and the naive way (one thread reply per card,
    no retries, so each 429 is counted rather than waited out)."""
    passes = []
    with SlackStandin(bot_token=BOT_TOKEN, pace=True) as slack:
        app = _app(slack, directory / "nudges.db")
        svc = app.services
        store = svc.store
        pacer, slack.state.pacer = slack.state.pacer, None
        _seed(slack, store, cards)
        slack.state.pacer = pacer
        watch = svc.sla
        for label, minutes in ((f"at the SLA ({SLA} min)", SLA + 1), ("at twice the SLA", 2 * SLA + 1)):
            _age(store, minutes)
            before = _counts(slack)
            started = time.perf_counter()
            watch.run(svc)
            took = time.perf_counter() - started
            after = _counts(slack)
            messages, limited, links, updates = (a - b for a, b in zip(after, before, strict=True))
            passes.append(Pass(f"ours, {label}", cards, messages, limited, links, updates, took))
        app.close()
    with SlackStandin(bot_token=BOT_TOKEN, pace=True) as slack:
        store = Store(directory / "naive.db")
        pacer, slack.state.pacer = slack.state.pacer, None
        ids = _seed(slack, store, cards)
        slack.state.pacer = pacer
        bare = WebClient(token=BOT_TOKEN, base_url=slack.api_url)  # no retries: 429s are counted
        before = _counts(slack)
        started = time.perf_counter()
        for draft_id in ids:
            draft = drafts.get(store.db, draft_id)
            assert draft is not None
            try:
                bare.chat_postMessage(channel=CHANNEL, thread_ts=draft.ts, text="⏰ overdue")
            except SlackApiError:
                pass
        took = time.perf_counter() - started
        after = _counts(slack)
        messages, limited, links, updates = (a - b for a, b in zip(after, before, strict=True))
        passes.append(Pass("naive: one reply per card", cards, messages, limited, links, updates, took))
        store.close()
    return passes


def report(passes: list[Pass]) -> str:
    rows = [
        [p.label, p.cards, p.messages, p.rate_limited, p.permalinks, p.updates, f"{p.seconds:.2f} s"]
        for p in passes
    ]
    return table(("pass", "cards", "messages", "429s", "permalinks", "card updates", "time"), rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--cards", type=int, default=200, help="cards going overdue at once")
    args = parser.parse_args(argv)
    header(f"Nudges: {args.cards} cards going overdue at once, Slack's pace on", COMMAND)
    with workdir() as directory:
        passes = run(args.cards, Path(directory))
    print(report(passes))
    ours = [p for p in passes if p.label.startswith("ours")]
    ok = all(p.rate_limited == 0 and p.messages <= TARGET_MESSAGES for p in ours)
    print(f"\nTarget: no 429 and at most {TARGET_MESSAGES} messages per pass: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
