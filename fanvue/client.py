"""HTTP client for the Fanvue chat API: reads, sends, retries, rate limiting and error mapping."""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence

import requests

from fanvue.errors import (
    FanvueError,
    FanvueUnavailable,
    MalformedResponse,
    NotContactableError,
    PaidMessageRefused,
    SendOutcomeUnknown,
    retry_after_seconds,
)
from fanvue.models import Chat, ChatMessages, Me, Message, UnreadCounts, page_items
from fanvue.ratelimit import RateBudget
from fanvue.tokens import TokenProvider
from fanvue.wire import check_message as _check_message
from fanvue.wire import header_number as _header_number
from fanvue.wire import never_sent as never_sent
from fanvue.wire import segment as _segment

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.fanvue.com"
DEFAULT_API_VERSION = "2025-06-26"
DEFAULT_TIMEOUT = 10.0
MAX_PAGE_SIZE = 50
MAX_BATCH_CHATS = 50
MAX_RETRY_AFTER = 60.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


class FanvueClient:
    """Talks to one Fanvue-compatible server on behalf of one creator."""

    def __init__(
        self,
        base_url: str,
        token_provider: TokenProvider,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = DEFAULT_TIMEOUT,
        budget: RateBudget | None = None,
        session: requests.Session | None = None,
        read_retries: int = 3,
        max_rate_limit_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.timeout = timeout
        self.read_retries = read_retries
        self.max_rate_limit_retries = max_rate_limit_retries
        self._token_provider = token_provider
        self._budget = budget if budget is not None else RateBudget(sleep=sleep)
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"FanvueClient({self.base_url!r}, api_version={self.api_version!r})"

    def __enter__(self) -> FanvueClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the HTTP connections (only those of a session this client created)."""
        if self._owns_session:
            self._session.close()

    # --- API calls -------------------------------------------------------------------------

    def me(self) -> Me:
        return Me.from_api(self._json(self._request("GET", "/users/me"), "GET /users/me"))

    def unread_chats(self, page_size: int = MAX_PAGE_SIZE) -> Iterator[Chat]:
        """Every unread chat, page after page, until Fanvue says there are no more."""
        size = max(1, min(page_size, MAX_PAGE_SIZE))
        for page in itertools.count(1):
            params = {"filter": "unread", "page": page, "size": size}
            body = self._json(self._request("GET", "/chats", params=params), "GET /chats")
            items, has_more = page_items(body, f"GET /chats page {page}")
            yield from (Chat.from_api(item, f"chats[{i}]") for i, item in enumerate(items))
            if not has_more:
                return
            if not items:
                logger.warning("Fanvue said more chats follow page %d but sent none; stopping", page)
                return

    def unread_counts(self) -> UnreadCounts:
        return UnreadCounts.from_api(self._json(self._request("GET", "/chats/unread"), "GET /chats/unread"))

    def messages(self, user_uuid: str, *, size: int = 15, page: int = 1) -> list[Message]:
        """One page of a chat's history, newest first; never marks the chat read."""
        path = f"/chats/{_segment(user_uuid)}/messages"
        # markAsRead defaults to "true" on Fanvue: reading a chat must not hide it from the creator.
        params = {"page": page, "size": size, "markAsRead": "false"}
        items, _ = page_items(self._json(self._request("GET", path, params=params), f"GET {path}"), path)
        return [Message.from_api(item, f"messages[{i}]") for i, item in enumerate(items)]

    def recent_messages(
        self, user_uuids: Sequence[str], *, limit: int = 20, since_message_uuid: str | None = None
    ) -> dict[str, ChatMessages]:
        """Recent messages of many chats, keyed by fan uuid, in calls of at most 50 chats."""
        wanted = list(dict.fromkeys(user_uuids))
        result: dict[str, ChatMessages] = {}
        for start in range(0, len(wanted), MAX_BATCH_CHATS):
            chunk = wanted[start : start + MAX_BATCH_CHATS]
            body: dict[str, object] = {"chatUuids": chunk, "limit": limit}
            if since_message_uuid is not None:
                body["sinceMessageUuid"] = since_message_uuid
            answer = self._json(self._request("POST", "/chats/messages/batch", json=body), "batch")
            by_chat = answer.get("byChat") if isinstance(answer, dict) else None
            if not isinstance(by_chat, dict):
                raise MalformedResponse("Fanvue answered an unexpected shape: batch byChat is missing")
            for uuid, entry in by_chat.items():
                try:
                    result[uuid] = ChatMessages.from_api(entry, uuid)
                except MalformedResponse as exc:
                    # One chat's odd message must not cost the other chats of the batch their reading.
                    logger.warning("Fanvue's batch answer for chat %s is unreadable: %s", uuid, exc)
                    result[uuid] = ChatMessages(
                        user_uuid=uuid, messages=[], has_more=False, error="malformed"
                    )
            for uuid in chunk:
                # A chat the answer leaves out is reported like a per-chat error, so callers can index.
                result.setdefault(
                    uuid, ChatMessages(user_uuid=uuid, messages=[], has_more=False, error="missing")
                )
        return result

    def send_message(
        self,
        user_uuid: str,
        text: str,
        *,
        price_cents: int | None = None,
        media_uuids: Sequence[str] = (),
        template_uuid: str | None = None,
        max_price_cents: int | None = None,
    ) -> str:
        """Send a message and return its uuid. Never retried after it may have reached Fanvue.

        A paid message carries `price_cents` (at least 300, at most the caller's `max_price_cents`) and at
        least one of `media_uuids`; `template_uuid` names the saved template it came from. Every field is
        sent explicitly: whether Fanvue fills them in from the template is not documented."""
        _check_message(text, price_cents, media_uuids, max_price_cents)
        body: dict[str, object] = {"text": text}
        if price_cents is not None:
            body["price"] = price_cents
        if media_uuids:
            body["mediaUuids"] = list(media_uuids)
        if template_uuid is not None:
            body["templateUuid"] = template_uuid
        path = f"/chats/{_segment(user_uuid)}/message"
        try:
            resp = self._request("POST", path, json=body, send=(user_uuid, text))
        except NotContactableError as exc:
            if not media_uuids and price_cents is None:
                raise
            raise PaidMessageRefused(exc.message, **exc.request_details()) from exc
        answer = self._json(resp, f"POST {path}")
        message_uuid = answer.get("messageUuid") if isinstance(answer, dict) else None
        if not isinstance(message_uuid, str):
            raise MalformedResponse(
                f"Fanvue accepted the message to {user_uuid} ({resp.status_code}) but its answer lacks messageUuid"
            )
        return message_uuid

    # --- transport -------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: object = None,
        send: tuple[str, str] | None = None,
        budget: RateBudget | None = None,
    ) -> requests.Response:
        """One API call with its retries; a send (`send=(user_uuid, text)`) is never repeated once it may
        have reached Fanvue. `budget` replaces the client's own for routes Fanvue counts apart."""
        budget = budget if budget is not None else self._budget
        sending = send is not None
        failures = rate_limited = 0
        refreshed = False
        token = self._token_provider()
        # Every pass either returns, raises, or consumes one of these bounded allowances.
        max_attempts = 1 + self.read_retries + self.max_rate_limit_retries + 1
        for attempt in range(1, max_attempts + 1):
            budget.acquire()
            try:
                resp = self._session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=json,
                    headers=self._headers(token),
                    timeout=self.timeout,
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                if send is not None and not never_sent(exc):
                    raise SendOutcomeUnknown(*send, cause=exc) from exc
                failures += 1
                logger.warning(
                    "Fanvue %s %s failed (attempt %d): %s", method, path, attempt, type(exc).__name__
                )
                if sending or failures > self.read_retries:
                    raise FanvueUnavailable(
                        f"Fanvue did not answer {method} {path} ({type(exc).__name__})",
                        method=method,
                        path=path,
                    ) from exc
                self._backoff(failures)
                continue
            self._observe(resp, budget)
            logger.debug("Fanvue %s %s -> %d", method, path, resp.status_code)
            if resp.status_code < 400:
                return resp
            if resp.status_code == 401 and not refreshed:
                refreshed = True
                fresh = self._token_provider(stale=token)
                if fresh != token:
                    logger.info("Fanvue rejected the access token; retrying with a refreshed one")
                    token = fresh
                    continue
            if resp.status_code == 429 and rate_limited < self.max_rate_limit_retries:
                rate_limited += 1
                self._wait_after_429(resp, method, path, budget)
                continue
            if resp.status_code >= 500:
                error = FanvueError.from_response(resp, sending=sending)
                if send is not None:
                    raise SendOutcomeUnknown(*send, cause=error)
                failures += 1
                if failures <= self.read_retries:
                    logger.warning("Fanvue %s %s answered %d; retrying", method, path, resp.status_code)
                    self._backoff(failures)
                    continue
                raise error
            raise FanvueError.from_response(resp, sending=sending)
        raise FanvueUnavailable(
            f"Gave up on {method} {path} after {max_attempts} attempts", method=method, path=path
        )

    def _headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "X-Fanvue-API-Version": self.api_version,
        }

    def _observe(self, resp: requests.Response, budget: RateBudget) -> None:
        if resp.status_code == 429:
            # Retry-After is the specific instruction for a 429; its reset header would only lengthen it.
            return
        remaining = _header_number(resp, "X-RateLimit-Remaining")
        reset = _header_number(resp, "X-RateLimit-Reset")
        budget.observe(None if remaining is None else int(remaining), reset)

    def _wait_after_429(self, resp: requests.Response, method: str, path: str, budget: RateBudget) -> None:
        wait = min(retry_after_seconds(resp), MAX_RETRY_AFTER)
        logger.warning("Fanvue rate-limited %s %s; waiting %.1f s", method, path, wait)
        # Pausing the shared budget holds back every thread, and the next acquire() does the waiting.
        budget.pause_until(budget.now() + wait)

    def _backoff(self, failures: int) -> None:
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (failures - 1))
        self._sleep(random.uniform(ceiling / 2, ceiling))

    @staticmethod
    def _json(resp: requests.Response, what: str) -> object:
        try:
            return resp.json()
        except ValueError as exc:
            raise MalformedResponse(
                f"Fanvue answered {resp.status_code} on {what} with a body that is not JSON",
                status=resp.status_code,
            ) from exc
