"""The composition root: settings → store, Fanvue client, drafter, Slack app, scheduler; start and stop."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_sdk.errors import SlackClientError

import runtime_desk
from desk import Desk
from drafting.base import Drafter
from drafting.guardrails import Guardrails
from drafting.llm import OpenAIChatDrafter
from drafting.persona import load_persona
from fanvue import StaticToken, TokenProvider
from fanvue.oauth import LoginRequired, TokenEndpoint
from fanvue.ratelimit import RateBudget
from inbox.approver_groups import ApproverGroups
from inbox.card_context import CardContext
from inbox.cards import CardPublisher, CardsPort
from inbox.cycle import run_cycle
from inbox.health import CycleHealth, cycle_problem
from inbox.login_state import LoginWatch
from inbox.offers import card_offer, offers_templates
from inbox.reconcile import reconcile_in_flight
from inbox.selling import Selling
from inbox.services import Creator, Services
from inbox.sla import SlaWatch
from inbox.stored_login import RefreshingToken
from inbox.webhook_act import WebhookActor
from inbox.webhook_http import webhook_routes
from inbox.webhook_intake import WebhookIntake
from runtime_pace import PollPace
from runtime_parts import fan_card_of, sla_policy_of, webhook_stored
from runtime_parts import fanvue_client as fanvue_client
from runtime_parts import oauth_config as oauth_config
from runtime_parts import schedule_polling as schedule_polling
from runtime_parts import settings_drafter as settings_drafter
from runtime_parts import token_provider as token_provider
from runtime_parts import webhook_secrets as webhook_secrets
from runtime_process import StartFailed as StartFailed
from runtime_process import once as once
from runtime_process import run as run
from settings import Settings
from slack import socket_mode
from slack.bolt_app import DrainingExecutor, build_app, web_client
from slack.cards import SlackCards
from slack.server import HttpServer, wsgi_app
from slack.sla_blocks import SlackNudges
from store import drafts
from store.db import Store

logger = logging.getLogger(__name__)

CLICK_WORKERS = 16  # Bolt's pool for click handlers; a click is acknowledged before it waits for one


@dataclass
class Runtime:
    """The app, built and ready: `start()` polls and listens for Slack, `stop()` finishes and releases it."""

    settings: Settings
    services: Services
    bolt: App
    # The pool Bolt runs click handlers on; drain() waits until every click in progress has finished.
    executor: DrainingExecutor
    token: TokenProvider
    # Set when running on a stored Fanvue login: pauses polling while that login is dead.
    login: LoginWatch | None = None
    host: str | None = None  # where serve() listens; None: the HOST setting
    webhooks: WebhookIntake | None = None  # Fanvue's webhook deliveries; None when no secret is set
    actor: WebhookActor | None = None  # what a stored webhook event leads to: its chat read, its card
    providers: list[RefreshingToken] = field(default_factory=list)  # every login's, serving several creators
    cycles: CycleHealth = field(default_factory=CycleHealth)
    # Set by serve() and start():
    server: HttpServer | None = field(default=None, init=False)
    scheduler: BackgroundScheduler | None = field(default=None, init=False)
    _socket: Any = field(default=None, init=False, repr=False)  # the Socket Mode connection
    pace: PollPace = field(init=False, repr=False)  # when a tick runs a cycle, and how many cards it may post

    def __post_init__(self) -> None:
        self.pace = PollPace(self.settings, self._last_webhook)

    def _last_webhook(self) -> datetime | None:
        return self.webhooks.last_received_at if self.webhooks is not None else None

    def cycle(self) -> None:
        """The scheduler's job: one cycle, with any failure logged in full and the next cycle still due."""
        if not self.pace.due():
            return
        started = datetime.now(UTC)
        if self.login is not None and self.login.holds_polling():
            self.cycles.record(started, error="LoginRequired", paused=True)
            return
        error: Exception | None = None
        try:
            report = run_cycle(self.services, max_posts=self.pace.max_posts())
        except LoginRequired as exc:
            error = exc  # the login watch logs it and tells the channel
            self.cycles.record(started, error=type(exc).__name__)
        except Exception as exc:
            error = exc
            problem = cycle_problem(exc, self.token)
            if problem:  # the operator's to fix; a traceback would bury it
                logger.error("Poll cycle failed: %s", problem)
            else:
                logger.exception("Poll cycle failed; the next one runs as scheduled")
            self.cycles.record(started, error=type(exc).__name__, **({"problem": problem} if problem else {}))
        else:
            self.pace.ran(report.cards.deferred)
            self.cycles.record(started, summary=report.summary())
        if self.login is not None:
            self.login.after_cycle(error)

    @property
    def last_cycle(self) -> dict:
        return self.cycles.last

    def health(self) -> dict:
        """What /healthz answers: `ok` false, with a `reason`, when polling is paused (every login, serving
        several creators; the paused ones are listed) or keeps failing."""
        paused, logins = runtime_desk.paused_logins(self.services.desk)
        report = self.cycles.report(
            login_paused=self.login is not None and self.login.paused, paused_accounts=paused, logins=logins
        )
        if self.webhooks is not None:
            report["webhooks"] = self.webhooks.health()
        return report

    def recover(self) -> None:
        """Before the first cycle: settle sends a crash left open."""
        settled = reconcile_in_flight(self.services, (drafts.SENDING, drafts.UNKNOWN))
        if settled:
            logger.info("Settled %d drafts left in flight by the last run", settled)

    def serve(self) -> HttpServer:
        """Slack's requests (/slack/events, not in Socket Mode, where they come over the socket), Fanvue's
        webhooks and /healthz over HTTP on settings.port (0: any free port)."""
        host = self.host or self.settings.host
        slack = None if self.settings.socket_mode else self.bolt
        routes = webhook_routes(self.webhooks) if self.webhooks is not None else None
        self.server = HttpServer(
            wsgi_app(slack, self.health, routes), host=host, port=self.settings.port
        ).start()
        return self.server

    def start(self) -> None:
        """Settle what a crash left in flight, poll on schedule, and listen for Slack."""
        self.recover()
        if self.actor is not None:
            self.actor.take_up()
        self.scheduler = schedule_polling(self)
        self.scheduler.start()
        if self.settings.socket_mode:
            self._socket = socket_mode.handler(self.bolt, self.settings.slack_app_token or "")
            try:
                self._socket.connect()
            except (SlackClientError, OSError) as exc:
                raise StartFailed(socket_mode.problem(exc)) from exc
            port = self.serve().port
            logger.info("Connected to Slack in Socket Mode; /healthz and webhooks on port %s", port)
        else:
            port = self.serve().port
            logger.info("Listening for Slack on port %s (/slack/events, /healthz)", port)

    def stop(self, drain: float | None = None) -> bool:
        """Stop listening, let the cycle and the clicks in progress finish, release everything.

        False when clicks were still running after `drain` seconds (the pool's default wait when None)."""
        if self._socket is not None:
            self._socket.close()
        if self.server is not None:
            self.server.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        drained = self.executor.drain() if drain is None else self.executor.drain(drain)
        self.close()
        return drained

    def close(self) -> None:
        """Release the pool, the connections and the database (also for a runtime never started)."""
        if self.webhooks is not None:
            self.webhooks.close()  # finishes the events already handed on, before the database closes
        if self.actor is not None:
            self.actor.close()
        self.executor.shutdown(wait=True)
        if isinstance(self.services.drafter, OpenAIChatDrafter):
            self.services.drafter.close()
        self.services.fanvue.close()
        if self.services.desk is not None:
            self.services.desk.close()
        for provider in {id(p): p for p in [self.token, *self.providers]}.values():
            if isinstance(provider, RefreshingToken):
                provider.close()
        self.services.store.close()


