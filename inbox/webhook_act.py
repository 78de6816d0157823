"""Acting on a stored webhook event: that one chat is read again and goes through the cycle's own steps."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from drafting.template import TemplateDrafter
from fanvue.errors import FanvueError
from fanvue.models import Chat, ChatMessages, User
from fanvue.webhooks import Event
from inbox.creator_poll import CycleReport, chat_lock, poll_chat
from inbox.creators import CreatorInbox
from inbox.redraft import fan_of, save_redraft
from inbox.services import Services
from inbox.webhook_chat import chat_row, coming_draft, read_chat
from inbox.webhook_watch import BURST_SECONDS
from store import audit, drafts, webhook_events
from store.clock import utcnow
from store.drafts import Draft, NewDraft
from store.webhook_events import StoredEvent

logger = logging.getLogger(__name__)

QUIET_SECONDS = 3.0  # an LLM draft waits until the fan has been quiet this long (BURST_SECONDS at most)
CHAT_WORKERS = 8  # chats acted on at once; one worker per chat at a time
TAKE_UP_BATCH = 500
READ_NOTICE = "👀 The chat was read in Fanvue at {time} UTC without an answer: the fan still waits."
WRITING = "✍️ The fan is writing more"
WRITING_NOTICE = (
    WRITING + " (since {time} UTC): this draft is rewritten with their new messages at {due} UTC."
)

Names = Callable[[str, str], User | None]  # (creator uuid, fan uuid) -> the fan as a delivery named them


@dataclass
class _ChatWork:
    """One chat's events not yet acted on, and when its LLM draft is due (a burst waiting to end)."""

    inbox: CreatorInbox
    fan_uuid: str
    events: list[StoredEvent] = field(default_factory=list)
    burst_started: float | None = None
    due: float | None = None


