"""One creator's part of a poll cycle: its waiting chats become drafts, answered cards close."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import TypeVar

from drafting.base import StyleExample, is_personal
from fanvue.errors import FanvueError, NotFoundError
from fanvue.models import Chat, ChatMessages
from inbox import conversation as conv
from inbox import webhook_watch
from inbox.card_context import refresh_for_cards
from inbox.cards import PublishReport
from inbox.creators import AgencyCreatorClient, CreatorInbox
from inbox.redraft import new_draft, save_redraft, style_examples
from inbox.services import Services
from store import audit, chats, drafts
from store.drafts import Draft, NewDraft

logger = logging.getLogger(__name__)

BATCH = 50
T = TypeVar("T")
# Saving a chat's draft holds one of these (by creator and fan): the cycle and a webhook may draft one chat at
# the same moment, and the second must see the first's card rather than open another.
_CHAT_LOCKS = [threading.Lock() for _ in range(64)]


def chat_lock(creator_uuid: str, fan_uuid: str) -> threading.Lock:
    return _CHAT_LOCKS[hash((creator_uuid, fan_uuid)) % len(_CHAT_LOCKS)]


@dataclass
class CycleReport:
    unread_chats: int = 0
    known: int = 0
    drafted: int = 0
    redrafted: int = 0
    superseded: int = 0
    troubled: int = 0
    reconciled: int = 0
    # New drafts for fan messages no stored webhook event announced (only counted while webhooks arrive).
    unannounced: int = 0
    cards: PublishReport = field(default_factory=PublishReport)
    # Creators not served this cycle, by handle, with why (paused login, unreachable, slow, busy).
    skipped: dict[str, str] = field(default_factory=dict)

    def add(self, other: CycleReport) -> None:
        """Count another creator's part of the same cycle in."""
        for f in fields(self):
            if isinstance(getattr(self, f.name), int):
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def summary(self) -> str:
        text = (
            f"{self.unread_chats} unread chats: {self.drafted} new drafts, {self.redrafted} updated, "
            f"{self.known} unchanged, {self.superseded} answered in Fanvue, {self.troubled} with errors; "
            f"cards: {self.cards.posted} posted, {self.cards.updated} updated, "
            f"{self.cards.deferred} waiting for the next cycle, {self.cards.failed} not reachable"
        )
        if self.unannounced:
            text += f"; {self.unannounced} found that no webhook announced"
        if self.skipped:
            text += "; not polled: " + ", ".join(f"@{h} ({why})" for h, why in sorted(self.skipped.items()))
        return text


def poll_creator(
    svc: Services, inbox: CreatorInbox, report: CycleReport, *, rows: Iterable[Chat] | None = None
) -> None:
    """Draft replies for the creator's waiting chats.

    Creator logins list unread chats (and later read the history of waiting cards to see whether the creator
    answered). Agency logins hand in the chat rows they read (`rows`): the waiting ones are those with unread
    messages, and a row whose newest message is the creator's closes the fan's waiting card on its own.
    """
    unread_fans: set[str] = set()
    to_draft: list[tuple[Chat, Draft | None]] = []
    waiting = (
        inbox.client.unread_chats() if rows is None else [r for r in rows if r.unread_messages_count > 0]
    )
    for chat in waiting:
        report.unread_chats += 1
        unread_fans.add(chat.user.uuid)
        work = _triage(svc, inbox, chat, report)
        if work is not None:
            to_draft.append(work)
    if to_draft:
        draft_chats(svc, inbox, to_draft, report)
    if rows is None:
        _check_answered(svc, inbox, unread_fans, report)
    else:
        for row in rows:
            if row.user.uuid not in unread_fans:
                _triage(svc, inbox, row, report, count_known=False)
    refresh_for_cards(svc, inbox)  # fan context for the waiting cards: bounded wait, never raises


def poll_chat(
    svc: Services,
    inbox: CreatorInbox,
    chat: Chat,
    history: ChatMessages,
    report: CycleReport,
    *,
    hold: Callable[[Chat, Draft | None], int | None] | None = None,
) -> int | None:
    """One chat through the cycle's own steps (triage, draft, save), its history already read: what a
    webhook leads to. `hold` takes a chat that needs a draft instead of drafting it now. The id of the
    draft whose card changed, or None."""
    work = _triage(svc, inbox, chat, report)
    if work is None:
        return None
    if hold is not None:
        return hold(*work)
    saved = draft_chats(svc, inbox, [work], report, histories={chat.user.uuid: history})
    return saved[0] if saved else None


