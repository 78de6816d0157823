"""The naive baseline: every cycle reads every unread chat's history, one request per chat."""

from __future__ import annotations

from inbox.redraft import new_draft
from inbox.services import Services
from store import drafts


def naive_cycle(svc: Services, *, max_posts: int) -> int:
    """List the unread chats, read each one's history on its own, draft what is new; returns drafts made."""
    made = 0
    for chat in svc.fanvue.unread_chats():
        history = svc.fanvue.messages(chat.user.uuid, size=svc.history_size)
        fresh = new_draft(svc, chat.user, history, chat.unread_messages_count, inbox=svc.single_inbox())
        if fresh is not None and drafts.create(svc.store.db, fresh) is not None:
            made += 1
    svc.cards.publish_due(max_posts)
    return made
