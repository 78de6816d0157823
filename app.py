"""Command line and wiring: `run` (default), `once`, `demo`, `login`, and the `audit` and `stats` reports."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App

import settings as settings_module
from drafting.base import Drafter
from drafting.guardrails import Guardrails
from drafting.llm import LlmConfig, OpenAIChatDrafter
from drafting.persona import Persona, load_persona
from drafting.template import TemplateDrafter
from fanvue import FanvueClient, FanvueError, StaticToken, TokenProvider
from fanvue.login import DEFAULT_TIMEOUT, LoginFailed, login
from fanvue.oauth import LoginRequired, OAuthConfig, RefreshingToken, TokenEndpoint
from fanvue.ratelimit import RateBudget
from inbox.cards import CardPublisher
from inbox.cycle import run_cycle
from inbox.login_state import LoginWatch
from inbox.reconcile import reconcile_in_flight
from inbox.services import Creator, Services
from settings import Settings, SettingsError
from slack.bolt_app import DrainingExecutor, build_app, check_token, web_client
from slack.cards import SlackCards
from slack.server import HttpServer, wsgi_app
from store import drafts, report, tokens
from store.clock import utcnow
from store.db import Store
from store.filters import DEFAULT_LIMIT, DEFAULT_STATS_PERIOD, FilterError

logger = logging.getLogger("app")


@dataclass
class Runtime:
    settings: Settings
    services: Services
    bolt: App
    # The pool Bolt runs click handlers on; drain() waits until every click in progress has finished.
    executor: DrainingExecutor | None = None
    # Set when running on a stored Fanvue login: pauses polling while that login is dead.
    login: LoginWatch | None = None

    last_cycle: dict = field(default_factory=dict)

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


def build(settings: Settings) -> Runtime:
    store = Store(settings.database_path)
    token = token_provider(settings, store)
    fanvue = FanvueClient(
        settings.fanvue_api_base,
        token,
        api_version=settings.fanvue_api_version,
        timeout=settings.fanvue_timeout,
        budget=RateBudget(limit=settings.fanvue_rate_limit, window=settings.fanvue_rate_window),
    )
    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    cards = CardPublisher(
        store, SlackCards(client, settings.slack_channel_id, post_interval=settings.slack_post_interval)
    )
    persona = load_persona(settings.persona_file)
    services = Services(
        store=store,
        fanvue=fanvue,
        drafter=drafter(settings, persona),
        cards=cards,
        creator=Creator(fanvue),
        approvers=settings.slack_approvers,
        history_size=max(20, settings.draft_context_messages),
        guard=Guardrails.for_persona(persona),
        style_examples=settings.style_examples,
        draft_concurrency=settings.llm_concurrency,
    )
    executor = DrainingExecutor(max_workers=16)
    bolt = build_app(services, client, signing_secret=settings.slack_signing_secret, executor=executor)
    watch = None
    if isinstance(token, RefreshingToken):
        watch = LoginWatch(
            store, lambda text: client.chat_postMessage(channel=settings.slack_channel_id, text=text)
        )
    return Runtime(settings=settings, services=services, bolt=bolt, executor=executor, login=watch)


def drafter(settings: Settings, persona: Persona) -> Drafter:
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


def run(runtime: Runtime) -> None:
    """Poll and serve Slack until SIGTERM or Ctrl-C, then finish the clicks and the cycle in progress."""
    runtime.recover()
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    scheduler = schedule_polling(runtime)
    scheduler.start()
    if runtime.settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        listener = SocketModeHandler(runtime.bolt, runtime.settings.slack_app_token)
        listener.connect()
        stop_listening = listener.close
        logger.info("Connected to Slack in Socket Mode")
    else:
        server = HttpServer(wsgi_app(runtime.bolt, runtime.health), port=runtime.settings.port).start()
        stop_listening = server.stop
        logger.info("Listening for Slack on port %s (/slack/events, /healthz)", server.port)
    stopping.wait()
    logger.info("Stopping: finishing the clicks and the cycle in progress")
    stop_listening()
    scheduler.shutdown(wait=True)
    if runtime.executor is not None:
        runtime.executor.drain(30)
    runtime.services.store.close()


def once(runtime: Runtime) -> None:
    """One cycle. No recover(): a `run` process may be serving clicks on the same database, and a send it
    has just claimed is not a crash's leftover; the cycle settles `sending` drafts once they are stale."""
    try:
        report = run_cycle(runtime.services, max_posts=runtime.settings.slack_max_posts_per_cycle)
    except LoginRequired as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None
    print(report.summary())


