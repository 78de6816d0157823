"""The poll cycle: unread Fanvue chats become drafts, drafts become Slack cards."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from drafting.base import StyleExample, is_personal
from fanvue.errors import FanvueError, NotFoundError
from fanvue.models import Chat, ChatMessages
from inbox import conversation as conv
from inbox.cards import PublishReport
from inbox.reconcile import reconcile_in_flight
from inbox.redraft import new_draft, save_redraft, style_examples
from inbox.services import Services
from store import audit, chats, drafts
from store.drafts import Draft, NewDraft

logger = logging.getLogger(__name__)

BATCH = 50
T = TypeVar("T")


@dataclass
class CycleReport:
    unread_chats: int = 0
    known: int = 0
    drafted: int = 0
    redrafted: int = 0
    superseded: int = 0
    troubled: int = 0
    reconciled: int = 0
    cards: PublishReport = field(default_factory=PublishReport)

    def summary(self) -> str:
        return (
            f"{self.unread_chats} unread chats: {self.drafted} new drafts, {self.redrafted} updated, "
            f"{self.known} unchanged, {self.superseded} answered in Fanvue, {self.troubled} with errors; "
            f"cards: {self.cards.posted} posted, {self.cards.updated} updated, "
            f"{self.cards.deferred} waiting for the next cycle, {self.cards.failed} not reachable"
        )


def run_cycle(svc: Services, *, max_posts: int = 30) -> CycleReport:
    """One pass; safe to run any number of times (one card per fan message)."""
    report = CycleReport()
    creator_uuid = svc.creator.get().uuid
    unread_fans: set[str] = set()
    to_draft: list[tuple[Chat, Draft | None]] = []
    for chat in svc.fanvue.unread_chats():
        report.unread_chats += 1
        unread_fans.add(chat.user.uuid)
        work = _triage(svc, chat, creator_uuid, report)
        if work is not None:
            to_draft.append(work)
    if to_draft:
        examples = style_examples(svc, creator_uuid)
        with ThreadPoolExecutor(
            max_workers=max(1, svc.draft_concurrency), thread_name_prefix="draft"
        ) as pool:
            for batch in _chunks(to_draft, BATCH):
                histories = _histories(svc, [chat.user.uuid for chat, _ in batch])
                composing = [
                    _compose(svc, pool, chat, histories.get(chat.user.uuid), examples, report)
                    for chat, _ in batch
                ]
                for (chat, open_draft), future in zip(batch, composing, strict=True):
                    if future is not None:
                        _save_draft(svc, chat, open_draft, future, report)
    _check_answered(svc, creator_uuid, unread_fans, report)
    report.reconciled = reconcile_in_flight(svc)
    report.cards = svc.cards.publish_due(max_posts)
    logger.info("Cycle done: %s", report.summary())
    return report


def _triage(
    svc: Services, chat: Chat, creator_uuid: str, report: CycleReport
) -> tuple[Chat, Draft | None] | None:
    """Decide from the chat row alone whether this chat needs its history read."""
    last = chat.last_message
    if last is None or last.uuid is None:
        return None
    fan_uuid = chat.user.uuid
    if chats.last_handled(svc.store.db, fan_uuid) == last.uuid:
        report.known += 1
        return None
    if last.sender_uuid == creator_uuid and is_personal(last.type):
        open_draft = drafts.open_for_fan(svc.store.db, fan_uuid)
        if open_draft is not None and open_draft.status != drafts.PENDING:
            return None  # a teammate's send is in flight; the next cycle looks again
        if open_draft is not None and drafts.supersede(
            svc.store.db, open_draft, from_status=drafts.PENDING, actor=audit.SCHEDULER
        ):
            report.superseded += 1
        chats.mark_handled(svc.store.db, fan_uuid, last.uuid)
        return None
    if drafts.find(svc.store.db, fan_uuid, last.uuid) is not None:
        report.known += 1
        chats.mark_handled(svc.store.db, fan_uuid, last.uuid)
        return None
    open_draft = drafts.open_for_fan(svc.store.db, fan_uuid)
    if open_draft is not None and open_draft.status != drafts.PENDING:
        return None  # a teammate's send is in flight; the next cycle looks again
    # The fan's message, or a broadcast or automatic message after the fan's: the history tells which
    # of the fan's messages waits for an answer.
    return chat, open_draft


def _histories(svc: Services, fan_uuids: list[str]) -> dict[str, ChatMessages]:
    try:
        return svc.fanvue.recent_messages(fan_uuids, limit=svc.history_size)
    except NotFoundError:
        # A Fanvue-compatible server without the batch endpoint: one read per chat still works.
        logger.warning(
            "Fanvue has no batch read of messages here; reading %d chats one by one", len(fan_uuids)
        )
        return {fan_uuid: _history(svc, fan_uuid) for fan_uuid in fan_uuids}
    except FanvueError as exc:
        logger.warning("Could not read the history of %d chats: %s", len(fan_uuids), exc)
        return {}


def _history(svc: Services, fan_uuid: str) -> ChatMessages:
    try:
        messages = svc.fanvue.messages(fan_uuid, size=min(svc.history_size, 50))
    except NotFoundError:
        return ChatMessages(user_uuid=fan_uuid, messages=[], has_more=False, error="not_found")
    except FanvueError as exc:
        return ChatMessages(user_uuid=fan_uuid, messages=[], has_more=False, error=str(exc))
    return ChatMessages(user_uuid=fan_uuid, messages=messages, has_more=False, error=None)


def _compose(
    svc: Services,
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
        new_draft, svc, chat.user, result.messages, chat.unread_messages_count, examples=examples
    )


def _save_draft(
    svc: Services,
    chat: Chat,
    open_draft: Draft | None,
    composing: Future[NewDraft | None],
    report: CycleReport,
) -> None:
    try:
        fresh = composing.result()
        if fresh is not None and open_draft is None:
            if drafts.create(svc.store.db, fresh) is not None:
                report.drafted += 1
        elif fresh is not None and open_draft and open_draft.fan_message_uuid != fresh.fan_message_uuid:
            if save_redraft(svc, open_draft, fresh, from_status=drafts.PENDING, actor=audit.SCHEDULER):
                report.redrafted += 1
    except (FanvueError, ValueError) as exc:
        logger.exception("Skipping the chat with %s this cycle: %s", chat.user.handle, exc)
        report.troubled += 1
        return
    last = chat.last_message
    if last is not None and last.uuid is not None:  # always: triage passes only chats with a newest message
        chats.mark_handled(svc.store.db, chat.user.uuid, last.uuid)


def _check_answered(svc: Services, creator_uuid: str, unread_fans: set[str], report: CycleReport) -> None:
    """Waiting cards whose chat is no longer unread: the creator may have answered in Fanvue."""
    waiting = [d for d in drafts.with_status(svc.store.db, drafts.PENDING) if d.fan_uuid not in unread_fans]
    for batch in _chunks(waiting, BATCH):
        histories = _histories(svc, [d.fan_uuid for d in batch])
        for draft in batch:
            result = histories.get(draft.fan_uuid)
            if result is None or result.error:
                continue
            answered = conv.since(draft, result.messages, creator_uuid).creator_answered
            if answered and drafts.supersede(
                svc.store.db, draft, from_status=drafts.PENDING, actor=audit.SCHEDULER
            ):
                report.superseded += 1


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
