"""Fan context for the waiting cards, read during each creator's poll without ever holding a card back."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from fanvue.client import FanvueClient
from fanvue.insights import INSIGHTS_SCOPES, InsightsClient
from inbox.creators import AgencyCreatorClient, CreatorInbox
from inbox.fan_context import RefreshReport, refresh_context
from store import accounts, drafts
from store.clock import from_iso, to_iso, utcnow
from store.db import write
from store.fan_context import DEFAULT_TTL_MINUTES

if TYPE_CHECKING:
    from inbox.services import Services

logger = logging.getLogger(__name__)

# Longest a creator's poll waits for its fans' context (a healthy Fanvue answers for 500 fans well within it);
# a slower read goes on in the background, the cards are posted without it and shown again once it is stored.
CONTEXT_WAIT_SECONDS = 1.0
MAX_FANS_PER_CYCLE = 500  # waiting cards (oldest first) whose fans' context one cycle may read per creator
AGENCY = "agency"
NO_SCOPE = "scope"
AGENCY_NOTICE = (
    ":information_source: Cards of @{creator} show only what the chat says about a fan (top spender): "
    "Fanvue gives agency logins no fan insights. To see each fan's status, spending and renewal on the cards, "
    "log in with @{creator}'s own creator account too: `python app.py login`."
)
SCOPE_NOTICE = (
    ":information_source: Cards of @{creator} show only what the chat says about a fan (top spender): this "
    "Fanvue login may not read fan insights ({scopes}). To see each fan's status, spending and renewal on "
    "the cards, log in again: `python app.py login`."
)


@dataclass
class CardContext:
    """Fan context settings and the reads still running, shared by every creator's poll."""

    ttl: timedelta = timedelta(minutes=DEFAULT_TTL_MINUTES)
    wait: float = CONTEXT_WAIT_SECONDS
    enabled: bool = True  # off: cards carry only the chat row's flag (the benchmark's baseline)
    # (channel or None for the default one, text): a notice in a creator's channel.
    announce: Callable[[CreatorInbox, str], object] | None = None
    _running: dict[str, threading.Thread] = field(default_factory=dict)
    _clients: dict[int, InsightsClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def insights(self, client: FanvueClient) -> InsightsClient:
        with self._lock:  # one per login: it remembers whether Fanvue has the batch route
            return self._clients.setdefault(id(client), InsightsClient(client))


def refresh_for_cards(svc: Services, inbox: CreatorInbox) -> None:
    """Read the context of the fans of the creator's waiting cards, waiting at most `wait` seconds for it.

    Never raises: without context a card is posted as it is and shown again when its context is stored.
    Agency logins and logins without the scopes read nothing, and the creator's channel is told once.
    """
    ctx: CardContext = svc.card_context
    if not ctx.enabled:
        return
    try:
        if isinstance(inbox.client, AgencyCreatorClient):
            _tell_once(svc, inbox, AGENCY, AGENCY_NOTICE.format(creator=inbox.handle))
            return
        if not isinstance(inbox.client, FanvueClient) or not _may_try(svc, inbox):
            return
        fans = [
            row[0]
            for row in svc.store.db.execute(
                "SELECT fan_uuid FROM drafts WHERE creator_uuid = ? AND status = ? ORDER BY waiting_since "
                "LIMIT ?",
                [inbox.uuid, drafts.PENDING, MAX_FANS_PER_CYCLE],
            ).fetchall()
        ]
        if not fans:
            return
        with ctx._lock:
            earlier = ctx._running.get(inbox.uuid)
            if earlier is not None and earlier.is_alive():
                return  # the last cycle's read is still going; it shows its cards again when done
            reader = threading.Thread(
                target=_read, args=(svc, inbox, fans), name=f"context-{inbox.handle}", daemon=True
            )
            ctx._running[inbox.uuid] = reader
            reader.start()
        reader.join(ctx.wait)
    except Exception:
        logger.exception("Fan context of @%s not read this cycle", inbox.handle)


def _read(svc: Services, inbox: CreatorInbox, fans: list[str]) -> None:
    ctx: CardContext = svc.card_context
    assert isinstance(inbox.client, FanvueClient)  # checked by the caller
    try:
        report: RefreshReport = refresh_context(
            svc.store.db, ctx.insights(inbox.client), inbox.uuid, fans, ctx.ttl, utcnow()
        )
        if report.missing_scope:
            _remember_missing(svc, inbox)
            _tell_once(svc, inbox, NO_SCOPE, _scope_notice(inbox))
    except Exception:
        logger.exception("Fan context of @%s not read this cycle", inbox.handle)


def _may_try(svc: Services, inbox: CreatorInbox) -> bool:
    """False when the login is known to lack the scopes: by its stored grant, or by Fanvue's refusal within
    the TTL (a static token's grant is not known; a new login may bring the scopes)."""
    account = accounts.get(svc.store.db, inbox.account_id) if inbox.account_id is not None else None
    if account is not None and account.scope.strip():
        granted = set(account.scope.split())
        if not granted.issuperset(INSIGHTS_SCOPES):
            _tell_once(svc, inbox, NO_SCOPE, _scope_notice(inbox))
            return False
        return True
    row = svc.store.db.execute(
        "SELECT checked_at FROM fan_context_notices WHERE creator_uuid = ? AND reason = ?",
        [inbox.uuid, NO_SCOPE],
    ).fetchone()
    return row is None or utcnow() - from_iso(row[0]) >= svc.card_context.ttl


def _scope_notice(inbox: CreatorInbox) -> str:
    return SCOPE_NOTICE.format(creator=inbox.handle, scopes=" and ".join(INSIGHTS_SCOPES))


def _remember_missing(svc: Services, inbox: CreatorInbox) -> None:
    with write(svc.store.db):
        svc.store.db.execute(
            "INSERT INTO fan_context_notices (creator_uuid, reason, checked_at) VALUES (?, ?, ?) "
            "ON CONFLICT (creator_uuid) DO UPDATE SET checked_at = excluded.checked_at",
            [inbox.uuid, NO_SCOPE, to_iso(utcnow())],
        )


def _tell_once(svc: Services, inbox: CreatorInbox, reason: str, text: str) -> None:
    """Post the notice in the creator's channel unless it was posted before (kept in the database, so a
    restart does not repeat it); when Slack does not take it, the next cycle tries again."""
    db, now = svc.store.db, to_iso(utcnow())
    told = db.execute(
        "SELECT told_at FROM fan_context_notices WHERE creator_uuid = ?", [inbox.uuid]
    ).fetchone()
    if told is not None and told[0] is not None:
        return
    announce = svc.card_context.announce
    if announce is None:
        return
    try:
        announce(inbox, text)
    except Exception:
        logger.warning(
            "Could not post the fan context notice about @%s to Slack", inbox.handle, exc_info=True
        )
        return
    logger.info("Fan context of @%s is limited: %s", inbox.handle, reason)
    with write(db):
        db.execute(
            "INSERT INTO fan_context_notices (creator_uuid, reason, told_at, checked_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (creator_uuid) DO UPDATE SET told_at = excluded.told_at",
            [inbox.uuid, reason, now, now],
        )
