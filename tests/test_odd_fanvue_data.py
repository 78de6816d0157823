"""Odd but spec-valid Fanvue data: tied timestamps, repeated messages, a message without sentAt."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from fanvue import FanvueClient, StaticToken
from fanvue.models import Message
from inbox import conversation as conv
from slack import blocks
from store import drafts
from tests.harness import Harness
from tests.pending_card import PendingCard

CREATOR, FAN = "c0000000-0000-4000-8000-000000000000", "f0000000-0000-4000-8000-000000000000"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _msg(uuid: str, sender: str, at: datetime, text: str = "hi") -> Message:
    return Message(
        uuid=uuid,
        text=text,
        sent_at=at,
        sender_uuid=sender,
        recipient_uuid=None,
        type="SINGLE_RECIPIENT",
        has_media=False,
        media_type=None,
        is_read=False,
        price_cents=None,
    )


def test_fan_messages_with_the_same_timestamp_do_not_count_as_writing_again():
    # Fanvue lists newest first; a tip and its text often share one millisecond.
    history = [
        _msg("f2", FAN, T0, "and a tip"),
        _msg("f1", FAN, T0, "hello"),
        _msg("c1", CREATOR, T0 - timedelta(1)),
    ]
    latest = conv.latest_fan_message(history, CREATOR)
    assert latest.uuid == "f2"
    assert conv.newer_than(history, latest.uuid, "2025-03-01T12:00:00.000Z") == []
    assert [t.text for t in conv.to_turns(history, CREATOR)] == ["hi", "hello", "and a tip"]


def test_a_message_listed_twice_is_not_newer_than_itself():
    history = [_msg("f1", FAN, T0), _msg("f1", FAN, T0), _msg("c1", CREATOR, T0 - timedelta(1))]
    assert conv.newer_than(history, "f1", "2025-03-01T12:00:00.000Z") == []
    assert len(conv.to_turns(history, CREATOR)) == 2


def test_send_works_when_the_fans_last_two_messages_share_a_timestamp(harness: Harness):
    harness.cycle()
    world = harness.sandbox.world
    fan = harness.unread_fan_with_text()
    first = world.add_fan_message(fan["uuid"], "sent you a tip!")
    world.add_fan_message(fan["uuid"], "hope you like it", extra={"sentAt": first["sentAt"]})
    harness.cycle()
    draft = harness.draft_for(fan["uuid"])
    harness.click(draft, blocks.SEND)
    assert [m["text"] for m in world.sent_messages(fan["uuid"])] == [draft.draft_text]
    assert harness.draft_for(fan["uuid"]).status == drafts.SENT


def test_a_message_without_sent_at_holds_back_only_its_own_chat(harness: Harness):
    world = harness.sandbox.world
    fan = harness.unread_fan_with_text()
    world.add_fan_message(fan["uuid"], "scheduled?", extra={"sentAt": None})  # sentAt is nullable in the spec
    report = harness.cycle()
    assert report.troubled == 1
    others = [
        f
        for f in world.fans()
        if f["uuid"] != fan["uuid"]
        and not world.chat(f["uuid"])["isRead"]
        and world.chat(f["uuid"])["lastMessage"]["senderUuid"] != world.creator["uuid"]
    ]
    assert report.drafted == len(others) > 0
    assert len(harness.slack.messages()) == len(others)


class _SendAnswerWithoutUuid(BaseHTTPRequestHandler):
    """In front of the sandbox: every request passes through, but a send's 201 comes back without messageUuid."""

    upstream = ""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        answer = requests.request(
            self.command, self.upstream + self.path, data=raw, headers=headers, timeout=5
        )
        body = answer.content
        if self.command == "POST" and self.path.endswith("/message") and answer.status_code == 201:
            body = b"{}"
        self.send_response(answer.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_send_fanvue_took_without_naming_the_message_is_recorded_as_sent(pending_card: PendingCard):
    harness, fan, draft = pending_card
    handler = type("Handler", (_SendAnswerWithoutUuid,), {"upstream": harness.sandbox.url})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        harness.svc.fanvue = FanvueClient(
            f"http://127.0.0.1:{proxy.server_port}",
            StaticToken(harness.sandbox.token),
            timeout=2,
            sleep=lambda _s: None,
        )
        harness.click(draft, blocks.SEND)
    finally:
        harness.svc.fanvue.close()
        proxy.shutdown()
        proxy.server_close()
        thread.join()
    sent = harness.sandbox.world.sent_messages(fan["uuid"])
    assert [m["text"] for m in sent] == [draft.draft_text]
    done = harness.draft_for(fan["uuid"])
    assert done.status == drafts.SENT and done.fanvue_message_uuid == sent[0]["uuid"]
    assert not any("nothing was sent" in text for text in harness.ephemerals())