def draft_chats(
    svc: Services,
    inbox: CreatorInbox,
    to_draft: Sequence[tuple[Chat, Draft | None]],
    report: CycleReport,
    *,
    histories: dict[str, ChatMessages] | None = None,
) -> list[int]:
    """Read the chats' histories (unless given), draft on a pool, save: the ids of the drafts saved."""
    saved: list[int] = []
    examples = style_examples(svc, inbox.uuid)
    with ThreadPoolExecutor(max_workers=max(1, svc.draft_concurrency), thread_name_prefix="draft") as pool:
        for batch in _chunks(to_draft, BATCH):
            read = (
                histories
                if histories is not None
                else _histories(svc, inbox, [c.user.uuid for c, _ in batch])
            )
            composing = [
                _compose(svc, inbox, pool, chat, read.get(chat.user.uuid), examples, report)
                for chat, _ in batch
            ]
            for (chat, open_draft), future in zip(batch, composing, strict=True):
                if future is not None:
                    draft_id = _save_draft(
                        svc, inbox, chat, open_draft, future, report, via_webhook=histories is not None
                    )
                    if draft_id is not None:
                        saved.append(draft_id)
    return saved


def _triage(
    svc: Services, inbox: CreatorInbox, chat: Chat, report: CycleReport, *, count_known: bool = True
) -> tuple[Chat, Draft | None] | None:
    """Decide from the chat row alone whether this chat needs its history read."""
    last = chat.last_message
    if last is None or last.uuid is None:
        return None
    db, creator_uuid, fan_uuid = svc.store.db, inbox.uuid, chat.user.uuid
    if chats.last_handled(db, fan_uuid, creator_uuid) == last.uuid:
        report.known += count_known
        return None
    if last.sender_uuid == creator_uuid and is_personal(last.type):
        open_draft = drafts.open_for_fan(db, fan_uuid, creator_uuid)
        if open_draft is not None and open_draft.status != drafts.PENDING:
            return None  # a teammate's send is in flight; the next cycle looks again
        if open_draft is not None and drafts.supersede(
            db, open_draft, from_status=drafts.PENDING, actor=audit.SCHEDULER
        ):
            report.superseded += 1
        chats.mark_handled(db, fan_uuid, last.uuid, creator_uuid)
        return None
    if not count_known:
        return None  # a read row that does not end in the creator's answer: nothing to do
    found = drafts.find(db, fan_uuid, last.uuid, creator_uuid)
    if found is not None and not (found.status == drafts.PENDING and found.drafted_by == drafts.COMING):
        report.known += 1
        chats.mark_handled(db, fan_uuid, last.uuid, creator_uuid)
        return None
    open_draft = drafts.open_for_fan(db, fan_uuid, creator_uuid)
    if open_draft is not None and open_draft.status != drafts.PENDING:
        return None  # a teammate's send is in flight; the next cycle looks again
    # The fan's message, or a broadcast or automatic message after the fan's: the history tells which
    # of the fan's messages waits for an answer.
    return chat, open_draft


def _histories(svc: Services, inbox: CreatorInbox, fan_uuids: list[str]) -> dict[str, ChatMessages]:
    try:
        return inbox.client.recent_messages(fan_uuids, limit=svc.history_size)
    except NotFoundError:
        # A server without the batch endpoint, or an agency login: one read per chat still works.
        if not isinstance(inbox.client, AgencyCreatorClient):
            logger.warning(
                "Fanvue has no batch read of messages here; reading %d chats one by one", len(fan_uuids)
            )
        return {fan_uuid: _history(svc, inbox, fan_uuid) for fan_uuid in fan_uuids}
    except FanvueError as exc:
        logger.warning("Could not read the history of %d chats: %s", len(fan_uuids), exc)
        return {}


def _history(svc: Services, inbox: CreatorInbox, fan_uuid: str) -> ChatMessages:
    try:
        messages = inbox.client.messages(fan_uuid, size=min(svc.history_size, 50))
    except NotFoundError:
        return ChatMessages(user_uuid=fan_uuid, messages=[], has_more=False, error="not_found")
    except FanvueError as exc:
        return ChatMessages(user_uuid=fan_uuid, messages=[], has_more=False, error=str(exc))
    return ChatMessages(user_uuid=fan_uuid, messages=messages, has_more=False, error=None)