def build(
    settings: Settings,
    *,
    drafter: Drafter | None = None,
    guard: Guardrails | None = None,
    cards: Callable[[SlackCards], CardsPort] | None = None,
    session: requests.Session | None = None,
    budget: RateBudget | None = None,
    sleep: Callable[[float], None] = time.sleep,
    host: str | None = None,
    on_webhook: Callable[[int], None] | None = None,
    desk: Desk | None = None,
) -> Runtime:
    """The whole app from its settings. The keywords let tests, the demo and benchmarks put in what
    settings cannot say: a drafter or guardrails of their own, a wrapper around the Slack cards, the Fanvue
    client's HTTP session, rate budget and sleep, the address to serve on, what a stored webhook event is
    handed to, and a desk (else DESK_FILE's)."""
    store = Store(settings.database_path)
    desk = desk or runtime_desk.desk_of(settings)
    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    book, providers = None, list[RefreshingToken]()
    if runtime_desk.serves_several(store, desk):
        book, providers = runtime_desk.desk_book(
            settings,
            store,
            desk,
            endpoint=lambda: TokenEndpoint(oauth_config(settings)),
            voice=runtime_desk.voice_for(settings, settings_drafter, drafter),
            notify=lambda channel, text: client.chat_postMessage(channel=channel, text=text),
            session=session,
            sleep=sleep,
            groups=ApproverGroups(client),
        )
        token: TokenProvider = providers[0] if providers else StaticToken(settings.fanvue_access_token or "")
    else:
        token = token_provider(settings, store)
    fanvue = fanvue_client(settings, token, session=session, budget=budget, sleep=sleep)
    slack_cards = SlackCards(
        client,
        settings.slack_channel_id,
        post_interval=settings.slack_post_interval,
        channels=book.channel_for if book is not None else None,
        name_creator=book is not None,
        fan=functools.partial(fan_card_of, store),
    )
    sla_policy = sla_policy_of(settings, book)
    slack_cards.sla_minutes = sla_policy.minutes_for
    persona = load_persona(settings.persona_file)
    services = Services(
        store=store,
        fanvue=fanvue,
        drafter=drafter or settings_drafter(settings, persona),
        cards=CardPublisher(
            store,
            cards(slack_cards) if cards else slack_cards,
            channel_of=slack_cards.channel_for if book is not None else None,
            priority=settings.card_priority,
        ),
        creator=Creator(fanvue),
        approvers=settings.slack_approvers,
        history_size=max(20, settings.draft_context_messages),
        guard=guard or Guardrails.for_persona(persona),
        style_examples=settings.style_examples,
        draft_concurrency=settings.llm_concurrency,
        desk=book,
        take_minutes=settings.take_minutes,
        selling=Selling(settings.ppv_max_price_cents, settings.media_preview),
        sla=SlaWatch(sla_policy, SlackNudges(client), slack_cards.channel_for),
        card_context=CardContext(
            ttl=timedelta(minutes=settings.fan_context_ttl_minutes),
            announce=lambda inbox, text: client.chat_postMessage(
                channel=inbox.channel
                or (book.channel_for(inbox.handle) if book else settings.slack_channel_id),
                text=text,
            ),
        ),
    )
    slack_cards.offer = functools.partial(card_offer, services)  # read when the card is rendered
    slack_cards.templates = functools.partial(offers_templates, services)
    executor = DrainingExecutor(max_workers=CLICK_WORKERS)
    bolt = build_app(services, client, signing_secret=settings.slack_signing_secret, executor=executor)
    watch = None
    if isinstance(token, RefreshingToken) and book is None:
        watch = LoginWatch(
            store, lambda text: client.chat_postMessage(channel=settings.slack_channel_id, text=text)
        )
    webhooks, actor = None, None
    if settings.fanvue_webhook_secrets or any(
        d.webhook_secret for d in (desk.creators.values() if desk else ())
    ):
        handed: list[Callable[[int], None]] = []
        webhooks = WebhookIntake(
            store, webhook_secrets(settings, book, desk), lambda event_id: handed[0](event_id)
        )
        if on_webhook is None:
            actor = WebhookActor(
                services,
                names=webhooks.fan_named,
                quiet=settings.webhook_quiet_seconds,
                burst=settings.webhook_burst_seconds,
            )
        handed.append(on_webhook or actor or webhook_stored)
        services.webhook_health = webhooks.health
    return Runtime(
        settings,
        services,
        bolt,
        executor,
        token,
        login=watch,
        host=host,
        webhooks=webhooks,
        actor=actor,
        providers=providers,
    )
