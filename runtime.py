"""The composition root: settings → store, Fanvue client, drafter, Slack app, scheduler; start and stop."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_sdk.errors import SlackClientError

import runtime_desk
from desk import Desk
from drafting.base import Drafter
from drafting.guardrails import Guardrails
from drafting.llm import LlmConfig, OpenAIChatDrafter
from drafting.persona import Persona, load_persona
from drafting.template import TemplateDrafter
from fanvue import FanvueClient, StaticToken, TokenProvider
from fanvue.oauth import LoginRequired, OAuthConfig, TokenEndpoint
from fanvue.ratelimit import RateBudget
from inbox.approver_groups import ApproverGroups
from inbox.cards import CardPublisher, CardsPort, CardUnavailable
from inbox.cycle import run_cycle
from inbox.health import CycleHealth, cycle_problem
from inbox.login_state import LoginWatch
from inbox.reconcile import reconcile_in_flight
from inbox.services import Creator, Services
from inbox.stored_login import RefreshingToken
from inbox.webhook_http import webhook_routes
from inbox.webhook_intake import WebhookIntake
from settings import Settings, SettingsError
from slack import socket_mode
from slack.bolt_app import DrainingExecutor, build_app, web_client
from slack.cards import SlackCards
from slack.server import HttpServer, wsgi_app
from store import drafts, tokens
from store.db import Store

logger = logging.getLogger(__name__)

CLICK_WORKERS = 16  # Bolt's pool for click handlers; a click is acknowledged before it waits for one


class StartFailed(Exception):
    """The app cannot start; the message says why and what to do, on one line."""


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
    providers: list[RefreshingToken] = field(default_factory=list)  # every login's, serving several creators
    cycles: CycleHealth = field(default_factory=CycleHealth)
    # Set by serve() and start():
    server: HttpServer | None = field(default=None, init=False)
    scheduler: BackgroundScheduler | None = field(default=None, init=False)
    _socket: Any = field(default=None, init=False, repr=False)  # the Socket Mode connection

    def cycle(self) -> None:
        """The scheduler's job: one cycle, with any failure logged in full and the next cycle still due."""
        started = datetime.now(UTC)
        if self.login is not None and self.login.holds_polling():
            self.cycles.record(started, error="LoginRequired", paused=True)
            return
        error: Exception | None = None
        try:
            report = run_cycle(self.services, max_posts=self.settings.slack_max_posts_per_cycle)
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
    )
    persona = load_persona(settings.persona_file)
    services = Services(
        store=store,
        fanvue=fanvue,
        drafter=drafter or settings_drafter(settings, persona),
        cards=CardPublisher(
            store,
            cards(slack_cards) if cards else slack_cards,
            channel_of=slack_cards.channel_for if book is not None else None,
        ),
        creator=Creator(fanvue),
        approvers=settings.slack_approvers,
        history_size=max(20, settings.draft_context_messages),
        guard=guard or Guardrails.for_persona(persona),
        style_examples=settings.style_examples,
        draft_concurrency=settings.llm_concurrency,
        desk=book,
    )
    executor = DrainingExecutor(max_workers=CLICK_WORKERS)
    bolt = build_app(services, client, signing_secret=settings.slack_signing_secret, executor=executor)
    watch = None
    if isinstance(token, RefreshingToken) and book is None:
        watch = LoginWatch(
            store, lambda text: client.chat_postMessage(channel=settings.slack_channel_id, text=text)
        )
    webhooks = None
    if settings.fanvue_webhook_secrets:
        webhooks = WebhookIntake(store, webhook_secrets(settings), on_webhook or _webhook_stored)
    return Runtime(
        settings,
        services,
        bolt,
        executor,
        token,
        login=watch,
        host=host,
        webhooks=webhooks,
        providers=providers,
    )


def webhook_secrets(settings: Settings) -> Callable[[str], list[str]]:
    """The secrets a creator's webhook deliveries are signed with: FANVUE_WEBHOOK_SECRET for every creator."""
    return lambda recipient_uuid: list(settings.fanvue_webhook_secrets)


def _webhook_stored(event_id: int) -> None:
    # The stored event waits for the workflow to read its chat; until then the poll cycle finds the message.
    logger.debug("Webhook event %d stored", event_id)


