"""HTTP client for Fanvue's agency routes: managed creators, their chats, reads and sends."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import requests

from fanvue.agency_models import Creator, CreatorChat
from fanvue.client import (
    DEFAULT_API_VERSION,
    MAX_PAGE_SIZE,
    FanvueClient,
    _check_message,
    _segment,
)
from fanvue.earnings import EarningsClient
from fanvue.errors import (
    AgencyAdminRequired,
    CreatorNotReachable,
    MalformedResponse,
    MissingScopeError,
    NotFoundError,
    SendOutcomeUnknown,
)
from fanvue.media import MediaClient
from fanvue.models import Me, Message, page_items
from fanvue.ratelimit import BudgetBook, RateBudget
from fanvue.tokens import TokenProvider

logger = logging.getLogger(__name__)


class AgencyClient:
    """Talks to Fanvue for one agency member: the user's own budget, plus one budget per creator."""

    def __init__(
        self,
        base_url: str,
        token_provider: TokenProvider,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 10.0,
        budget: RateBudget | None = None,
        creator_budgets: Callable[[str], RateBudget] | None = None,
        session: requests.Session | None = None,
        read_retries: int = 3,
        max_rate_limit_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # The transport (token refresh, retries, 429 waits, error mapping) is FanvueClient's own.
        self._api = FanvueClient(
            base_url,
            token_provider,
            api_version=api_version,
            timeout=timeout,
            budget=budget,
            session=session,
            read_retries=read_retries,
            max_rate_limit_retries=max_rate_limit_retries,
            sleep=sleep,
        )
        # Each creator's budget has the user's limit and window unless `creator_budgets(creator)` says else.
        user = self._api._budget
        self._budgets = BudgetBook(
            creator_budgets or (lambda creator: RateBudget(user.limit, user.window, sleep=sleep))
        )

    def __repr__(self) -> str:
        return f"AgencyClient({self._api.base_url!r}, api_version={self._api.api_version!r})"

    def __enter__(self) -> AgencyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._api.close()

    def budget_for(self, creator_uuid: str) -> RateBudget:
        """The budget of one creator's routes (Fanvue counts `/creators/{creator}/...` per creator)."""
        return self._budgets.get(creator_uuid)

    def creator(self, creator_uuid: str) -> CreatorView:
        """The calls that act for one managed creator."""
        _segment(creator_uuid)
        return CreatorView(self, creator_uuid)

    # --- agency-wide -------------------------------------------------------------------------------

    def media(self, creator_uuid: str) -> MediaClient:
        """The creator's media as the agency reaches it (`/creators/{creator}/media`; no vault folders or
        templates), on the creator's budget."""
        return MediaClient(self._api, creator_uuid=creator_uuid, budget=self.budget_for(creator_uuid))

    def me(self) -> Me:
        return self._api.me()

    def creators(self, page_size: int = MAX_PAGE_SIZE) -> Iterator[Creator]:
        """Every creator the member manages, page after page."""
        for i, item in enumerate(self._pages("/creators", page_size)):
            yield Creator.from_api(item, f"creators[{i}]")

    def agency_chats(
        self, page_size: int = MAX_PAGE_SIZE, *, since: datetime | None = None
    ) -> Iterator[CreatorChat]:
        """Every creator's chat rows, most recent activity first; agency admins only.

        With `since`, stops at the first row whose last message is older (or absent): the order makes every
        later row older still. A caller may also stop by leaving the loop; no further page is fetched.
        """
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be a timezone-aware datetime (Fanvue's times are UTC)")
        try:
            for i, item in enumerate(self._pages("/agencies/chats", page_size)):
                row = CreatorChat.from_api(item, f"agencies/chats[{i}]")
                if since is not None and (row.last_message_at is None or row.last_message_at < since):
                    return
                yield row
        except MissingScopeError as exc:
            raise AgencyAdminRequired(
                f"{exc.message}: the agency-wide chat list needs an agency admin login with read:agency",
                **exc.request_details(),
            ) from exc

    # --- one creator -------------------------------------------------------------------------------

    def creator_chats(self, creator_uuid: str, page_size: int = MAX_PAGE_SIZE) -> Iterator[CreatorChat]:
        """Every chat row of one creator; the order of rows is not documented, so do not stop early on it."""
        path = f"/creators/{_segment(creator_uuid)}/chats"
        with _reaching(creator_uuid, missing_means_creator=True):
            for i, item in enumerate(self._pages(path, page_size, self.budget_for(creator_uuid))):
                yield CreatorChat.from_api(item, f"chats[{i}]", creator_uuid=creator_uuid)

    def messages(self, creator_uuid: str, fan_uuid: str, *, size: int = 15, page: int = 1) -> list[Message]:
        """One page of a creator's chat with a fan, newest first; never marks the chat read."""
        path = f"/creators/{_segment(creator_uuid)}/chats/{_segment(fan_uuid)}/messages"
        # markAsRead defaults to "true" on these routes too: reading must not hide a chat from the creator.
        params = {"page": page, "size": size, "markAsRead": "false"}
        with _reaching(creator_uuid):
            resp = self._api._request("GET", path, params=params, budget=self.budget_for(creator_uuid))
        items, _ = page_items(self._api._json(resp, f"GET {path}"), path)
        return [Message.from_api(item, f"messages[{i}]") for i, item in enumerate(items)]

    def send_message(
        self,
        creator_uuid: str,
        fan_uuid: str,
        text: str,
        *,
        price_cents: int | None = None,
        media_uuids: Sequence[str] = (),
    ) -> str:
        """Send as the creator and return the message uuid. Never retried once it may have reached Fanvue."""
        _check_message(text, price_cents, media_uuids)
        body: dict[str, object] = {"text": text}
        if price_cents is not None:
            body["price"] = price_cents
        if media_uuids:
            body["mediaUuids"] = list(media_uuids)
        path = f"/creators/{_segment(creator_uuid)}/chats/{_segment(fan_uuid)}/message"
        try:
            with _reaching(creator_uuid):
                resp = self._api._request(
                    "POST", path, json=body, send=(fan_uuid, text), budget=self.budget_for(creator_uuid)
                )
        except SendOutcomeUnknown as exc:
            exc.creator_uuid, exc.path = creator_uuid, path
            raise
        answer = self._api._json(resp, f"POST {path}")
        message_uuid = answer.get("messageUuid") if isinstance(answer, dict) else None
        if not isinstance(message_uuid, str):
            raise MalformedResponse(
                f"Fanvue accepted the message to {fan_uuid} of creator {creator_uuid} ({resp.status_code}) "
                "but its answer lacks messageUuid"
            )
        return message_uuid

    def earnings(self, creator_uuid: str) -> EarningsClient:
        """The creator's earnings (scopes read:creator, read:insights), counted in the creator's budget."""
        path = f"/creators/{_segment(creator_uuid)}/insights/earnings"
        return EarningsClient(
            self._api, path=path, budget=self.budget_for(creator_uuid), creator_uuid=creator_uuid
        )

    # --- paging ------------------------------------------------------------------------------------

    def _pages(self, path: str, page_size: int, budget: RateBudget | None = None) -> Iterator[dict]:
        size = max(1, min(page_size, MAX_PAGE_SIZE))
        for page in itertools.count(1):
            params = {"page": page, "size": size}
            resp = self._api._request("GET", path, params=params, budget=budget)
            items, has_more = page_items(self._api._json(resp, f"GET {path}"), f"GET {path} page {page}")
            yield from items
            if not has_more:
                return
            if not items:
                logger.warning(
                    "Fanvue said more rows follow page %d of %s but sent none; stopping", page, path
                )
                return


class CreatorView:
    """The calls of an AgencyClient bound to one creator, so a caller cannot mix two creators up."""

    def __init__(self, client: AgencyClient, creator_uuid: str) -> None:
        self.client = client
        self.creator_uuid = creator_uuid

    def __repr__(self) -> str:
        return f"CreatorView({self.creator_uuid!r})"

    def chats(self, page_size: int = MAX_PAGE_SIZE) -> Iterator[CreatorChat]:
        return self.client.creator_chats(self.creator_uuid, page_size)

    def media(self) -> MediaClient:
        return self.client.media(self.creator_uuid)

    def messages(self, fan_uuid: str, *, size: int = 15, page: int = 1) -> list[Message]:
        return self.client.messages(self.creator_uuid, fan_uuid, size=size, page=page)

    def send_message(
        self, fan_uuid: str, text: str, *, price_cents: int | None = None, media_uuids: Sequence[str] = ()
    ) -> str:
        return self.client.send_message(
            self.creator_uuid, fan_uuid, text, price_cents=price_cents, media_uuids=media_uuids
        )

    def earnings(self) -> EarningsClient:
        return self.client.earnings(self.creator_uuid)


@contextmanager
def _reaching(creator_uuid: str, *, missing_means_creator: bool = False) -> Iterator[None]:
    """Turn a 403 (and, where it can only mean the creator, a 404) into CreatorNotReachable."""
    # On a fan's routes a 404 is the chat being gone, as on the creator's own routes.
    caught = (MissingScopeError, NotFoundError) if missing_means_creator else (MissingScopeError,)
    try:
        yield
    except caught as exc:
        raise CreatorNotReachable(creator_uuid, exc) from exc
