"""The collaborators the workflow needs, passed in so tests can run it without a scheduler or a socket."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from drafting.base import Drafter
from drafting.guardrails import Guardrails
from fanvue.client import FanvueClient
from fanvue.models import Me
from inbox.card_context import CardContext
from inbox.cards import CardPublisher
from inbox.creators import CreatorInbox, NoInbox
from inbox.desks import NOT_AN_APPROVER
from inbox.selling import Selling
from store.db import Store
from store.drafts import Draft
from store.takes import DEFAULT_TAKE_MINUTES


class Creator:
    """The creator's own account, fetched once: it tells the creator's messages from the fans'."""

    def __init__(self, fanvue: FanvueClient):
        self._fanvue = fanvue
        self._me: Me | None = None
        self._lock = threading.Lock()

    def get(self) -> Me:
        with self._lock:
            if self._me is None:
                self._me = self._fanvue.me()
            return self._me

    @property
    def name(self) -> str:
        me = self.get()
        return me.display_name or me.handle


class CreatorSource(Protocol):
    """The creators an app serving several of them knows of (see inbox.desks.DeskBook)."""

    def inboxes(self) -> list[CreatorInbox]: ...

    def inbox_for(self, creator_uuid: str) -> CreatorInbox | None: ...

    def approvers_for(self, creator_handle: str) -> frozenset[str]: ...

    def refusal(self, user_id: str, creator_handle: str) -> str | None: ...

    def creators_in(self, channel: str) -> list[str]: ...

    def poll(self, svc: Services, report: Any) -> None: ...

    def close(self) -> None: ...


@dataclass
class Services:
    store: Store
    fanvue: FanvueClient
    drafter: Drafter
    cards: CardPublisher
    creator: Creator
    approvers: frozenset[str] = field(default_factory=frozenset)
    history_size: int = 20
    guard: Guardrails = field(default_factory=Guardrails)
    style_examples: int = 5  # the team's recent rewrites shown to the drafter as the voice to follow
    draft_concurrency: int = 4  # chats drafted at once in a cycle
    # Several creators (agency mode, several logins or a desk file); None: the one creator of `fanvue`.
    desk: CreatorSource | None = None
    claimed: set[str] = field(default_factory=set)  # creators whose older rows were claimed (cycle.py)
    take_minutes: int = DEFAULT_TAKE_MINUTES  # a taken card nobody acts on is free again after this
    card_context: CardContext = field(default_factory=CardContext)  # fan context for the cards
    selling: Selling = field(default_factory=Selling)  # paid messages: price ceiling, media previews
    webhook_health: Callable[[], dict] | None = None  # the webhook intake's counts, for /fanvue; None: off
    sla: Any = None  # inbox.sla.SlaWatch: card ages and overdue nudges after each cycle; None: off

    def may_decide(self, user_id: str, creator_handle: str | None = None) -> bool:
        """Whether this teammate may decide on a card of this creator."""
        return self.refusal(user_id, creator_handle) is None

    def refusal(self, user_id: str, creator_handle: str | None = None) -> str | None:
        """Why this teammate may not decide on a card of this creator (their approvers, or an approver
        group whose members Slack cannot tell); None when they may."""
        if self.desk is not None and creator_handle is not None:
            return self.desk.refusal(user_id, creator_handle)
        return None if not self.approvers or user_id in self.approvers else NOT_AN_APPROVER

    def guard_for(self, draft: Draft | None) -> Guardrails:
        """The guardrails of the draft's creator (its persona's)."""
        inbox = self.desk.inbox_for(draft.creator_uuid) if self.desk is not None and draft else None
        return inbox.guard if inbox is not None else self.guard

    def inboxes(self) -> list[CreatorInbox]:
        """Every creator to poll this cycle."""
        return self.desk.inboxes() if self.desk is not None else [self.single_inbox()]

    def inbox_for(self, creator_uuid: str) -> CreatorInbox:
        """The creator a draft belongs to, reached through its own login; NoInbox when none serves it."""
        if self.desk is None:
            return self.single_inbox()
        inbox = self.desk.inbox_for(creator_uuid)
        if inbox is None:
            raise NoInbox(f"No Fanvue login serves creator {creator_uuid} now; see `python app.py accounts`")
        return inbox

    def single_inbox(self) -> CreatorInbox:
        """The one creator of an app serving one, made from the fields above as they are now."""
        me = self.creator.get()
        return CreatorInbox(
            uuid=me.uuid,
            handle=me.handle,
            name=self.creator.name,
            client=self.fanvue,
            drafter=self.drafter,
            guard=self.guard,
            approvers=self.approvers,
        )
