"""The sandbox's webhooks: message.received and message.read, signed as Fanvue signs them, delivered from a
background thread, with switchable faults (duplicates, reordering, delays, bad signatures, retries, drops)."""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests

from .model import Chat, Message, Person, iso

logger = logging.getLogger(__name__)

RECEIVED = "message.received"
READ = "message.read"
SIGNATURE_HEADER = "X-Fanvue-Signature"
WRONG_SECRET = "not-the-registered-secret"


@dataclass
class WebhookFaults:
    """What goes wrong with the next deliveries; counts are used up one event at a time."""

    duplicate: int = 0  # the next n events are delivered twice
    drop: int = 0  # the next n events are never delivered
    bad_signature: int = 0  # the next n events are signed with a wrong secret, on every attempt
    reorder: int = 0  # the next n events are held, then delivered newest first
    delay_ms: int = 0  # every delivery waits this long first
    stale_seconds: int = 0  # signatures carry a timestamp this far in the past (negative: the future)
    wrap: bool = False  # deliver as the newer {id, type, timestamp, data} envelope
    # Fanvue retries a delivery answered with a non-2xx status or not answered at all; bounded here.
    max_attempts: int = 4
    backoff_ms: int = 200  # the first retry waits this long, each further one twice as long


@dataclass
class Registration:
    url_received: str | None
    url_read: str | None
    secrets: list[str] = field(repr=False)  # two during a rotation: every delivery then carries two v0


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    kind: str = field(compare=False)
    url: str = field(compare=False)
    body: bytes = field(compare=False)
    bad_signature: bool = field(compare=False)
    attempt: int = field(default=1, compare=False)
    backoff_ms: int = field(default=0, compare=False)  # the wait before this attempt, after the last one


def received_payload(creator: Person, chat: Chat, message: Message, now: datetime) -> dict:
    """The flat message.received body Fanvue's docs show."""
    fan = chat.fan
    return {
        "messageUuid": message.uuid,
        "message": {
            "uuid": message.uuid,
            "text": message.text,
            "hasMedia": bool(message.media_uuids),
            "mediaUuids": list(message.media_uuids),
            "price": message.price,
            "createdAt": iso(message.sent_at),
        },
        "sender": {
            "uuid": fan.uuid,
            "handle": fan.handle,
            "displayName": fan.display_name,
            "avatarUrl": fan.avatar_url,
        },
        "recipientUuid": creator.uuid,
        "isMuted": chat.is_muted,
        "timestamp": iso(now),
    }


def read_payload(creator: Person, chat: Chat, count: int, now: datetime) -> dict:
    return {
        "counterpartUuid": chat.fan.uuid,
        "readMessagesCount": count,
        "recipientUuid": creator.uuid,
        "timestamp": iso(now),
    }


def signature_header(secrets: list[str], body: bytes, timestamp: int) -> str:
    """`t=<unix seconds>,v0=<hex>[,v0=<hex>]`: HMAC-SHA256 of `"{t}.{body}"` under each secret."""
    signed = str(timestamp).encode() + b"." + body
    digests = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    return ",".join([f"t={timestamp}", *(f"v0={d}" for d in digests)])


