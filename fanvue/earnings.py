"""HTTP client for a creator's earnings: transaction lines, cursor-paged, each naming its paid message."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from fanvue.client import MAX_PAGE_SIZE, FanvueClient
from fanvue.errors import CreatorNotReachable, MalformedResponse, MissingScopeError, NotFoundError
from fanvue.models import _extra, _obj, _optional, _required, _required_time, parse_time
from fanvue.ratelimit import RateBudget

logger = logging.getLogger(__name__)

EARNINGS_PATH = "/insights/earnings"
EARNINGS_SCOPES = ("read:insights",)
# A managed creator's earnings, read with an agency login: /creators/{creator}/insights/earnings.
AGENCY_EARNINGS_SCOPES = ("read:creator", "read:insights")
PURCHASE = "purchase"  # a fan paid for a message: the only kind credited as "bought"
REFUND = "refund"
CHARGEBACK = "chargeback"
REVERSALS = frozenset({REFUND, CHARGEBACK})
# Fanvue's sources, as kinds of line; any other source is kept as the kind it names.
KIND_OF_SOURCE = {"message": PURCHASE}
KNOWN = {"date", "gross", "net", "currency", "source", "transactionOrderId", "transactionOrderStatus"}
KNOWN |= {"user", "messageUuid", "postUuid", "type"}


@dataclass(frozen=True)
class EarningLine:
    """One transaction. Money is integer USD cents; a refund or chargeback carries negative amounts.

    Fanvue documents no refund shape: a line with a negative gross is taken as a reversal, and a `type`
    field naming one (refund, chargeback) is kept when Fanvue sends it."""

    key: str  # Fanvue's id of the line: stored once, however often it is delivered
    kind: str  # purchase, tip, refund, chargeback, subscription, ... (unknown sources kept as they are)
    source: str
    gross_cents: int
    net_cents: int
    at: datetime
    fan_uuid: str | None
    message_uuid: str | None
    order_id: str | None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def reversal(self) -> bool:
        return self.kind in REVERSALS

    @classmethod
    def from_api(cls, d: object, where: str = "earning") -> EarningLine:
        d = _obj(d, where)
        source = _optional(d, "source", str, where) or "unknown"
        gross = round(_required(d, "gross", (int, float), where))
        net = round(_required(d, "net", (int, float), where))
        user = d.get("user")
        fan = user.get("uuid") if isinstance(user, dict) and isinstance(user.get("uuid"), str) else None
        named = d.get("type")
        if isinstance(named, str) and named:
            kind = named
        elif gross < 0:
            kind = REFUND
        else:
            kind = KIND_OF_SOURCE.get(source, source)
        order_id = _optional(d, "transactionOrderId", str, where)
        return cls(
            key=_line_key(d, order_id, kind),
            kind=kind,
            source=source,
            gross_cents=gross,
            net_cents=net,
            at=_required_time(d, "date", where),
            fan_uuid=fan,
            message_uuid=_optional(d, "messageUuid", str, where),
            order_id=order_id,
            extra=_extra(d, KNOWN),
        )


@dataclass(frozen=True)
class EarningsPage:
    lines: list[EarningLine]
    next_cursor: str | None


def _line_key(d: dict, order_id: str | None, kind: str) -> str:
    # A refund may share its order's id with the purchase it reverses: the kind keeps the two apart.
    if order_id:
        return f"{order_id}:{kind}"
    digest = hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f"content:{digest}"


class EarningsClient:
    """Earnings reads of one creator (scope read:insights): by default the creator's own login's
    `/insights/earnings`; with `creator_uuid`, a managed creator's read through an agency login at `path`,
    counted against `budget` (that creator's bucket)."""

    def __init__(
        self,
        api: FanvueClient,
        *,
        path: str = EARNINGS_PATH,
        budget: RateBudget | None = None,
        creator_uuid: str | None = None,
    ) -> None:
        self._api = api
        self.path = path
        self._budget = budget
        self._creator_uuid = creator_uuid

    def __repr__(self) -> str:
        return f"EarningsClient({self._api!r}, path={self.path!r})"

    def page(
        self,
        *,
        since: datetime | None = None,
        cursor: str | None = None,
        size: int = MAX_PAGE_SIZE,
    ) -> EarningsPage:
        """One page of lines dated from `since`, continuing at `cursor`; a line that cannot be read is
        logged and left out rather than costing the page's other lines."""
        params: dict[str, object] = {"size": max(1, min(size, MAX_PAGE_SIZE))}
        if since is not None:
            params["startDate"] = since.isoformat().replace("+00:00", "Z")
        if cursor is not None:
            params["cursor"] = cursor
        with self._refusals():
            resp = self._api._request("GET", self.path, params=params, budget=self._budget)
        body = _obj(self._api._json(resp, "earnings"), "earnings")
        data = _required(body, "data", list, "earnings")
        next_cursor = _optional(body, "nextCursor", str, "earnings") or None
        lines = []
        for i, item in enumerate(data):
            try:
                lines.append(EarningLine.from_api(item, f"earnings[{i}]"))
            except MalformedResponse as exc:
                logger.warning("An earnings line from Fanvue is unreadable and left out: %s", exc)
        return EarningsPage(lines, next_cursor)

    def lines(self, *, since: datetime | None = None, size: int = MAX_PAGE_SIZE) -> Iterator[EarningLine]:
        """Every line from `since`, page after page until Fanvue gives no next cursor."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = self.page(since=since, cursor=cursor, size=size)
            yield from page.lines
            if page.next_cursor is None or page.next_cursor in seen or not page.lines:
                return
            seen.add(page.next_cursor)
            cursor = page.next_cursor

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        """A 403 stays a MissingScopeError, named with the scopes to enable: the login that reads earnings
        is the one that reads the creator's chats, so a refusal here is most likely its scopes. Through an
        agency, a 404 can only be the creator (out of the login's reach)."""
        try:
            yield
        except MissingScopeError as exc:
            scopes = AGENCY_EARNINGS_SCOPES if self._creator_uuid is not None else EARNINGS_SCOPES
            named = f"the scopes {' and '.join(scopes)}" if len(scopes) > 1 else f"the scope {scopes[0]}"
            reach = " (and the creator within its reach)" if self._creator_uuid is not None else ""
            raise MissingScopeError(
                f"{exc.message}: reading earnings needs {named} on this Fanvue login{reach}; enable "
                f"{'them' if len(scopes) > 1 else 'it'} for the app in Fanvue's developer area, then log in again",
                **exc.request_details(),
            ) from exc
        except NotFoundError as exc:
            if self._creator_uuid is None:
                raise
            raise CreatorNotReachable(self._creator_uuid, exc) from exc


def parse_since(value: str) -> datetime:
    """A stored watermark back into a datetime."""
    return parse_time(value, "watermark")
