"""Wiring for an app serving several creators: a client per stored login, the desk file, the creators' book."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path

import requests
from slack_sdk import WebClient

from desk import Desk, DeskError, check_against, check_channels, load_desk
from drafting.base import Drafter
from drafting.guardrails import Guardrails
from drafting.persona import Persona, load_persona
from fanvue import FanvueClient, StaticToken
from fanvue.agency import AgencyClient
from fanvue.oauth import TokenEndpoint
from inbox.approver_groups import ApproverGroups
from inbox.desks import AccountLink, DeskBook
from inbox.login_state import LoginWatch
from inbox.poll_wait import PollBudget
from inbox.polling import Polls
from inbox.stored_login import RefreshingToken
from settings import Settings
from store import accounts
from store.db import Store

logger = logging.getLogger(__name__)


def desk_of(settings: Settings) -> Desk | None:
    """The desk file's settings (DESK_FILE), or None without one."""
    path = getattr(settings, "desk_file", None)
    return load_desk(Path(path)) if path else None


def serves_several(store: Store, desk: Desk | None) -> bool:
    """Agency mode: a desk file, an agency login, or more than one stored login. Otherwise the app runs as
    it always has for one creator."""
    stored = accounts.all_accounts(store.db)
    return desk is not None or len(stored) > 1 or any(a.mode == accounts.AGENCY for a in stored)


def start_problem(book: object, client: WebClient) -> str | None:
    """Before `run` or `once` starts: the desk file's creators checked against the logins (a handle no
    account serves) and Slack (a channel the bot cannot post in). One message listing every problem with
    its line, or None. A login Fanvue does not answer now is not counted against the file."""
    if not isinstance(book, DeskBook) or not book.desk.creators:
        return None
    failed = book.find()
    problems: list[str] = []
    unknown = [link.label for link in book.links if link.label in failed and _reach_unknown(link)]
    if unknown:
        # The creators such a login reaches are unknown until it answers; the cycle reports its failure.
        logger.warning(
            "Fanvue did not answer for %s; the desk file's handles are not checked this start", unknown
        )
    else:
        problems += check_against(desk=book.desk, known_handles=known_handles(book))
    problems += check_channels(book.desk, client)
    return str(DeskError(book.desk.source, problems)) if problems else None


def paused_logins(book: object) -> tuple[list[str], int]:
    """The logins paused because Fanvue refused them, by label, and how many logins the app polls with."""
    if not isinstance(book, DeskBook):
        return [], 0
    links = list(book.links)
    return [link.label for link in links if link.watch is not None and link.watch.paused], len(links)


def _reach_unknown(link: AccountLink) -> bool:
    # An agency login's creators, or the creator of FANVUE_ACCESS_TOKEN, are known only from Fanvue.
    return link.mode == accounts.AGENCY or link.id is None


def known_handles(book: DeskBook) -> set[str]:
    """Every creator the logins reach: those found, and the stored creator logins' own (a login that is
    dead now still serves its creator once renewed)."""
    stored = {a.handle for a in accounts.all_accounts(book.store.db) if a.mode == accounts.CREATOR}
    return {inbox.handle for inbox in book.found()} | {h for h in stored if h}


def desk_book(
    settings: Settings,
    store: Store,
    desk: Desk | None,
    *,
    endpoint: Callable[[], TokenEndpoint],
    voice: Callable[[Path | None], tuple[Drafter, Guardrails]],
    notify: Callable[[str, str], object],
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    polls: Polls | None = None,
    groups: ApproverGroups | None = None,
) -> tuple[DeskBook, list[RefreshingToken]]:
    """The book of creators and the token providers it renews (the caller closes them)."""
    links: list[AccountLink] = []
    providers: list[RefreshingToken] = []
    book_ref: list[DeskBook] = []

    def channel_of(account_id: int) -> str:
        # Read when a notice is posted: the account's handle is known once the app has read it from Fanvue.
        account = accounts.get(store.db, account_id)
        if account is not None and account.mode == accounts.CREATOR and account.handle and book_ref:
            return book_ref[0].channel_for(account.handle)
        return settings.slack_channel_id

    def label_of(account_id: int) -> str:
        account = accounts.get(store.db, account_id)
        return account.label if account is not None else f"account {account_id}"

    for account in accounts.all_accounts(store.db):
        token = RefreshingToken(store.path, endpoint(), account_id=account.id)
        providers.append(token)
        budget = PollBudget(settings.fanvue_rate_limit, settings.fanvue_rate_window, sleep=sleep)
        client = _client(settings, account.mode, token, session, budget, sleep)
        watch = LoginWatch(
            store,
            functools.partial(_notify_account, notify, channel_of, account.id),
            account_id=account.id,
            label=functools.partial(label_of, account.id),
        )
        links.append(AccountLink(account.id, account.mode, client, watch=watch, budget=budget))
    if not links and settings.fanvue_access_token:
        budget = PollBudget(settings.fanvue_rate_limit, settings.fanvue_rate_window, sleep=sleep)
        client = _client(
            settings, accounts.CREATOR, StaticToken(settings.fanvue_access_token), session, budget, sleep
        )
        links.append(AccountLink(None, accounts.CREATOR, client, budget=budget))
    book = DeskBook(
        store,
        links,
        desk=desk,
        default_channel=settings.slack_channel_id,
        default_approvers=settings.slack_approvers,
        voice=voice,
        notify=notify,
        polls=polls or Polls(),
        groups=groups,
    )
    book_ref.append(book)
    return book, providers


def _client(
    settings: Settings,
    mode: str,
    token,
    session: requests.Session | None,
    budget: PollBudget,
    sleep: Callable[[float], None],
) -> FanvueClient | AgencyClient:
    # Each login has its own budget: Fanvue counts requests per app and user (and agency routes per creator).
    kind = AgencyClient if mode == accounts.AGENCY else FanvueClient
    return kind(
        settings.fanvue_api_base,
        token,
        api_version=settings.fanvue_api_version,
        timeout=settings.fanvue_timeout,
        budget=budget,
        session=session,
        sleep=sleep,
    )


def voice_for(
    settings: Settings, make: Callable[[Settings, Persona], Drafter], drafter: Drafter | None
) -> Callable[[Path | None], tuple[Drafter, Guardrails]]:
    """Each persona file's drafter and guardrails; a drafter handed in (tests) drafts for every creator."""

    def voice(persona_file: Path | None) -> tuple[Drafter, Guardrails]:
        persona = load_persona(persona_file or settings.persona_file)
        return drafter or make(settings, persona), Guardrails.for_persona(persona)

    return voice


def _notify_account(
    notify: Callable[[str, str], object], channel_of: Callable[[int], str], account_id: int, text: str
) -> None:
    """A login's notice, in the channel of the creator it serves."""
    notify(channel_of(account_id), text)
