"""Reading each creator's earnings on a schedule, so revenue can be credited to the message that earned it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fanvue.client import MAX_PAGE_SIZE, FanvueClient
from fanvue.earnings import EarningsClient
from fanvue.errors import FanvueError, MissingScopeError
from inbox.creators import AgencyCreatorClient, CreatorInbox
from inbox.services import Services
from store import earnings
from store.clock import utcnow
from store.db import Store, write

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_MINUTES = 30
# Lines can settle late; reading again from a little before the newest stored line costs only repeats,
# which are stored once.
OVERLAP = timedelta(days=2)
FIRST_READ = timedelta(days=90)  # how far back a creator's first read goes
MAX_PAGES = 200  # per creator and read: a runaway cursor stops here and the next read goes on from it


@dataclass
class EarningsReport:
    lines: int = 0  # lines read
    new: int = 0  # lines stored for the first time
    creators: int = 0  # creators read
    errors: dict[str, str] = field(default_factory=dict)  # creator -> why its read stopped


def read_creator(
    store: Store, client: EarningsClient, creator_uuid: str, now: datetime, *, page_size: int = MAX_PAGE_SIZE
) -> tuple[int, int]:
    """Read one creator's new lines, page by page; each page is stored with the cursor that follows it, so
    a read that stops half way goes on from there next time. Returns (lines read, lines new)."""
    state = earnings.read_state(store.db, creator_uuid)
    if state.cursor is not None:
        since, cursor = state.cursor_since, state.cursor
    else:
        since = state.newest - OVERLAP if state.newest is not None else now - FIRST_READ
        cursor = None
    read = new = 0
    for _ in range(MAX_PAGES):
        page = client.page(since=since, cursor=cursor, size=page_size)
        with write(store.db):
            new += earnings.store_lines(store.db, creator_uuid, page.lines)
            earnings.save_cursor(store.db, creator_uuid, page.next_cursor if page.lines else None, since)
        read += len(page.lines)
        if page.next_cursor is None or not page.lines:
            break
        cursor = page.next_cursor
    else:
        logger.warning(
            "Earnings of creator %s run past %d pages; the next read goes on", creator_uuid, MAX_PAGES
        )
    return read, new


def earnings_client(inbox: CreatorInbox) -> EarningsClient | None:
    """How `inbox`'s earnings are read: the creator's own /insights/earnings, or through the agency login
    that reaches it, /creators/{creator}/insights/earnings in that creator's rate budget."""
    client = inbox.client
    if isinstance(client, AgencyCreatorClient):
        return client.view.earnings()
    if isinstance(client, FanvueClient):
        return EarningsClient(client)
    return None


def read_earnings(svc: Services, now: datetime | None = None) -> EarningsReport:
    """Every served creator's new earnings lines. A creator whose read fails is in `errors` and the others
    are still read; a login lacking a scope is warned about once per read, however many creators it reaches."""
    report = EarningsReport()
    now = now or utcnow()
    scope_warned: set[int | None] = set()
    for inbox in svc.inboxes():
        client = earnings_client(inbox)
        if client is None:
            report.errors[inbox.handle] = f"no earnings read for a {type(inbox.client).__name__}"
            continue
        try:
            read, new = read_creator(svc.store, client, inbox.uuid, now)
        except MissingScopeError as exc:
            report.errors[inbox.handle] = str(exc)
            login = inbox.account_id
            if login not in scope_warned:
                scope_warned.add(login)
                logger.warning("Earnings not read (@%s): %s", inbox.handle, exc.message)
            continue
        except FanvueError as exc:
            report.errors[inbox.handle] = str(exc)
            logger.warning("Reading the earnings of @%s failed; the next read goes on: %s", inbox.handle, exc)
            continue
        report.creators += 1
        report.lines += read
        report.new += new
    return report


def scheduled_read(svc: Services, paused: Callable[[], bool] = lambda: False) -> None:
    """The scheduler's job: one read, any failure logged and the next read still due; none while the
    login is paused (`paused()`), as polling is."""
    if paused():
        return
    try:
        report = read_earnings(svc)
    except Exception:
        logger.exception("Reading earnings failed; the next read runs as scheduled")
        return
    logger.info(
        "Earnings read: %d lines from %d creators, %d new%s",
        report.lines,
        report.creators,
        report.new,
        f"; not read: {', '.join('@' + handle for handle in report.errors)}" if report.errors else "",
    )