def _compose(
    svc: Services,
    inbox: CreatorInbox,
    pool: ThreadPoolExecutor,
    chat: Chat,
    result: ChatMessages | None,
    examples: tuple[StyleExample, ...],
    report: CycleReport,
) -> Future[NewDraft | None] | None:
    """Start drafting on the pool; drafting reads nothing from the database, so only writes wait."""
    if result is None or result.error:
        reason = result.error if result is not None else "no answer"
        logger.warning("Skipping the chat with %s this cycle: %s", chat.user.handle, reason)
        report.troubled += 1
        return None
    return pool.submit(
        new_draft, svc, chat.user, result.messages, chat.unread_messages_count, examples=examples, inbox=inbox
    )


def _save_draft(
    svc: Services,
    inbox: CreatorInbox,
    chat: Chat,
    open_draft: Draft | None,
    composing: Future[NewDraft | None],
    report: CycleReport,
    *,
    via_webhook: bool = False,
) -> int | None:
    """Save the draft; the id of the draft saved, or None."""
    saved: Draft | None = None
    try:
        fresh = composing.result()
        with chat_lock(inbox.uuid, chat.user.uuid):
            saved = _save(svc, inbox, chat, open_draft, fresh, report)
    except (FanvueError, ValueError) as exc:
        logger.exception("Skipping the chat with %s this cycle: %s", chat.user.handle, exc)
        report.troubled += 1
        return None
    if chat.last_message is not None and chat.last_message.uuid is not None:  # triage saw both
        chats.mark_handled(svc.store.db, chat.user.uuid, chat.last_message.uuid, inbox.uuid)
    if saved is not None and not via_webhook and webhook_watch.unannounced(svc.store.db, saved):
        report.unannounced += 1
        logger.info("The cycle found a message of @%s's fan that no webhook announced", inbox.handle)
    return saved.id if saved is not None else None


def _save(
    svc: Services,
    inbox: CreatorInbox,
    chat: Chat,
    open_draft: Draft | None,
    fresh: NewDraft | None,
    report: CycleReport,
) -> Draft | None:
    """Under the chat's lock: a new card, or a newer draft on the card as it is now (a webhook or the cycle
    may have opened or changed it since triage)."""
    if fresh is None:
        return None
    open_draft = drafts.open_for_fan(svc.store.db, chat.user.uuid, inbox.uuid) or open_draft
    if open_draft is None:
        saved = drafts.create(svc.store.db, fresh)
        report.drafted += saved is not None
        return saved
    if not _newer(fresh, open_draft):
        return None
    saved = save_redraft(svc, open_draft, fresh, from_status=drafts.PENDING, actor=audit.SCHEDULER)
    report.redrafted += saved is not None and open_draft.drafted_by != drafts.COMING
    return saved


def _newer(fresh: NewDraft, open_draft: Draft) -> bool:
    """A draft for another fan message, never an older one than the card shows (deliveries and reads race),
    or the draft a "draft coming" card waits for."""
    if open_draft.drafted_by == drafts.COMING:
        return fresh.fan_message_at >= open_draft.fan_message_at
    return (
        fresh.fan_message_uuid != open_draft.fan_message_uuid
        and fresh.fan_message_at >= open_draft.fan_message_at
    )


def _check_answered(svc: Services, inbox: CreatorInbox, unread_fans: set[str], report: CycleReport) -> None:
    """Waiting cards whose chat is no longer unread: the creator may have answered in Fanvue."""
    creator = inbox.uuid if svc.desk is not None else None
    pending = drafts.with_status(svc.store.db, drafts.PENDING, creator_uuid=creator)
    waiting = [d for d in pending if d.fan_uuid not in unread_fans]
    for batch in _chunks(waiting, BATCH):
        histories = _histories(svc, inbox, [d.fan_uuid for d in batch])
        for draft in batch:
            result = histories.get(draft.fan_uuid)
            if result is None or result.error:
                continue
            answered = conv.since(draft, result.messages, inbox.uuid).creator_answered
            if answered and drafts.supersede(
                svc.store.db, draft, from_status=drafts.PENDING, actor=audit.SCHEDULER
            ):
                report.superseded += 1


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