def fanvue_client(
    settings: Settings,
    token: TokenProvider,
    *,
    session: requests.Session | None = None,
    budget: RateBudget | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FanvueClient:
    return FanvueClient(
        settings.fanvue_api_base,
        token,
        api_version=settings.fanvue_api_version,
        timeout=settings.fanvue_timeout,
        budget=budget or RateBudget(settings.fanvue_rate_limit, settings.fanvue_rate_window, sleep=sleep),
        session=session,
        sleep=sleep,
    )


def settings_drafter(settings: Settings, persona: Persona) -> Drafter:
    """DRAFTER=template, or an OpenAI-compatible endpoint with the template standing in when it fails."""
    template = TemplateDrafter(persona)
    if settings.drafter != "openai":
        return template
    config = LlmConfig(
        settings.llm_base_url or "",
        settings.llm_model or "",
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout,
        concurrency=settings.llm_concurrency,
        context_messages=settings.draft_context_messages,
        max_chars=settings.draft_max_chars,
    )
    return OpenAIChatDrafter(config, persona, fallback=template)


def oauth_config(settings: Settings) -> OAuthConfig:
    return OAuthConfig(
        settings.fanvue_client_id or "",
        settings.fanvue_client_secret or "",
        auth_base=settings.fanvue_auth_base,
        redirect_uri=settings.fanvue_redirect_uri,
        timeout=settings.fanvue_timeout,
    )


def token_provider(settings: Settings, store: Store) -> TokenProvider:
    """The stored login when there is one (renewed before it expires), else FANVUE_ACCESS_TOKEN."""
    if tokens.load(store.db) is not None:
        return RefreshingToken(store.path, TokenEndpoint(oauth_config(settings)))
    if settings.fanvue_access_token:
        return StaticToken(settings.fanvue_access_token)
    raise SettingsError(
        [
            f"FANVUE_ACCESS_TOKEN is missing and no Fanvue login is stored in {store.path}: run "
            "`python app.py login`, or set FANVUE_ACCESS_TOKEN"
        ]
    )


def schedule_polling(runtime: Runtime) -> BackgroundScheduler:
    """A cycle at start and every POLL_INTERVAL_SECONDS; never two at once, missed runs folded into one."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        runtime.cycle,
        "interval",
        seconds=runtime.settings.poll_interval,
        id="poll",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    return scheduler


def run(runtime: Runtime) -> int:
    """Poll and serve Slack until SIGTERM or Ctrl-C, then finish the clicks and the cycle in progress."""
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        runtime.start()
    except StartFailed as exc:
        runtime.stop()
        print(exc, file=sys.stderr)
        return 2
    stopping.wait()
    logger.info("Stopping: finishing the clicks and the cycle in progress")
    runtime.stop()
    return 0


def once(runtime: Runtime) -> int:
    """One cycle; 1 with one line when it failed for a reason the operator must fix, or was stopped.

    No recover(): a `run` process may be serving clicks on the same database, and a send it has just
    claimed is not a crash's leftover; the cycle settles `sending` drafts once they are stale. SIGTERM or
    Ctrl-C lets the cycle end at a safe point: no new card goes to Slack, the ones due wait for the next
    cycle, and every step already taken is recorded (each is one transaction)."""
    stopped: list[str] = []

    def stop(signum: int, _frame: object) -> None:
        if not stopped:
            stopped.append(signal.Signals(signum).name)
            logger.warning("Stopping (%s): no new cards; the cycle ends at its next safe point", stopped[0])
            runtime.services.cards.port = _Stopping(runtime.services.cards.port)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        report = run_cycle(runtime.services, max_posts=runtime.settings.slack_max_posts_per_cycle)
    except Exception as exc:
        problem = cycle_problem(exc, runtime.token)
        if problem is None:
            raise
        print(problem, file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(report.summary())
    if stopped:
        print(
            f"Stopped by {stopped[0]} before the cycle was done: what it did is recorded, and the cards not "
            "yet in Slack go out with the next cycle.",
            file=sys.stderr,
        )
        return 1
    return 0


class _Stopping:
    """The cards port once `once` is asked to stop: cards stay due (as when Slack is away), none is half-sent."""

    def __init__(self, port: CardsPort):
        self._port = port

    def post(self, draft: drafts.Draft) -> tuple[str, str]:
        raise CardUnavailable("stopping")

    def update(self, draft: drafts.Draft) -> None:
        raise CardUnavailable("stopping")

    def notify(self, draft: drafts.Draft, user: str, text: str) -> None:
        self._port.notify(draft, user, text)
