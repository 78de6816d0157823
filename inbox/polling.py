"""Polling several creators at once: each within its own login and budget, none waiting for another."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from fanvue.agency import AgencyClient
from fanvue.errors import (
    AgencyAdminRequired,
    CreatorNotReachable,
    FanvueError,
    MissingScopeError,
    NotFoundError,
)
from fanvue.models import Chat
from fanvue.oauth import LoginRequired
from inbox.creator_poll import CycleReport, poll_creator
from inbox.creators import AgencyCreatorClient, CreatorInbox
from inbox.desks import AccountLink, DeskBook
from inbox.poll_wait import settle_polls
from inbox.services import Services
from store import accounts
from store.clock import from_iso, to_iso

logger = logging.getLogger(__name__)

POLL_WORKERS = 8  # creators polled at once
# Longest a cycle waits for one creator; a slower one goes on in the background and is skipped by the next
# cycles until it is done, so a creator with thousands of chats or a 429 storm never holds up the others.
SLOW_CREATOR_SECONDS = 60.0
NOT_REACHABLE = (
    ":warning: The Fanvue login {account} cannot reach creator @{creator} ({reason}); its chats are not "
    "being fetched. The other creators are served as usual."
)


class Polls:
    """The pool creators are polled on, and the polls still running from an earlier cycle."""

    def __init__(self, workers: int = POLL_WORKERS, deadline: float = SLOW_CREATOR_SECONDS) -> None:
        self.deadline = deadline
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="creator-poll")
        self._running: dict[str, Future] = {}
        self._lock = threading.Lock()

    def start(self, key: str, job: Callable[[], object]) -> Future | None:
        """Run `job` for `key`, unless its poll of an earlier cycle still runs (None then)."""
        with self._lock:
            earlier = self._running.get(key)
            if earlier is not None and not earlier.done():
                return None
            future = self._pool.submit(job)
            self._running[key] = future
            return future

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def poll_all(svc: Services, book: DeskBook, report: CycleReport) -> None:
    """Every creator of every login that is not paused, concurrently; the slow ones are left running."""
    polls = book.polls
    started: dict[str, tuple[CreatorInbox, CycleReport, Future]] = {}
    admin_rows: dict[int | None, tuple[AccountLink, dict[str, list[Chat]], datetime | None]] = {}
    live = [link for link in book.links if link.watch is None or not link.watch.holds_polling()]
    for link in book.links:
        if link not in live:
            report.skipped[link.label.lstrip("@")] = "login needed"
    reading = _look_up(book, live)
    for link in [link for link in live if id(link) in reading]:
        live.remove(link)
        report.skipped[link.label.lstrip("@")] = "slow: reading the login in the background"
    for label, error in book.find(live).items():
        why = "login needed" if isinstance(error, LoginRequired) else f"Fanvue: {type(error).__name__}"
        report.skipped[label.lstrip("@")] = why
    # Creator logins' polls start first: an agency's chat list is read on this thread meanwhile.
    for link in sorted(live, key=lambda link: isinstance(link.client, AgencyClient)):
        link.creators_age += 1
        rows = _agency_rows(book, link) if isinstance(link.client, AgencyClient) else None
        if rows is not None:
            admin_rows[link.id] = (link, *rows)
        for inbox in book.creators_of(link):
            if not book.desk_of(inbox.handle).enabled or inbox.uuid in link.unreachable:
                continue
            creator_rows = None
            if isinstance(inbox.client, AgencyCreatorClient):
                creator_rows = rows[0].get(inbox.uuid, []) if rows is not None else None
            part = CycleReport()
            future = polls.start(inbox.uuid, _job(svc, book, link, inbox, part, creator_rows))
            if future is None:
                report.skipped[inbox.handle] = "still busy from an earlier cycle"
            else:
                started[inbox.uuid] = (inbox, part, future)
    # A creator waiting out Fanvue's 429s goes on in the background; the others' cards do not wait for it.
    futures = {future: inbox for inbox, _, future in started.values()}
    done = settle_polls(futures, book.rate_limited, polls.deadline)
    finished: set[str] = set()
    for uuid, (inbox, part, future) in started.items():
        if future not in done:
            report.skipped[inbox.handle] = "slow: still polling in the background"
            logger.warning("Creator @%s is slow to poll; the cycle goes on without it", inbox.handle)
            continue
        outcome = future.result()
        report.add(part)
        if outcome is None:
            finished.add(uuid)
        else:
            report.skipped[inbox.handle] = outcome
    for link in live:
        if link not in book.links:
            continue  # a second login of a user another account holds: merged into it
        if link.watch is not None:
            link.watch.after_cycle(link.dead)
        link.dead = None
    for link, by_creator, newest in admin_rows.values():
        _advance_watermark(book, link, by_creator, newest, finished)


def _look_up(book: DeskBook, live: list[AccountLink]) -> set[int]:
    """Read what find() needs from Fanvue (who a new login is, an agency's creator list) on the poll pool;
    the logins (their id()) still reading once the others are done (or held by a 429), or at the deadline.
    Those go on in the background and are skipped by this cycle."""
    futures: dict[Future, AccountLink] = {}
    reading: set[int] = set()
    for link in live:
        if not _needs_lookup(link):
            continue
        future = book.polls.start(f"look-up {id(link)}", functools.partial(_look_up_one, link))
        if future is None:
            reading.add(id(link))  # still reading since an earlier cycle
        else:
            futures[future] = link
    held = lambda link: link.budget is not None and link.budget.held()  # noqa: E731
    done = settle_polls(futures, held, book.polls.deadline)
    return reading | {id(link) for future, link in futures.items() if future not in done}


def _needs_lookup(link: AccountLink) -> bool:
    """Whether DeskBook.find must read Fanvue for this login: who it is, or an agency's creator list."""
    return link.me is None or link.list_due


def _look_up_one(link: AccountLink) -> None:
    """The reads of Fanvue DeskBook.find needs for this login, done ahead of it on the poll pool and outside
    the book's lock; what fails is kept for find to report."""
    try:
        if link.me is None:
            link.me = link.client.me()
        if link.list_due:
            link.read_creators()
    except FanvueError as exc:
        link.lookup_error = exc


def _job(
    svc: Services,
    book: DeskBook,
    link: AccountLink,
    inbox: CreatorInbox,
    part: CycleReport,
    rows: list[Chat] | None,
) -> Callable[[], str | None]:
    """One creator's poll; returns None when it finished, or why it did not."""

    def run() -> str | None:
        try:
            client = inbox.client
            if isinstance(client, AgencyCreatorClient):
                # Without the agency's rows: every row of the creator (these routes have no unread filter).
                read = rows if rows is not None else [row.chat for row in client.view.chats()]
                client.rows = read
                poll_creator(svc, inbox, part, rows=read)
            else:
                poll_creator(svc, inbox, part)
        except LoginRequired as exc:
            link.dead = exc  # the login's watch pauses it and says so once in its channel
            return "login needed"
        except (CreatorNotReachable, MissingScopeError, NotFoundError) as exc:
            _unreachable(book, link, inbox, exc)
            return "not reachable"
        except FanvueError as exc:
            logger.warning("Polling @%s failed this cycle: %s", inbox.handle, exc)
            return f"Fanvue: {type(exc).__name__}"
        return None

    return run


def _agency_rows(book: DeskBook, link: AccountLink) -> tuple[dict[str, list[Chat]], datetime | None] | None:
    """An agency admin's chat rows since the last cycle's newest, by creator; None for other members."""
    if link.admin is False or not isinstance(link.client, AgencyClient):
        return None
    account = accounts.get(book.store.db, link.id) if link.id is not None else None
    since = from_iso(account.watermark) if account is not None and account.watermark else None
    by_creator: dict[str, list[Chat]] = {}
    newest = since
    try:
        for row in link.client.agency_chats(since=since):
            by_creator.setdefault(row.creator_uuid, []).append(row.chat)
            if row.last_message_at is not None and (newest is None or row.last_message_at > newest):
                newest = row.last_message_at
    except AgencyAdminRequired:
        logger.info("%s is not an agency admin; polling each creator's chats instead", link.label)
        link.admin = False
        return None
    except LoginRequired as exc:
        link.dead = exc
        return {}, None
    except FanvueError as exc:
        logger.warning("Could not read the agency's chats with %s: %s", link.label, exc)
        return {}, None
    link.admin = True
    known = {c.uuid for c in link.creators}
    if any(uuid not in known for uuid in by_creator):
        link.creators_age = 10**6  # a creator joined the agency: read the list again
        book.find([link])
    return by_creator, newest


def _advance_watermark(
    book: DeskBook,
    link: AccountLink,
    by_creator: dict[str, list[Chat]],
    newest: datetime | None,
    finished: set[str],
) -> None:
    """Move the agency's watermark on, but never past a row of a creator whose poll did not finish: that
    row is read again next cycle (chat marks make the rows already handled cost nothing)."""
    if newest is None or link.id is None:
        return
    mark = newest
    polled = {i.uuid for i in book.creators_of(link) if book.desk_of(i.handle).enabled} - link.unreachable
    for creator_uuid, rows in by_creator.items():
        if creator_uuid in finished or creator_uuid not in polled:
            continue
        times = [row.last_message_at for row in rows if row.last_message_at is not None]
        if times:
            mark = min(mark, min(times))
    accounts.set_watermark(book.store.db, link.id, to_iso(mark))


def _unreachable(book: DeskBook, link: AccountLink, inbox: CreatorInbox, exc: FanvueError) -> None:
    """Reported once per creator (log and its channel); polled again once the creator list is read again."""
    link.unreachable.add(inbox.uuid)
    if not book.first_report(inbox.uuid):
        return
    logger.warning("%s cannot reach creator @%s: %s", link.label, inbox.handle, exc)
    text = NOT_REACHABLE.format(
        account=link.label, creator=inbox.handle, reason=f"Fanvue answered {exc.status}"
    )
    try:
        book.notify(inbox.channel or book.channel_for(inbox.handle), text)
    except Exception:
        logger.warning("Could not post the notice about @%s to Slack", inbox.handle, exc_info=True)
