"""HTTP client for fan context: a creator's fan insights (status, spending, subscription) and online status."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from fanvue.client import FanvueClient
from fanvue.errors import FanvueError, MalformedResponse, MissingScopeError, NotFoundError
from fanvue.models import _extra, _obj, _optional, _time

logger = logging.getLogger(__name__)

MAX_BATCH_INSIGHTS = 100  # POST /insights/fans/batch
MAX_QUERY_INSIGHTS = 20  # GET /insights/fans?fanUuids=
MAX_STATUS_USERS = 100  # POST /chats/statuses
INSIGHTS_SCOPES = ("read:insights", "read:fan")
BATCH_PATH = "/insights/fans/batch"
QUERY_PATH = "/insights/fans"
STATUS_PATH = "/chats/statuses"
# A server without the batch route (an older Fanvue, a compatible stand-in) answers one of these.
ROUTE_MISSING = (404, 405)


class FanStatus(StrEnum):
    """The fan statuses Fanvue documents; insights keep any other value as the string it was."""

    SUBSCRIBER = "subscriber"
    EXPIRED = "expired"
    FOLLOWER = "follower"
    NOT_CONTACTABLE = "not_contactable"


class InsightsError(StrEnum):
    """Why one fan of a bulk read has no insights: Fanvue's per-fan codes, plus our own for odd answers."""

    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INTERNAL = "internal"
    MALFORMED = "malformed"  # the entry was there but unreadable
    MISSING = "missing"  # the answer left the fan out


# Errors that will not go away by asking again soon: the fan is not this creator's, or hidden from us.
LASTING_ERRORS = frozenset({InsightsError.FORBIDDEN, InsightsError.NOT_FOUND})


@dataclass(frozen=True)
class FanInsights:
    """Who a fan is to the creator. Money is integer USD cents."""

    fan_uuid: str
    status: str  # a FanStatus value, or whatever new value Fanvue sends
    total_spend_cents: int
    biggest_payment_cents: int
    last_purchase_at: datetime | None
    subscribed_at: datetime | None
    renews_at: datetime | None
    auto_renew: bool
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, fan_uuid: str, d: object, where: str = "insights") -> FanInsights:
        d = _obj(d, where)
        status = d.get("status")
        if not isinstance(status, str) or not status:
            raise MalformedResponse(f"Fanvue answered an unexpected shape: {where}.status is missing")
        spending = _obj(d.get("spending") if d.get("spending") is not None else {}, f"{where}.spending")
        subscription = _obj(
            d.get("subscription") if d.get("subscription") is not None else {}, f"{where}.subscription"
        )
        auto_renew = subscription.get("autoRenewalEnabled")
        return cls(
            fan_uuid=fan_uuid,
            status=status,
            total_spend_cents=_cents(spending.get("total"), f"{where}.spending.total"),
            biggest_payment_cents=_cents(
                spending.get("maxSinglePayment"), f"{where}.spending.maxSinglePayment"
            ),
            last_purchase_at=_time(spending, "lastPurchaseAt", f"{where}.spending"),
            subscribed_at=_time(subscription, "createdAt", f"{where}.subscription"),
            renews_at=_time(subscription, "renewsAt", f"{where}.subscription"),
            auto_renew=auto_renew is True,
            extra=_extra(d, {"status", "spending", "subscription"}),
        )


@dataclass(frozen=True)
class FanInsightsResult:
    """A bulk read: insights of the fans Fanvue answered for, and why each other fan has none."""

    insights: dict[str, FanInsights]
    errors: dict[str, str]  # fan uuid -> an InsightsError value (or a new code Fanvue sends)


@dataclass(frozen=True)
class ChatStatus:
    """Whether a fan is online; a fan who hides it shows as offline with no last-seen time."""

    fan_uuid: str
    online: bool
    last_seen_at: datetime | None

    @classmethod
    def from_api(cls, fan_uuid: str, d: object, where: str = "status") -> ChatStatus:
        d = _obj(d, where)
        online = _optional(d, "isOnline", bool, where)
        return cls(fan_uuid=fan_uuid, online=online is True, last_seen_at=_time(d, "lastSeenAt", where))


