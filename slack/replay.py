"""Act on each Slack request once: a replayed or retried copy is acknowledged and nothing else happens.

What identifies a request:
- HTTP mode: its signature. A captured request replayed within Slack's 5-minute window has the same bytes,
  timestamp and so signature; a new one (a teammate clicking again) has a new timestamp and payload.
- Events API (both modes): its `event_id`, which Slack keeps when it retries a delivery.
- Socket Mode: no signature; Slack redelivers an envelope it saw no acknowledgement for (`retry_attempt`)
  with the same payload, and no two interactions share one (each has its own trigger_id and times), so the
  payload itself is the key.
A copy marked as a retry (`X-Slack-Retry-Num`, which Bolt also sets from Socket Mode's `retry_attempt`)
that cannot be matched this way is acknowledged without acting, as Slack sends retries only of events.

Keys live in the database (`store.seen`), so two processes on one database also act once; a process-local
memory answers repeats without the database and stands in for it while it is locked. A click or a slash
command is acknowledged on the memory's word alone: its listener only acknowledges and hands its work to
the pool, and the database is asked in the worker, before the work. Writing there on the acknowledge path
queued every acknowledgement of a burst behind the workers' own writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future

import sqlite_utils
from slack_bolt import BoltRequest, BoltResponse

from slack.handoff import RunLater
from store import seen
from store.clock import utcnow
from store.db import StoreError

logger = logging.getLogger(__name__)

RETRY_HEADER = "x-slack-retry-num"
MEMORY_MAX = 10_000  # keys held in memory; at the busiest a desk sees far fewer in REMEMBER
# Requests whose listeners act only in the work they hand to the pool (slack.handoff), never while
# acknowledging: Send / Edit / Regenerate / Skip clicks, and /fanvue (a slash command's body has no type).
HANDED_OFF = ("block_actions", None)


def request_key(req: BoltRequest) -> str | None:
    """What makes this request the same as an earlier copy; None when nothing does."""
    body = req.body if isinstance(req.body, dict) else {}
    event_id = body.get("event_id")
    if isinstance(event_id, str) and event_id:
        return f"event:{event_id}"
    if req.mode == "socket_mode":
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "payload:" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = _header(req, "x-slack-signature")
    if signature:
        return "signature:" + signature
    if req.raw_body:  # request verification off (local runs): the same timestamp and bytes
        stamp = _header(req, "x-slack-request-timestamp") or ""
        return "body:" + hashlib.sha256(f"{stamp}:{req.raw_body}".encode()).hexdigest()
    return None


class ReplayGuard:
    """A global Bolt middleware; install it after request verification so forged requests leave no key."""

    def __init__(self, db: Callable[[], sqlite_utils.Database]):
        self._db = db  # the calling thread's connection
        self._recent: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._acknowledging = threading.local()  # the key of the request this thread is acknowledging

    def __call__(
        self, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        # Bolt runs the listener after the middleware, in this thread: a key left here by an earlier
        # request (one no listener handed work from) must not be taken for this one's.
        self._acknowledging.key = None
        key = request_key(req)
        retry = _header(req, RETRY_HEADER)
        if key is None:
            if retry:
                return self._skip(req, f"a retry ({retry}) of a request that cannot be matched")
            return next()
        repeat = f"a repeat{f' (retry {retry})' if retry else ''} of a request already handled"
        if _kind(req) not in HANDED_OFF:
            return next() if self.first_time(key) else self._skip(req, repeat)
        if not self._first_in_memory(key):
            return self._skip(req, repeat)
        self._acknowledging.key = key  # for run_later, when the listener hands its work off
        return next()

    def run_later(self, submit: RunLater) -> RunLater:
        """`submit` for the listeners: work handed off while acknowledging a click or a command runs only
        when its request is new to the database, checked in the worker."""

        def later(fn: Callable[..., None], /, *args: object, **kwargs: object) -> Future:
            key, self._acknowledging.key = getattr(self._acknowledging, "key", None), None
            if key is None:
                return submit(fn, *args, **kwargs)
            return submit(self._once, key, fn, *args, **kwargs)

        return later

    def _once(self, key: str, fn: Callable[..., None], *args: object, **kwargs: object) -> None:
        try:
            first = self._first_in_database(key)
        except Exception:  # the pool would keep it in a future nobody reads
            logger.exception("Could not check a Slack request against the database; not acted on")
            return
        if first:
            fn(*args, **kwargs)
        else:
            logger.info("Did not act on a Slack request another process already handled")

    def first_time(self, key: str) -> bool:
        """True exactly once per key within `seen.REMEMBER`, across every process on the database."""
        return self._first_in_memory(key) and self._first_in_database(key)

    def _first_in_memory(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            self._forget(now)
            if key in self._recent:
                return False
            self._recent[key] = now
        return True

    def _first_in_database(self, key: str) -> bool:
        try:
            return seen.first_time(self._db(), key, utcnow())
        except (sqlite3.OperationalError, StoreError) as exc:
            # Refusing would lose the click for certain; this process's memory still holds the key.
            logger.warning(
                "Could not record a Slack request in the database (%s); checked in memory only", exc
            )
            return True

    def _forget(self, now: float) -> None:
        horizon = now - seen.REMEMBER.total_seconds()
        while self._recent and (
            len(self._recent) > MEMORY_MAX or next(iter(self._recent.values())) < horizon
        ):
            self._recent.popitem(last=False)

    @staticmethod
    def _skip(req: BoltRequest, why: str) -> BoltResponse:
        logger.info("Acknowledged without acting (%s, %s): %s", req.mode, _kind(req) or "command", why)
        return BoltResponse(status=200, body="")


def _kind(req: BoltRequest) -> str | None:
    kind = req.body.get("type") if isinstance(req.body, dict) else None
    return kind if isinstance(kind, str) else None


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values else None
