"""The sandbox's earnings: lines made by fans buying paid messages, tipping, and refunds; cursor-paged."""

from __future__ import annotations

import base64
import json
import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from . import api
from .api import ApiRequest, Reply
from .model import iso
from .vault import vault_of
from .world import UnknownMessage, World

if TYPE_CHECKING:
    from .agency import Principal

SOURCES = (
    "all",
    "affiliate",
    "appStore",
    "checkoutLink",
    "mediaLink",
    "message",
    "post",
    "referral",
    "renewal",
    "subscription",
    "tip",
    "giveaway",
)
FEE_PERCENT = 20  # Fanvue's cut in the sandbox: net is 80% of gross
DEFAULT_SIZE = 20
REVERSALS = ("refund", "chargeback")


@dataclass
class EarningsBook:
    """One creator's lines, oldest first; `seq` orders them and is what a cursor points past."""

    lines: list[tuple[int, dict]] = field(default_factory=list)
    _next: int = 1
    _orders: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, line: dict) -> dict:
        with self._lock:
            self.lines.append((self._next, line))
            self._next += 1
            return line

    def order_id(self) -> str:
        with self._lock:
            self._orders += 1
            return f"FV-ORDER-{self._orders:06d}"

    def find(self, order_id: str) -> dict:
        with self._lock:
            for _, line in self.lines:
                if line["transactionOrderId"] == order_id and "type" not in line:
                    return line
        raise KeyError(f"no earnings line {order_id!r}")

    def page(
        self, start: datetime | None, end: datetime | None, sources: list[str], before: int | None, size: int
    ):
        """Newest first; lines after the cursor's, dated in [start, end), of the given sources."""
        with self._lock:
            rows = [
                (seq, line)
                for seq, line in reversed(self.lines)
                if (before is None or seq < before)
                and (start is None or _at(line) >= start)
                and (end is None or _at(line) < end)
                and (not sources or "all" in sources or line["source"] in sources)
            ]
        chunk = rows[:size]
        more = len(rows) > size
        return [dict(line) for _, line in chunk], (chunk[-1][0] if more else None)


_BOOKS: weakref.WeakKeyDictionary[World, EarningsBook] = weakref.WeakKeyDictionary()
_BOOKS_LOCK = threading.Lock()


def book_of(world: World) -> EarningsBook:
    with _BOOKS_LOCK:
        return _BOOKS.setdefault(world, EarningsBook())


def _at(line: dict) -> datetime:
    return datetime.fromisoformat(line["date"])


def _line(world: World, fan_uuid: str, source: str, cents: int, message_uuid: str | None) -> dict:
    fan = world.fan(fan_uuid)
    line = {
        "date": iso(datetime.now(UTC)),
        "gross": cents,
        "net": cents * (100 - FEE_PERCENT) // 100,
        "currency": "USD",
        "source": source,
        "transactionOrderId": book_of(world).order_id(),
        "transactionOrderStatus": "pendingBalance",
        "user": {
            k: fan[k] for k in ("uuid", "handle", "displayName", "nickname", "isTopSpender", "avatarUrl")
        },
    }
    if message_uuid is not None:
        line["messageUuid"] = message_uuid
    return line


def buy(world: World, fan_uuid: str, message_uuid: str) -> dict:
    """The fan pays for a paid message the creator sent them: the message is unlocked, its media bought,
    and an earnings line made."""
    with world._lock:
        found = world._by_uuid.get(message_uuid)
        if found is None:
            raise UnknownMessage(message_uuid)
        chat_fan, message = found
        fan = world.fan(fan_uuid)["uuid"]
        if chat_fan != fan or message.sender_uuid == fan:
            raise ValueError("that message is not one the creator sent this fan")
        if message.price is None:
            raise ValueError("that message is free: there is nothing to buy")
        if message.purchased_at is not None:
            raise ValueError("the fan already bought that message")
        message.purchased_at = datetime.now(UTC)
        vault_of(world).bought(fan, message.media_uuids)
        return book_of(world).add(_line(world, fan, "message", message.price, message.uuid))


def tip(world: World, fan_uuid: str, cents: int) -> dict:
    if isinstance(cents, bool) or not isinstance(cents, int) or cents <= 0:
        raise ValueError("cents must be a positive whole number")
    return book_of(world).add(_line(world, world.fan(fan_uuid)["uuid"], "tip", cents, None))