class InsightsClient:
    """Fan context reads for the creator whose login `api` holds, in as few requests as Fanvue allows."""

    def __init__(self, api: FanvueClient) -> None:
        self._api = api
        # Set once the batch route answered 404/405: later reads go straight to the GET form.
        self.batch_missing = False

    def __repr__(self) -> str:
        return f"InsightsClient({self._api!r})"

    def fan_insights(self, fan_uuids: Sequence[str]) -> FanInsightsResult:
        """Insights of many fans: batches of 100, or of 20 with the GET form where the batch route is missing.

        Raises MissingScopeError when the login lacks read:insights or read:fan; other FanvueErrors as the
        client raises them (the fans read before the failure are lost with it: the caller retries later).
        """
        wanted = _unique(fan_uuids)
        insights: dict[str, FanInsights] = {}
        errors: dict[str, str] = {}
        start = 0
        while start < len(wanted):
            size = MAX_QUERY_INSIGHTS if self.batch_missing else MAX_BATCH_INSIGHTS
            chunk = wanted[start : start + size]
            with _naming_scopes():
                if self.batch_missing:
                    self._read_query(chunk, insights, errors)
                elif not self._read_batch(chunk, insights, errors):
                    continue  # the batch route is missing: read the same fans again with the GET form
            start += len(chunk)
        for uuid in wanted:
            if uuid not in insights:
                errors.setdefault(uuid, InsightsError.MISSING)
        return FanInsightsResult(insights, errors)

    def online_statuses(self, fan_uuids: Sequence[str]) -> dict[str, ChatStatus]:
        """Online status of many fans, 100 per request; a fan Fanvue leaves out is absent from the answer."""
        wanted = _unique(fan_uuids)
        result: dict[str, ChatStatus] = {}
        for start in range(0, len(wanted), MAX_STATUS_USERS):
            chunk = wanted[start : start + MAX_STATUS_USERS]
            resp = self._api._request("POST", STATUS_PATH, json={"userUuids": chunk})
            answer = _obj(self._api._json(resp, f"POST {STATUS_PATH}"), "statuses")
            asked = set(chunk)
            for uuid, entry in answer.items():
                if uuid not in asked:
                    continue
                try:
                    result[uuid] = ChatStatus.from_api(uuid, entry, f"statuses[{uuid}]")
                except MalformedResponse as exc:
                    logger.warning("Fanvue's online status of fan %s is unreadable: %s", uuid, exc)
        return result

    # --- the two forms of the insights read --------------------------------------------------------

    def _read_batch(self, chunk: list[str], insights: dict, errors: dict) -> bool:
        """One batch call; False (and nothing read) when the server has no batch route."""
        try:
            resp = self._api._request("POST", BATCH_PATH, json={"userUuids": chunk})
        except FanvueError as exc:
            if isinstance(exc, NotFoundError) or exc.status in ROUTE_MISSING:
                logger.info(
                    "Fanvue has no %s (%s); reading insights 20 fans at a time", BATCH_PATH, exc.status
                )
                self.batch_missing = True
                return False
            raise
        answer = _obj(self._api._json(resp, f"POST {BATCH_PATH}"), "insights batch")
        for uuid in chunk:
            entry = answer.get(uuid)
            if isinstance(entry, dict) and "error" in entry and "status" not in entry:
                errors[uuid] = str(entry["error"])
            elif entry is not None:
                _keep(uuid, entry, insights, errors)
        return True

    def _read_query(self, chunk: list[str], insights: dict, errors: dict) -> None:
        params = {"fanUuids": ",".join(chunk)}
        resp = self._api._request("GET", QUERY_PATH, params=params)
        answer = _obj(self._api._json(resp, f"GET {QUERY_PATH}"), "insights")
        results = answer.get("results")
        results = results if isinstance(results, dict) else {}
        for item in answer.get("errors") or []:
            if isinstance(item, dict) and isinstance(item.get("fanUuid"), str):
                errors[item["fanUuid"]] = str(item.get("code") or InsightsError.INTERNAL).lower()
        for uuid in chunk:
            if results.get(uuid) is not None:
                errors.pop(uuid, None)
                _keep(uuid, results[uuid], insights, errors)


def _keep(uuid: str, entry: object, insights: dict, errors: dict) -> None:
    # One fan's odd entry must not cost the other fans of the call their context.
    try:
        insights[uuid] = FanInsights.from_api(uuid, entry, f"insights[{uuid}]")
    except MalformedResponse as exc:
        logger.warning("Fanvue's insights of fan %s are unreadable: %s", uuid, exc)
        errors[uuid] = InsightsError.MALFORMED


@contextmanager
def _naming_scopes() -> Iterator[None]:
    """Turn a 403 on an insights route into a MissingScopeError that names the scopes to enable."""
    try:
        yield
    except MissingScopeError as exc:
        raise MissingScopeError(
            f"{exc.message}: fan context needs the scopes {' and '.join(INSIGHTS_SCOPES)}; enable them for "
            "the app in Fanvue's developer area, then log in again",
            status=exc.status,
            body=exc.body,
            request_id=exc.request_id,
            method=exc.method,
            path=exc.path,
        ) from exc


def _cents(amount: object, where: str) -> int:
    """`{total, gross}` (gross is the deprecated twin of total) as whole cents; absent means none spent."""
    if amount is None:
        return 0
    amount = _obj(amount, where)
    value = amount.get("total", amount.get("gross"))
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedResponse(f"Fanvue answered an unexpected shape: {where}.total is not a number")
    return round(value)


def _unique(fan_uuids: Sequence[str]) -> list[str]:
    if isinstance(fan_uuids, str):
        raise TypeError("fan_uuids must be a sequence of uuids, not one string")
    wanted = list(dict.fromkeys(fan_uuids))
    if not all(isinstance(u, str) and u for u in wanted):
        raise ValueError("every fan uuid must be a non-empty string")
    return wanted
