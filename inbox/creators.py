"""One creator's inbox as the workflow sees it, whichever login reaches it: the creator's own or an agency's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from drafting.base import Drafter
from drafting.guardrails import Guardrails
from fanvue.agency import CreatorView
from fanvue.errors import FanvueError, NotFoundError
from fanvue.models import Chat, ChatMessages, Message, UnreadCounts


class NoInbox(FanvueError):
    """The app serves no creator by this uuid now (its login is gone, or it left the agency)."""


class InboxClient(Protocol):
    """What the workflow asks of Fanvue for one creator."""

    def unread_chats(self) -> Iterable[Chat]: ...

    def recent_messages(self, user_uuids: Sequence[str], *, limit: int = 20) -> dict[str, ChatMessages]: ...

    def messages(self, user_uuid: str, *, size: int = 15, page: int = 1) -> list[Message]: ...

    def send_message(
        self,
        user_uuid: str,
        text: str,
        *,
        price_cents: int | None = None,
        media_uuids: Sequence[str] = (),
        template_uuid: str | None = None,
    ) -> str: ...

    def unread_counts(self) -> UnreadCounts: ...


class AgencyCreatorClient:
    """An agency login's calls for one creator, shaped as an InboxClient.

    The agency routes have no unread filter, batch read or counts: the poller hands in the chat rows it
    read (`rows`), and the batch read is a read per chat (which a caller falls back to on NotFoundError).
    """

    def __init__(self, view: CreatorView) -> None:
        self.view = view
        self.rows: list[Chat] = []

    def __repr__(self) -> str:
        return f"AgencyCreatorClient({self.view.creator_uuid!r})"

    def unread_chats(self) -> Iterable[Chat]:
        return [row for row in self.rows if row.unread_messages_count > 0]

    def recent_messages(self, user_uuids: Sequence[str], *, limit: int = 20) -> dict[str, ChatMessages]:
        raise NotFoundError("agency logins have no batch read of messages; reading chats one by one")

    def messages(self, user_uuid: str, *, size: int = 15, page: int = 1) -> list[Message]:
        return self.view.messages(user_uuid, size=size, page=page)

    def send_message(
        self,
        user_uuid: str,
        text: str,
        *,
        price_cents: int | None = None,
        media_uuids: Sequence[str] = (),
        template_uuid: str | None = None,
    ) -> str:
        # The agency route is sent the price and media themselves; the template's uuid only names their source.
        return self.view.send_message(user_uuid, text, price_cents=price_cents, media_uuids=media_uuids)

    def unread_counts(self) -> UnreadCounts:
        waiting = [row for row in self.rows if row.unread_messages_count > 0]
        return UnreadCounts(chats=len(waiting), messages=sum(row.unread_messages_count for row in waiting))


@dataclass
class CreatorInbox:
    """A creator the app serves: who it is, how Fanvue is reached for it, and its desk (voice, approvers,
    channel). `channel` None: the default channel (SLACK_CHANNEL_ID)."""

    uuid: str
    handle: str
    name: str
    client: InboxClient
    drafter: Drafter
    guard: Guardrails
    approvers: frozenset[str] = field(default_factory=frozenset)
    channel: str | None = None
    account_id: int | None = None  # the stored login that reaches it; None: FANVUE_ACCESS_TOKEN
    mode: str = "creator"

    def may_decide(self, user_id: str) -> bool:
        return not self.approvers or user_id in self.approvers