def reverse(world: World, order_id: str, kind: str) -> dict:
    """A refund or chargeback of a line: a new line of the same order with negative amounts."""
    if kind not in REVERSALS:
        raise ValueError(f"kind must be one of {', '.join(REVERSALS)}")
    original = book_of(world).find(order_id)
    line = {
        **original,
        "date": iso(datetime.now(UTC)),
        "gross": -original["gross"],
        "net": -original["net"],
        "type": kind,  # a field beside the documented ones, as Fanvue adds them
    }
    return book_of(world).add(line)


def redeliver(world: World, order_id: str) -> dict:
    """The same line listed once more, as a source that delivers twice would."""
    return book_of(world).add(dict(book_of(world).find(order_id)))


FAN_CONTROL = re.compile(r"/_sandbox/fans/([^/]+)/(buy|tip)")
EARNINGS_CONTROL = re.compile(r"/_sandbox/earnings/(refund|redeliver)")
MEDIA_CONTROL = re.compile(r"/_sandbox/vault/media/([^/]+)")


def handle_sales_control(world: World, method: str, path: str, body: dict) -> Reply | None:
    """The controls of paid messages, tips, refunds and media status; None when the path is another's."""
    if method != "POST":
        return None
    fan_route = FAN_CONTROL.fullmatch(path)
    try:
        if fan_route:
            fan_uuid, action = fan_route.groups()
            if action == "buy":
                return Reply(201, buy(world, fan_uuid, str(body["messageUuid"])))
            return Reply(201, tip(world, fan_uuid, body.get("cents")))
        earnings_route = EARNINGS_CONTROL.fullmatch(path)
        if earnings_route:
            order_id = str(body["transactionOrderId"])
            if earnings_route.group(1) == "refund":
                return Reply(201, reverse(world, order_id, str(body.get("kind", "refund"))))
            return Reply(201, redeliver(world, order_id))
        media_route = MEDIA_CONTROL.fullmatch(path)
        if media_route:
            return Reply(200, vault_of(world).set_status(media_route.group(1), str(body.get("status"))))
    except UnknownMessage as exc:
        return Reply(404, {"message": f"No message {exc.args[0]!r}"})
    return None


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": seq}).encode()).decode().rstrip("=")


def _before(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))["before"]
    except (ValueError, KeyError, TypeError) as exc:
        raise api.invalid("cursor is not valid") from exc
    if isinstance(value, bool) or not isinstance(value, int):
        raise api.invalid("cursor is not valid")
    return value


def _date(query: dict[str, list[str]], name: str) -> datetime | None:
    raw = query.get(name, [None])[-1]
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise api.invalid(f"{name} must be an ISO 8601 datetime") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_earnings(who: Principal, request: ApiRequest) -> Reply:
    missing = who.lacks("read:insights")
    if missing:
        return Reply(403, {"error": f"Forbidden: missing required scope {', '.join(missing)}"})
    return earnings_page(who.world, request)


def earnings_page(world: World | None, request: ApiRequest) -> Reply:
    """A page of `world`'s lines as the query asks; none for an account without earnings of its own. The
    creator's own route and the agency's route for a managed creator answer alike."""
    size = DEFAULT_SIZE
    if "size" in request.query:
        raw = request.query["size"][-1]
        if not raw.isdigit() or not 1 <= int(raw) <= 50:
            raise api.invalid("size must be between 1 and 50")
        size = int(raw)
    sources = [s for raw in request.query.get("source", []) for s in raw.split(",") if s]
    if any(s not in SOURCES for s in sources):
        raise api.invalid(f"each value in source must be one of {', '.join(SOURCES)}")
    cursor = request.query.get("cursor", [None])[-1]
    before = _before(cursor) if cursor else None
    if world is None:
        return Reply(200, {"data": [], "nextCursor": None})
    lines, last = book_of(world).page(
        _date(request.query, "startDate"), _date(request.query, "endDate"), sources, before, size
    )
    return Reply(200, {"data": lines, "nextCursor": None if last is None else _cursor(last)})


Handler = Callable[["Principal", ApiRequest], Reply]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/insights/earnings"), list_earnings),
]
HANDLERS = frozenset(handler for _, _, handler in ROUTES)


def route(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    return api.find_route(ROUTES, method, path)


def handle(who: Principal, handler: Handler, request: ApiRequest) -> Reply:
    return api.guarded(handler, who, request)