class WebhookSender:
    """Delivers the events of every world it observes to the registered URLs."""

    def __init__(self, timeout: float = 5.0):
        self._cv = threading.Condition()
        self._registration: Registration | None = None
        self.faults = WebhookFaults()
        self._heap: list[_Job] = []
        self._held: list[tuple[str, str, bytes, bool]] = []
        self._in_flight = 0
        self._seq = itertools.count()
        self._log: list[dict] = []
        self._timeout = timeout
        self._session = requests.Session()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- configuration ----------------------------------------------------------------------------------
    def register(self, url_received: str | None, url_read: str | None, secret: str | list[str]) -> None:
        secrets = [secret] if isinstance(secret, str) else [str(s) for s in secret]
        if not secrets or not all(secrets):
            raise ValueError("a webhook needs a signing secret")
        with self._cv:
            self._registration = Registration(url_received, url_read, secrets)

    def unregister(self) -> None:
        with self._cv:
            self._registration = None

    def set_faults(self, **changes: object) -> WebhookFaults:
        """Change some faults; unknown names raise ValueError. Ending a reorder releases what it held."""
        known = {f.name: f.type for f in dataclasses.fields(WebhookFaults)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown webhook faults: {', '.join(unknown)}")
        with self._cv:
            for name, value in changes.items():
                setattr(self.faults, name, bool(value) if known[name] == "bool" else int(value))
            if self.faults.reorder == 0:
                self._release_held()
            return dataclasses.replace(self.faults)

    def state(self) -> dict:
        with self._cv:
            registration = self._registration
            return {
                "registered": registration is not None,
                "url_received": registration.url_received if registration else None,
                "url_read": registration.url_read if registration else None,
                "faults": dataclasses.asdict(self.faults),
                "pending": self._pending(),
                "deliveries": list(self._log),
            }

    def deliveries(self, kind: str | None = None) -> list[dict]:
        """Every attempt so far: kind, url, attempt, status (0: no answer), the body and the header sent."""
        with self._cv:
            return [dict(d) for d in self._log if kind in (None, d["kind"])]

    # -- events from the worlds -------------------------------------------------------------------------
    def observe(self, kind: str, creator: Person, chat: Chat, **facts: object) -> None:
        """A world's observer: builds the body now (under the world's lock) and queues its delivery."""
        now = datetime.now(UTC)
        if kind == RECEIVED:
            payload = received_payload(creator, chat, facts["message"], now)  # type: ignore[arg-type]
        else:
            payload = read_payload(creator, chat, int(facts["count"]), now)  # type: ignore[arg-type]
        with self._cv:
            registration = self._registration
            url = (
                None
                if registration is None
                else (registration.url_received if kind == RECEIVED else registration.url_read)
            )
            if url is None:
                return
            if self.faults.wrap:
                payload = {
                    "id": f"evt_{uuid.uuid4().hex}",
                    "type": kind,
                    "timestamp": iso(now),
                    "data": payload,
                }
            body = json.dumps(payload, ensure_ascii=False).encode()
            if self._use("drop"):
                self._log.append(
                    {
                        "kind": kind,
                        "url": url,
                        "attempt": 0,
                        "status": None,
                        "dropped": True,
                        "body": payload,
                        "signature": None,
                    }
                )
                return
            bad = self._use("bad_signature")
            copies = 2 if self._use("duplicate") else 1
            for _ in range(copies):
                if self.faults.reorder > 0:
                    self._held.append((kind, url, body, bad))
                    if len(self._held) >= self.faults.reorder:
                        self.faults.reorder = 0
                        self._release_held()
                else:
                    self._push(kind, url, body, bad)
            self._cv.notify_all()

    # -- the delivery thread ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name="fanvue-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout + 1)
            self._thread = None
        self._session.close()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is queued, held or being delivered."""
        with self._cv:
            return self._cv.wait_for(lambda: self._pending() == 0, timeout=timeout)

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._stopping and (not self._heap or self._heap[0].due > time.monotonic()):
                    wait = self._heap[0].due - time.monotonic() if self._heap else None
                    self._cv.wait(timeout=wait)
                if self._stopping:
                    return
                job = heapq.heappop(self._heap)
                self._in_flight += 1
            try:
                self._deliver(job)
            finally:
                with self._cv:
                    self._in_flight -= 1
                    self._cv.notify_all()

    def _deliver(self, job: _Job) -> None:
        with self._cv:
            registration, faults = self._registration, dataclasses.replace(self.faults)
        if registration is None:
            return
        secrets = [WRONG_SECRET] if job.bad_signature else registration.secrets
        header = signature_header(secrets, job.body, int(time.time()) - faults.stale_seconds)
        try:
            response = self._session.post(
                job.url,
                data=job.body,
                headers={"Content-Type": "application/json", SIGNATURE_HEADER: header},
                timeout=self._timeout,
            )
            status = response.status_code
        except requests.RequestException as exc:
            logger.debug("webhook delivery to %s failed: %s", job.url, exc)
            status = 0
        with self._cv:
            self._log.append(
                {
                    "kind": job.kind,
                    "url": job.url,
                    "attempt": job.attempt,
                    "backoff_ms": job.backoff_ms,
                    "status": status,
                    "dropped": False,
                    "body": json.loads(job.body),
                    "signature": header,
                }
            )
            if not 200 <= status < 300 and job.attempt < faults.max_attempts:
                backoff_ms = faults.backoff_ms * 2 ** (job.attempt - 1)
                retry = dataclasses.replace(
                    job,
                    due=time.monotonic() + backoff_ms / 1000,
                    seq=next(self._seq),
                    attempt=job.attempt + 1,
                    backoff_ms=backoff_ms,
                )
                heapq.heappush(self._heap, retry)

    # -- internals (called with the condition held) -----------------------------------------------------
    def _use(self, name: str) -> bool:
        left = getattr(self.faults, name)
        if left > 0:
            setattr(self.faults, name, left - 1)
            return True
        return False

    def _push(self, kind: str, url: str, body: bytes, bad: bool) -> None:
        due = time.monotonic() + self.faults.delay_ms / 1000
        heapq.heappush(self._heap, _Job(due, next(self._seq), kind, url, body, bad))

    def _release_held(self) -> None:
        held, self._held = self._held, []
        for kind, url, body, bad in reversed(held):
            self._push(kind, url, body, bad)
        self._cv.notify_all()

    def _pending(self) -> int:
        return len(self._heap) + len(self._held) + self._in_flight