def login_command(args: argparse.Namespace) -> int:
    """`login` needs the Fanvue app's credentials and DATABASE_PATH only, no Slack settings."""
    try:
        settings = settings_module.load(args.env_file, login=True)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store, endpoint = Store(settings.database_path), TokenEndpoint(oauth_config(settings))
    token = RefreshingToken(store.path, endpoint)
    fanvue = FanvueClient(
        settings.fanvue_api_base,
        token,
        api_version=settings.fanvue_api_version,
        timeout=settings.fanvue_timeout,
    )
    # A browser only for a person at a terminal: never from scripts, tests or services.
    open_browser = not args.no_browser and sys.stdin.isatty() and sys.stdout.isatty()
    try:
        login(endpoint, store, timeout=args.timeout, open_browser=open_browser, listen_host=args.listen)
        me = fanvue.me()
    except LoginFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    except FanvueError as exc:
        print(f"The login is stored, but reading the Fanvue account failed: {exc}", file=sys.stderr)
        return 1
    finally:
        fanvue.close()
        token.close()
        endpoint.close()
        store.close()
    print(f"Logged in to Fanvue as {me.display_name or me.handle} (@{me.handle}).")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="app.py", description="Slack co-pilot for the Fanvue inbox.")
    top.add_argument("--env-file", default=".env", help="settings file read before the environment (.env)")
    commands = top.add_subparsers(
        dest="command", metavar="command", help="run (the default when none is given)"
    )
    # Every command also takes --env-file after its name; SUPPRESS keeps the one given before it.
    env_file = argparse.ArgumentParser(add_help=False)
    env_file.add_argument("--env-file", default=argparse.SUPPRESS, help="settings file (.env)")
    commands.add_parser("run", parents=[env_file], help="poll Fanvue and serve Slack (the default)")
    commands.add_parser("once", parents=[env_file], help="one poll cycle, then exit (for cron)")
    commands.add_parser(
        "demo", parents=[env_file], help="an offline demonstration with local stand-ins of Fanvue and Slack"
    )
    login_parser = commands.add_parser(
        "login",
        parents=[env_file],
        help="log in to Fanvue in a browser and store the login (needs only the "
        "FANVUE_CLIENT_* settings and DATABASE_PATH)",
    )
    login_parser.add_argument("--no-browser", action="store_true", help="only print the address to open")
    login_parser.add_argument(
        "--listen",
        metavar="HOST",
        help="address to listen on for the redirect (default: FANVUE_REDIRECT_URI's host; "
        "0.0.0.0 inside a container)",
    )
    login_parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"seconds to wait for the browser ({DEFAULT_TIMEOUT:.0f})",
    )
    audit = commands.add_parser(
        "audit", parents=[env_file], help="the audit log, newest first (needs only DATABASE_PATH)"
    )
    audit.add_argument("--fan", help="a fan's handle (or uuid)")
    audit.add_argument("--user", help="a teammate's Slack user ID (U...), or scheduler")
    audit.add_argument(
        "--action", help="sent, edited, skipped, failed, superseded, denied, drafted, posted, ..."
    )
    audit.add_argument("--since", help="30m, 24h, 7d, 2w or a date like 2026-11-01")
    audit.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"at most this many ({DEFAULT_LIMIT})"
    )
    audit.add_argument(
        "--format",
        choices=report.FORMATS,
        default="table",
        help="table for reading, json or csv for other tools (table)",
    )
    stats = commands.add_parser(
        "stats",
        parents=[env_file],
        help="sent / edited / skipped per teammate and reply times (needs only DATABASE_PATH)",
    )
    stats.add_argument(
        "--since", default=DEFAULT_STATS_PERIOD, help=f"a period or a date ({DEFAULT_STATS_PERIOD})"
    )
    stats.add_argument(
        "--format",
        choices=report.FORMATS,
        default="table",
        help="table for reading, json or csv for other tools (table)",
    )
    return top


def reports(args: argparse.Namespace) -> int:
    """`audit` and `stats` read the database only, so they need no Slack or Fanvue settings."""
    path = settings_module.load_database_path(args.env_file)
    if not path.is_file():
        print(f"No database at {path}; set DATABASE_PATH (environment or .env)", file=sys.stderr)
        return 2
    store = Store(path)
    try:
        if args.command == "audit":
            text = report.audit_report(
                store.db,
                fan=args.fan,
                user=args.user,
                action=args.action,
                since=args.since,
                limit=args.limit,
                fmt=args.format,
                now=utcnow(),
            )
        else:
            text = report.stats_report(store.db, since=args.since, fmt=args.format, now=utcnow())
    except FilterError as exc:
        print(f"app.py {args.command}: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = args.command or "run"
    if command == "demo":
        try:
            import demo
        except ImportError:
            print(
                "The offline demo runs from a checkout of the repository (`make demo`); "
                "this installation does not include it.",
                file=sys.stderr,
            )
            return 2
        return demo.main()
    if command in ("audit", "stats"):
        return reports(args)
    if command == "login":
        return login_command(args)
    try:
        settings = settings_module.load(args.env_file, login_stored=tokens.stored_at)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime = build(settings)
    problem = check_token(runtime.bolt.client)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    (run if command == "run" else once)(runtime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
