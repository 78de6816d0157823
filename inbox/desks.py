"""The creators an app serving several of them knows: found through each login, given their desk settings."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from desk import CreatorDesk, Desk
from drafting.base import Drafter
from drafting.guardrails import Guardrails
from fanvue.agency import AgencyClient
from fanvue.agency_models import Creator
from fanvue.client import FanvueClient
from fanvue.errors import FanvueError
from fanvue.models import Me
from fanvue.oauth import LoginRequired
from inbox.approver_groups import ApproverGroups, GroupUnknown
from inbox.creators import AgencyCreatorClient, CreatorInbox, InboxClient
from inbox.login_state import LoginWatch
from inbox.poll_wait import PollBudget
from store import accounts
from store.db import Store

if TYPE_CHECKING:
    from inbox.creator_poll import CycleReport
    from inbox.polling import Polls
    from inbox.services import Services

logger = logging.getLogger(__name__)

# An agency's creator list is read again every this many cycles (and whenever a chat row names a creator
# not on it), so a quiet cycle costs no more than the chat list itself.
CREATOR_LIST_CYCLES = 30

NOT_AN_APPROVER = "Only the team's approvers can decide on replies; nothing was done."

Voice = Callable[[Path | None], tuple[Drafter, Guardrails]]


@dataclass
class AccountLink:
    """One stored login (or FANVUE_ACCESS_TOKEN, id None) and the client that speaks with its token."""

    id: int | None
    mode: str
    client: FanvueClient | AgencyClient
    watch: LoginWatch | None = None
    me: Me | None = None
    creators: list[Creator] = field(default_factory=list)
    creators_age: int = CREATOR_LIST_CYCLES  # cycles since the creator list was read
    admin: bool | None = None  # agency logins: whether /agencies/chats answers (None: not tried yet)
    unreachable: set[str] = field(default_factory=set)  # creators refused (403/404) since the list was read
    dead: LoginRequired | None = None  # set by a poll that found the login dead; its watch pauses it
    budget: PollBudget | None = None  # the login's rate budget, which says when Fanvue asked it to wait
    identified: bool = False  # who the login is was read and stored
    lookup_error: FanvueError | None = None  # what the last look_up met, raised by the next find

    @property
    def list_due(self) -> bool:
        """An agency login whose creator list is due to be read again."""
        return isinstance(self.client, AgencyClient) and self.creators_age >= CREATOR_LIST_CYCLES

    def read_creators(self) -> None:
        """Read the agency's creator list from Fanvue again."""
        assert isinstance(self.client, AgencyClient)
        self.creators = list(self.client.creators())
        self.creators_age, self.unreachable = 0, set()

    @property
    def label(self) -> str:
        if self.me is not None:
            return f"@{self.me.handle}"
        return "FANVUE_ACCESS_TOKEN" if self.id is None else f"account {self.id}"


