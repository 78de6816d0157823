"""The collaborators the workflow needs, passed in so tests can run it without a scheduler or a socket."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from drafting.base import Drafter
from drafting.guardrails import Guardrails
from fanvue.client import FanvueClient
from fanvue.models import Me
from inbox.cards import CardPublisher
from store.db import Store


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

    def may_decide(self, user_id: str) -> bool:
        return not self.approvers or user_id in self.approvers
