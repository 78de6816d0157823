"""Webhook intake: a Fanvue delivery is checked, stored once, answered, and only then handed on."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from fanvue import webhooks
from fanvue.models import User
from fanvue.webhooks import Event, MessageReceived, PayloadError, SignatureError, WebhookEvent
from store import webhook_events
from store.clock import to_iso, utcnow
from store.db import Store
from store.webhook_events import NewEvent

logger = logging.getLogger(__name__)

SENDERS_KEPT = 10_000
SecretsFor = Callable[[str], Sequence[str]]  # recipient (creator) uuid -> the secrets its deliveries may use


@dataclass(frozen=True)
class Answer:
    """What the endpoint answers; `event_id` is handed on once the answer is out."""

    status: int
    body: dict = field(default_factory=dict)
    event_id: int | None = None


def event_key(event: WebhookEvent, raw_body: bytes) -> str:
    """The same for every delivery of one event: a message's uuid; for a read, who read whom and when."""
    if isinstance(event, MessageReceived):
        return event.message_uuid
    when = event.timestamp or event.envelope_id or hashlib.sha256(raw_body).hexdigest()
    return f"{event.recipient_uuid}:{event.counterpart_uuid}:{when}"


def new_event(kind: Event, event: WebhookEvent, raw_body: bytes) -> NewEvent:
    received = event if isinstance(event, MessageReceived) else None
    return NewEvent(
        kind=kind.value,
        event_key=event_key(event, raw_body),
        recipient_uuid=event.recipient_uuid,
        fan_uuid=event.fan_uuid,
        message_uuid=received.message_uuid if received else None,
        message_at=received.created_at if received else None,
        event_at=event.timestamp,
    )


class WebhookIntake:
    """Checks, stores and hands on deliveries; counts them for /healthz.

    `secret_for(recipient uuid)` names the secrets that creator's deliveries are signed with (none: refused);
    `on_event(row id)` runs on a thread of its own after the answer, for each event stored for the first time.
    """

    def __init__(
        self,
        store: Store,
        secret_for: SecretsFor,
        on_event: Callable[[int], None],
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self._store = store
        self._secret_for = secret_for
        self._on_event = on_event
        self._clock = clock
        # One worker: events are handed on in the order they were stored.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhook")
        self._lock = threading.Lock()
        self._last_received_at: datetime | None = None
        self._counts = {"stored": 0, "repeated": 0, "refused": 0}
        # Who sent the latest messages, by (creator, fan): the store keeps no names, a card shows them.
        self._senders: OrderedDict[tuple[str, str], User] = OrderedDict()

    def receive(self, kind: Event, raw_body: bytes, signature: str | None) -> Answer:
        """Check the signature over the exact bytes, store the event, and say what to answer."""
        try:
            parsed_signature = webhooks.parse_signature(signature)
            webhooks.check_timestamp(parsed_signature, now=self._clock().timestamp())
            document = webhooks.decode(raw_body)
            recipient = webhooks.recipient_of(document, kind)
        except SignatureError as exc:
            return self.refuse(401, str(exc), kind)
        except PayloadError as exc:
            return self.refuse(400, str(exc), kind)
        try:
            webhooks.check_digests(parsed_signature, raw_body, list(self._secret_for(recipient)))
        except SignatureError as exc:
            return self.refuse(401, str(exc), kind)
        try:
            event = webhooks.parse(kind, document)
        except PayloadError as exc:
            return self.refuse(400, str(exc), kind)
        if isinstance(event, MessageReceived) and event.sender.handle:
            self._remember(event)
        return self._store_event(kind, event, raw_body)

    def _remember(self, event: MessageReceived) -> None:
        sender = event.sender
        user = User(
            uuid=sender.uuid, handle=sender.handle or "", display_name=sender.display_name, nickname=None
        )
        with self._lock:
            self._senders[(event.recipient_uuid, sender.uuid)] = user
            self._senders.move_to_end((event.recipient_uuid, sender.uuid))
            while len(self._senders) > SENDERS_KEPT:
                self._senders.popitem(last=False)

    def fan_named(self, creator_uuid: str, fan_uuid: str) -> User | None:
        """The fan as the latest delivery named them, if one did since the start."""
        with self._lock:
            return self._senders.get((creator_uuid, fan_uuid))

    def _store_event(self, kind: Event, event: WebhookEvent, raw_body: bytes) -> Answer:
        now = self._clock()
        try:
            recorded = webhook_events.record(self._store.db, new_event(kind, event, raw_body), now)
        except sqlite3.OperationalError as exc:
            # Not stored, so not acknowledged: Fanvue delivers it again later.
            logger.warning("Could not store a %s delivery (%s); answered 503 for a retry", kind.value, exc)
            return Answer(503, {"error": "not stored; retry later"})
        with self._lock:
            self._last_received_at = now
            self._counts["stored" if recorded.new else "repeated"] += 1
        if not recorded.new:
            logger.debug("A repeated %s delivery for event %d", kind.value, recorded.id)
            return Answer(200, {"ok": True, "repeat": True})
        logger.debug("Stored %s as event %d", kind.value, recorded.id)
        return Answer(200, {"ok": True}, event_id=recorded.id)

    def refuse(self, status: int, reason: str, kind: Event | None = None) -> Answer:
        """Count the refusal and log one line; nothing is stored."""
        with self._lock:
            self._counts["refused"] += 1
        where = f" to the {kind.value} URL" if kind else ""
        logger.warning("Refused a Fanvue webhook delivery%s (%d): %s", where, status, reason)
        return Answer(status, {"error": reason})

    def hand_on(self, event_id: int) -> None:
        """Run on_event(event_id) on the intake's own thread; after close() it is left for the next start."""
        try:
            self._pool.submit(self._run, event_id)
        except RuntimeError:
            logger.info("Event %d stays stored unhandled: the app is stopping", event_id)

    def _run(self, event_id: int) -> None:
        # The one edge of the hand-off: a failure is logged in full; the event stays stored, unhandled.
        try:
            self._on_event(event_id)
        except Exception:
            logger.exception("Handling webhook event %d failed; it stays stored unhandled", event_id)

    @property
    def last_received_at(self) -> datetime | None:
        """When the last event was stored (a repeat counts: Fanvue is delivering)."""
        with self._lock:
            return self._last_received_at

    def health(self) -> dict:
        with self._lock:
            last = self._last_received_at
            return {"last_received_at": to_iso(last) if last else None, **self._counts}

    def close(self) -> None:
        """Finish the events already handed on."""
        self._pool.shutdown(wait=True)