class DeskBook:
    """Every creator reachable through the stored logins, each with its channel, voice and approvers."""

    def __init__(
        self,
        store: Store,
        links: list[AccountLink],
        *,
        desk: Desk | None,
        default_channel: str,
        default_approvers: frozenset[str],
        voice: Voice,
        notify: Callable[[str, str], object],
        polls: Polls,
        groups: ApproverGroups | None = None,
    ) -> None:
        self.store = store
        self.groups = groups  # reads the members of the desk file's approver groups (None: no Slack)
        self.notify = notify  # (channel, text): a notice in a channel
        self.polls = polls
        self._reported: set[str] = set()
        self.links = links
        self.desk = desk or Desk({})
        self.default = CreatorDesk(
            handle="",
            channel=default_channel,
            persona_file=None,
            approvers=default_approvers,
            approver_group=None,
            enabled=True,
            webhook_secret=None,
            sla_minutes=None,
            ppv_max_price_cents=None,
        )
        self._voice = voice
        self._voices: dict[Path | None, tuple[Drafter, Guardrails]] = {}
        self._inboxes: dict[str, CreatorInbox] = {}
        self._lock = threading.RLock()
        self._found = False

    # --- what the workflow asks ----------------------------------------------------------------------

    def inboxes(self) -> list[CreatorInbox]:
        """The creators to poll: every one found, except those the desk file disables."""
        with self._lock:
            self._find_once()
            return [i for i in self._inboxes.values() if self.desk_of(i.handle).enabled]

    def found(self) -> list[CreatorInbox]:
        """Every creator found so far, the disabled ones too."""
        with self._lock:
            return list(self._inboxes.values())

    def inbox_for(self, creator_uuid: str) -> CreatorInbox | None:
        with self._lock:
            self._find_once()
            return self._inboxes.get(creator_uuid)

    def approvers_for(self, creator_handle: str) -> frozenset[str]:
        desk = self.desk_of(creator_handle)
        return desk.approvers or self.default.approvers

    def refusal(self, user_id: str, creator_handle: str) -> str | None:
        """Why this teammate may not decide on this creator's cards; None when they may. A creator with an
        approver group takes its members and the users listed beside it; without one, its own approvers,
        else SLACK_APPROVERS, else anyone."""
        desk = self.desk_of(creator_handle)
        if desk.approver_group is None or user_id in desk.approvers:
            approvers = desk.approvers or self.default.approvers
            return None if not approvers or user_id in approvers else NOT_AN_APPROVER
        if self.groups is None:
            return NOT_AN_APPROVER
        try:
            members = self.groups.members(desk.approver_group)
        except GroupUnknown as exc:
            return str(exc)
        return None if user_id in members else NOT_AN_APPROVER

    def rate_limited(self, inbox: CreatorInbox) -> bool:
        """Whether the login serving this creator is waiting out a 429 now."""
        for link in self.links:
            if link.id == inbox.account_id and link.mode == inbox.mode and link.budget is not None:
                return link.budget.held()
        return False

    def channel_for(self, creator_handle: str) -> str:
        return self.desk_of(creator_handle).channel

    def creators_in(self, channel: str) -> list[str]:
        """The handles of the creators whose cards the desk file sends to `channel`."""
        return sorted(d.handle for d in self.desk.creators.values() if d.channel == channel)

    def desk_of(self, creator_handle: str) -> CreatorDesk:
        return self.desk.for_handle(creator_handle.lower(), self.default) if creator_handle else self.default

    def poll(self, svc: Services, report: CycleReport) -> None:
        from inbox.polling import poll_all  # the poll needs the per-creator cycle, which needs Services

        poll_all(svc, self, report)

    # --- finding the creators --------------------------------------------------------------------------

    def _find_once(self) -> None:
        if not self._found:
            self.find()

    def find(self, links: list[AccountLink] | None = None) -> dict[str, FanvueError]:
        """Read who each login is and, for agency logins, which creators it manages (cached between cycles).

        Returns the logins that failed, by label; their creators stay as last found."""
        failed: dict[str, FanvueError] = {}
        with self._lock:
            self._found = True
            for link in list(self.links if links is None else links):
                try:
                    self._find(link)
                except LoginRequired as exc:
                    link.dead, failed[link.label] = exc, exc
                except FanvueError as exc:
                    logger.warning("Could not read the Fanvue account %s: %s", link.label, exc)
                    failed[link.label] = exc
        return failed

    def _find(self, link: AccountLink) -> None:
        if link.lookup_error is not None:
            error, link.lookup_error = link.lookup_error, None
            raise error
        if not link.identified:
            if link.me is None:
                link.me = link.client.me()
            link.identified = True
            if not self._identify(link):
                return
        assert link.me is not None
        if isinstance(link.client, FanvueClient):
            self._add(link, link.me.uuid, link.me.handle, link.me.display_name or link.me.handle, link.client)
            return
        if link.list_due:
            link.read_creators()
        for creator in link.creators:
            existing = self._inboxes.get(creator.uuid)
            if existing is not None and existing.mode == accounts.CREATOR:
                continue  # the creator's own login reaches it with the cheaper creator routes
            view: InboxClient = AgencyCreatorClient(link.client.creator(creator.uuid))
            if existing is not None and existing.account_id == link.id:
                view = existing.client  # keep the rows handed to it
            self._add(link, creator.uuid, creator.handle, creator.name, view)

    def _add(self, link: AccountLink, uuid: str, handle: str, name: str, client) -> None:
        known = self._inboxes.get(uuid)
        if known is not None and known.account_id == link.id and known.handle == handle.lower():
            return
        desk = self.desk_of(handle)
        drafter, guard = self.voice(desk.persona_file)
        self._inboxes[uuid] = CreatorInbox(
            uuid=uuid,
            handle=handle.lower(),
            name=name,
            client=client,
            drafter=drafter,
            guard=guard,
            approvers=desk.approvers or self.default.approvers,
            channel=desk.channel,
            account_id=link.id,
            mode=link.mode,
        )
        if isinstance(client, FanvueClient) and link.id == self._oldest_creator_account():
            # Rows kept before creators were told apart belong to the login that wrote them: the first one.
            accounts.claim_unowned(self.store.db, uuid, handle)

    def _identify(self, link: AccountLink) -> bool:
        """Store who the login is; False when it is a second login of a user another account holds (the
        two are merged into that account, and this link is dropped)."""
        if link.id is None or link.me is None:
            return True
        account = accounts.get(self.store.db, link.id)
        if account is None or account.user_uuid is not None:
            return True
        kept = accounts.identify(
            self.store.db,
            link.id,
            user_uuid=link.me.uuid,
            handle=link.me.handle,
            display_name=link.me.display_name or "",
        )
        if kept != link.id:
            self.links.remove(link)
            link.client.close()
            return False
        return True

    def _oldest_creator_account(self) -> int | None:
        ids = [link.id for link in self.links if link.mode == accounts.CREATOR]
        return None if not ids else min(ids, key=lambda i: -1 if i is None else i)

    def voice(self, persona_file: Path | None) -> tuple[Drafter, Guardrails]:
        """One drafter and guardrails per persona file, shared by the creators that use it."""
        with self._lock:
            if persona_file not in self._voices:
                self._voices[persona_file] = self._voice(persona_file)
            return self._voices[persona_file]

    def first_report(self, key: str) -> bool:
        """True the first time a problem about `key` is reported in this process."""
        with self._lock:
            if key in self._reported:
                return False
            self._reported.add(key)
            return True

    def creators_of(self, link: AccountLink) -> list[CreatorInbox]:
        with self._lock:
            return [i for i in self._inboxes.values() if i.account_id == link.id and i.mode == link.mode]

    def close(self) -> None:
        self.polls.shutdown()
        for link in self.links:
            link.client.close()
        for drafter, _ in self._voices.values():
            close = getattr(drafter, "close", None)
            if close is not None:
                close()
