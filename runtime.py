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

from drafting.base import Drafter
from drafting.guardrails import Guardrails
from drafting.llm import LlmConfig, OpenAIChatDrafter
from drafting.persona import Persona, load_persona
from drafting.template import TemplateDrafter
from fanvue import FanvueClient, StaticToken, TokenProvider
from fanvue.oauth import LoginRequired, OAuthConfig, TokenEndpoint
from fanvue.ratelimit import RateBudget
from inbox.cards import CardPublisher, CardsPort
from inbox.cycle import run_cycle
from inbox.login_state import LoginWatch
from inbox.reconcile import reconcile_in_flight
from inbox.services import Creator, Services
from inbox.stored_login import RefreshingToken
from settings import Settings, SettingsError
from slack.bolt_app import DrainingExecutor, build_app, web_client
from slack.cards import SlackCards
from slack.server import HttpServer, wsgi_app
from store import drafts, tokens
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
    last_cycle: dict = field(default_factory=dict)
    # Set by serve() and start():
    server: HttpServer | None = field(default=None, init=False)
    scheduler: BackgroundScheduler | None = field(default=None, init=False)
    _socket: Any = field(default=None, init=False, repr=False)  # the Socket Mode connection

    def cycle(self) -> None:
        """The scheduler's job: one cycle, with any failure logged in full and the next cycle still due."""
        started = datetime.now(UTC)
        if self.login is not None and self.login.holds_polling():
            self.last_cycle = {
                "at": started.isoformat(),
                "ok": False,
                "error": "LoginRequired",
                "paused": True,
            }
            return
        error: Exception | None = None
        try:
            report = run_cycle(self.services, max_posts=self.settings.slack_max_posts_per_cycle)
        except LoginRequired as exc:
            error = exc  # the login watch logs it and tells the channel
            self.last_cycle = {"at": started.isoformat(), "ok": False, "error": type(exc).__name__}
        except Exception as exc:
            error = exc
            logger.exception("Poll cycle failed; the next one runs as scheduled")
            self.last_cycle = {"at": started.isoformat(), "ok": False, "error": type(exc).__name__}
        else:
            self.last_cycle = {"at": started.isoformat(), "ok": True, "summary": report.summary()}
        if self.login is not None:
            self.login.after_cycle(error)

    def health(self) -> dict:
        return {"last_cycle": self.last_cycle or None}

    def recover(self) -> None:
        """Before the first cycle: settle sends a crash left open."""
        settled = reconcile_in_flight(self.services, (drafts.SENDING, drafts.UNKNOWN))
        if settled:
            logger.info("Settled %d drafts left in flight by the last run", settled)

    def serve(self) -> HttpServer:
        """Slack's requests (/slack/events) and /healthz over HTTP on settings.port (0: any free port)."""
        host = self.host or self.settings.host
        self.server = HttpServer(wsgi_app(self.bolt, self.health), host=host, port=self.settings.port).start()
        return self.server

    def start(self) -> None:
        """Settle what a crash left in flight, poll on schedule, and listen for Slack."""
        self.recover()
        self.scheduler = schedule_polling(self)
        self.scheduler.start()
        if self.settings.socket_mode:
            self._socket = socket_mode_handler(self.bolt, self.settings.slack_app_token or "")
            self._socket.connect()
            logger.info("Connected to Slack in Socket Mode")
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
        self.executor.shutdown(wait=True)
        if isinstance(self.services.drafter, OpenAIChatDrafter):
            self.services.drafter.close()
        self.services.fanvue.close()
        if isinstance(self.token, RefreshingToken):
            self.token.close()
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
) -> Runtime:
    """The whole app from its settings. The keywords let tests, the demo and benchmarks put in what
    settings cannot say: a drafter or guardrails of their own, a wrapper around the Slack cards, the Fanvue
    client's HTTP session, rate budget and sleep, and the address to serve on."""
    store = Store(settings.database_path)
    token = token_provider(settings, store)
    fanvue = fanvue_client(settings, token, session=session, budget=budget, sleep=sleep)
    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    slack_cards = SlackCards(client, settings.slack_channel_id, post_interval=settings.slack_post_interval)
    persona = load_persona(settings.persona_file)
    services = Services(
        store=store,
        fanvue=fanvue,
        drafter=drafter or settings_drafter(settings, persona),
        cards=CardPublisher(store, cards(slack_cards) if cards else slack_cards),
        creator=Creator(fanvue),
        approvers=settings.slack_approvers,
        history_size=max(20, settings.draft_context_messages),
        guard=guard or Guardrails.for_persona(persona),
        style_examples=settings.style_examples,
        draft_concurrency=settings.llm_concurrency,
    )
    executor = DrainingExecutor(max_workers=CLICK_WORKERS)
    bolt = build_app(services, client, signing_secret=settings.slack_signing_secret, executor=executor)
    watch = None
    if isinstance(token, RefreshingToken):
        watch = LoginWatch(
            store, lambda text: client.chat_postMessage(channel=settings.slack_channel_id, text=text)
        )
    return Runtime(settings, services, bolt, executor, token, login=watch, host=host)


def socket_mode_handler(bolt: App, app_token: str, **options: Any) -> Any:
    """Bolt's Socket Mode handler for the app, as start() connects it; `options` go to slack_sdk's built-in
    client (ping_interval, ...). Imported here so that HTTP mode never loads the WebSocket client."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(bolt, app_token, **options)


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
    runtime.start()
    stopping.wait()
    logger.info("Stopping: finishing the clicks and the cycle in progress")
    runtime.stop()
    return 0


def once(runtime: Runtime) -> int:
    """One cycle. No recover(): a `run` process may be serving clicks on the same database, and a send it
    has just claimed is not a crash's leftover; the cycle settles `sending` drafts once they are stale."""
    try:
        report = run_cycle(runtime.services, max_posts=runtime.settings.slack_max_posts_per_cycle)
    except LoginRequired as exc:
        print(exc, file=sys.stderr)
        return 1
    print(report.summary())
    return 0