class WebhookActor:
    """`on_event(row id)` for the intake: serialised per chat, so two events of one chat never race.

    A burst is what a fan writes within `burst` seconds of the message that began it. With the template
    drafter that first message's card carries its draft at once; whatever follows within the burst is drafted
    once, when the burst is over (the card says so meanwhile, and Send finds the fan wrote again and
    redrafts): at most two drafts, and two card updates, per burst however the fan spaces the messages.
    Any other drafter is paid per draft: the card is posted at once saying a draft is coming, and the draft
    waits for `quiet` seconds without a new message (at most `burst` seconds after the first)."""

    def __init__(
        self,
        svc: Services,
        *,
        names: Names | None = None,
        quiet: float = QUIET_SECONDS,
        burst: float = BURST_SECONDS,
        workers: int = CHAT_WORKERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.svc = svc
        self.burst = burst
        self.quiet = min(quiet, burst)
        self._names = names or (lambda _creator, _fan: None)
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook-chat")
        self._cv = threading.Condition()
        self._chats: dict[tuple[str, str], _ChatWork] = {}
        self._unknown: set[str] = set()
        self._bursts: dict[tuple[str, str], float] = {}  # when a chat's template burst began, while it lasts
        self._closing = False

    # --- the intake's side -------------------------------------------------------------------------------

    def __call__(self, event_id: int) -> None:
        event = webhook_events.get(self.svc.store.db, event_id)
        if event is not None and event.handled_at is None:
            self._queue(event)

    def take_up(self) -> int:
        """Events a stop or crash left unhandled, oldest message first; how many were queued."""
        events = webhook_events.unhandled(self.svc.store.db, TAKE_UP_BATCH)
        for event in events:
            self._queue(event)
        if events:
            logger.info("Taking up %d webhook events left unhandled by the last run", len(events))
        return len(events)

    def idle(self, timeout: float = 10.0) -> bool:
        """True once no chat has work queued or running (tests and benchmarks wait on it)."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._chats, timeout)

    def close(self) -> None:
        """Finish what runs now; a burst still waiting is drafted at once (the cycle would, else)."""
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        self._pool.shutdown(wait=True)

    def _queue(self, event: StoredEvent) -> None:
        inbox = self._inbox(event.recipient_uuid)
        if inbox is None:
            self._ignore(event)
            return
        key = (inbox.uuid, event.fan_uuid)
        with self._cv:
            work = self._chats.get(key)
            start = work is None
            if work is None:
                work = self._chats[key] = _ChatWork(inbox, event.fan_uuid)
            work.events.append(event)
            self._cv.notify_all()
        if start:
            try:
                self._pool.submit(self._work, key)
            except RuntimeError:
                logger.info("Webhook event %d stays stored unhandled: the app is stopping", event.id)
                with self._cv:
                    self._chats.pop(key, None)

    def _inbox(self, creator_uuid: str) -> CreatorInbox | None:
        try:
            if self.svc.desk is not None:
                return self.svc.desk.inbox_for(creator_uuid)
            inbox = self.svc.single_inbox()
        except FanvueError as exc:
            logger.warning(
                "Cannot tell which creator a webhook is for now (%s); the cycle reads the chats", exc
            )
            return None
        return inbox if inbox.uuid == creator_uuid else None

    def _ignore(self, event: StoredEvent) -> None:
        if event.recipient_uuid not in self._unknown:
            self._unknown.add(event.recipient_uuid)
            logger.warning(
                "Ignoring webhook events for creator %s: the app serves no such creator", event.recipient_uuid
            )
        webhook_events.mark_handled(self.svc.store.db, event.id, utcnow())

    # --- one chat's worker -------------------------------------------------------------------------------

    def _work(self, key: tuple[str, str]) -> None:
        while True:
            with self._cv:
                work = self._chats[key]
                while not work.events and work.due is not None and not self._closing:
                    left = work.due - self._clock()
                    if left <= 0:
                        break
                    self._cv.wait(left)
                events, work.events = work.events, []
                if not events and work.due is None:
                    del self._chats[key]
                    self._cv.notify_all()
                    return
                draft_now = not events
                if draft_now:
                    work.due = work.burst_started = None
            try:
                self._act(work, events, draft_now)
            except Exception:
                # A failure is logged in full; the events stay unhandled and the next cycle finds the chat.
                logger.exception("Acting on webhook events for a chat of @%s failed", work.inbox.handle)

    def _act(self, work: _ChatWork, events: list[StoredEvent], draft_now: bool) -> None:
        inbox, fan_uuid, db = work.inbox, work.fan_uuid, self.svc.store.db
        received = any(e.kind == Event.MESSAGE_RECEIVED.value for e in events)
        template = isinstance(inbox.drafter, TemplateDrafter)
        began = self._burst_began((inbox.uuid, fan_uuid)) if template and received and not draft_now else None
        if began is not None:
            self._hold_to_burst_end(work, began)  # the card has the burst's first draft; the rest wait
            self._handled(events)
            return
        fan = self._fan(inbox.uuid, fan_uuid)
        if fan is None:
            logger.info("A webhook names a fan the app has no name for yet; the next cycle reads that chat")
            self._handled(events)
            return
        history = read_chat(self.svc, inbox, fan_uuid)
        if history.error:
            logger.warning("Could not read a chat of @%s after a webhook: %s", inbox.handle, history.error)
            return  # unhandled: the cycle reads the chat, the next start takes the events up
        chat = chat_row(fan, history.messages, inbox.uuid)
        if chat is None:
            self._handled(events)
            return
        report = CycleReport()
        before = drafts.open_for_fan(db, fan_uuid, inbox.uuid)
        if draft_now or not received or template:
            poll_chat(self.svc, inbox, chat, history, report)
            if template and received and not draft_now:
                with self._cv:
                    self._bursts[(inbox.uuid, fan_uuid)] = self._clock()
        else:
            hold = poll_chat(self.svc, inbox, chat, history, report, hold=self._coming(inbox, history))
            if hold is not None:
                self._wait_for_quiet(work)
        if not received and not draft_now:
            self._note_read(inbox, before, events)
        if draft_now and template:
            self._writing_over(inbox, fan_uuid)
        self._publish(inbox.uuid, fan_uuid)
        self._handled(events)

    def _coming(
        self, inbox: CreatorInbox, history: ChatMessages
    ) -> Callable[[Chat, Draft | None], int | None]:
        """Show the fan's messages on the card at once, with a draft to follow (no Send yet)."""

        def hold(chat: Chat, open_draft: Draft | None) -> int | None:
            new = coming_draft(inbox, chat.user, history.messages)
            if new is None:
                return None
            with chat_lock(inbox.uuid, chat.user.uuid):
                return save_coming(new, drafts.open_for_fan(self.svc.store.db, chat.user.uuid, inbox.uuid))

        def save_coming(new: NewDraft, open_draft: Draft | None) -> int | None:
            if open_draft is None:
                saved = drafts.create(self.svc.store.db, new)
                return saved.id if saved is not None else None
            if new.fan_message_at < open_draft.fan_message_at:
                return None  # a late read: the card already shows a newer message
            if open_draft.drafted_by == drafts.COMING and open_draft.fan_message_uuid == new.fan_message_uuid:
                return open_draft.id
            saved = save_redraft(self.svc, open_draft, new, from_status=drafts.PENDING, actor=audit.SCHEDULER)
            return saved.id if saved is not None else None

        return hold

    def _burst_began(self, key: tuple[str, str]) -> float | None:
        """When this chat's burst began (its first message drafted at once), while it lasts; else None."""
        now = self._clock()
        with self._cv:
            for over in [k for k, at in self._bursts.items() if now - at >= self.burst]:
                del self._bursts[over]
            return self._bursts.get(key)

    def _hold_to_burst_end(self, work: _ChatWork, began: float) -> None:
        """The burst's later messages are drafted together once it is over; the card says so meanwhile."""
        with self._cv:
            first = work.due is None
            work.due = began + self.burst
            left = work.due - self._clock()
        if not first:
            return
        draft = drafts.open_for_fan(self.svc.store.db, work.fan_uuid, work.inbox.uuid)
        if draft is None or draft.status != drafts.PENDING:
            return
        now = utcnow()
        due = now + timedelta(seconds=max(0.0, left))
        notice = WRITING_NOTICE.format(time=now.strftime("%H:%M:%S"), due=due.strftime("%H:%M:%S"))
        if drafts.set_notice(self.svc.store.db, draft, notice):
            self.svc.cards.publish(draft.id)

    def _writing_over(self, inbox: CreatorInbox, fan_uuid: str) -> None:
        """The burst is over with nothing new to draft (a late delivery of an older message, say): the card
        no longer says that a new draft is coming."""
        draft = drafts.open_for_fan(self.svc.store.db, fan_uuid, inbox.uuid)
        if draft is not None and draft.status == drafts.PENDING and (draft.notice or "").startswith(WRITING):
            drafts.set_notice(self.svc.store.db, draft, "")

    def _wait_for_quiet(self, work: _ChatWork) -> None:
        with self._cv:
            now = self._clock()
            if work.burst_started is None:
                work.burst_started = now
            work.due = min(now + self.quiet, work.burst_started + self.burst)

    def _note_read(self, inbox: CreatorInbox, before: Draft | None, events: list[StoredEvent]) -> None:
        """A read in Fanvue without an answer: the card says so, and still waits for the team."""
        if before is None:
            return
        now = drafts.get(self.svc.store.db, before.id)
        if now is None or now.status != drafts.PENDING or now.version != before.version:
            return  # answered in Fanvue (superseded) or redrafted: the card says that already
        notice = READ_NOTICE.format(time=utcnow().strftime("%H:%M"))
        drafts.set_notice(self.svc.store.db, now, notice)

    def _publish(self, creator_uuid: str, fan_uuid: str) -> None:
        for draft in drafts.cards_to_publish(self.svc.store.db):
            if draft.creator_uuid == creator_uuid and draft.fan_uuid == fan_uuid:
                self.svc.cards.publish(draft.id)

    def _handled(self, events: Sequence[StoredEvent]) -> None:
        now = utcnow()
        for event in events:
            webhook_events.mark_handled(self.svc.store.db, event.id, now)

    def _fan(self, creator_uuid: str, fan_uuid: str) -> User | None:
        """The fan as the delivery named them, else as the last card showed them."""
        named = self._names(creator_uuid, fan_uuid)
        if named is not None:
            return named
        rows = list(
            self.svc.store.db.query(
                "SELECT id FROM drafts WHERE creator_uuid = ? AND fan_uuid = ? ORDER BY id DESC LIMIT 1",
                [creator_uuid, fan_uuid],
            )
        )
        draft = drafts.get(self.svc.store.db, rows[0]["id"]) if rows else None
        return fan_of(draft) if draft is not None else None
