"""Command line and wiring: `run` (default), `once`, `demo`, and the `audit` and `stats` reports."""

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
from drafting.template import TemplateDrafter
from fanvue import FanvueClient, StaticToken
from fanvue.ratelimit import RateBudget
from inbox.cards import CardPublisher
from inbox.cycle import run_cycle
from inbox.reconcile import reconcile_in_flight
from inbox.services import Creator, Services
from settings import Settings, SettingsError
from slack.bolt_app import DrainingExecutor, build_app, web_client
from slack.cards import SlackCards
from slack.server import HttpServer, wsgi_app
from store import drafts, report
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

    last_cycle: dict = field(default_factory=dict)

    def cycle(self) -> None:
        """The scheduler's job: one cycle, with any failure logged in full and the next cycle still due."""
        started = datetime.now(UTC)
        try:
            report = run_cycle(self.services, max_posts=self.settings.slack_max_posts_per_cycle)
        except Exception as exc:
            logger.exception("Poll cycle failed; the next one runs as scheduled")
            self.last_cycle = {"at": started.isoformat(), "ok": False, "error": type(exc).__name__}
        else:
            self.last_cycle = {"at": started.isoformat(), "ok": True, "summary": report.summary()}

    def health(self) -> dict:
        return {"last_cycle": self.last_cycle or None}

    def recover(self) -> None:
        """Before the first cycle: settle sends a crash left open."""
        settled = reconcile_in_flight(self.services, (drafts.SENDING, drafts.UNKNOWN))
        if settled:
            logger.info("Settled %d drafts left in flight by the last run", settled)


def build(settings: Settings) -> Runtime:
    store = Store(settings.database_path)
    fanvue = FanvueClient(
        settings.fanvue_api_base,
        StaticToken(settings.fanvue_access_token),
        api_version=settings.fanvue_api_version,
        timeout=settings.fanvue_timeout,
        budget=RateBudget(limit=settings.fanvue_rate_limit, window=settings.fanvue_rate_window),
    )
    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    cards = CardPublisher(store, SlackCards(client, settings.slack_channel_id,
                                            post_interval=settings.slack_post_interval))
    services = Services(store=store, fanvue=fanvue, drafter=TemplateDrafter(), cards=cards,
                        creator=Creator(fanvue), approvers=settings.slack_approvers)
    executor = DrainingExecutor(max_workers=32)
    bolt = build_app(services, client, signing_secret=settings.slack_signing_secret, executor=executor)
    return Runtime(settings=settings, services=services, bolt=bolt, executor=executor)


def schedule_polling(runtime: Runtime) -> BackgroundScheduler:
    """A cycle at start and every POLL_INTERVAL_SECONDS; never two at once, missed runs folded into one."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(runtime.cycle, "interval", seconds=runtime.settings.poll_interval, id="poll",
                      max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
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
    runtime.recover()
    report = run_cycle(runtime.services, max_posts=runtime.settings.slack_max_posts_per_cycle)
    print(report.summary())


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="app.py", description="Slack co-pilot for the Fanvue inbox.")
    top.add_argument("--env-file", default=".env", help="settings file read before the environment (.env)")
    commands = top.add_subparsers(dest="command", metavar="command", help="run (the default when none is given)")
    # Every command also takes --env-file after its name; SUPPRESS keeps the one given before it.
    env_file = argparse.ArgumentParser(add_help=False)
    env_file.add_argument("--env-file", default=argparse.SUPPRESS, help="settings file (.env)")
    commands.add_parser("run", parents=[env_file], help="poll Fanvue and serve Slack (the default)")
    commands.add_parser("once", parents=[env_file], help="one poll cycle, then exit (for cron)")
    commands.add_parser("demo", parents=[env_file],
                        help="an offline demonstration with local stand-ins of Fanvue and Slack")
    audit = commands.add_parser("audit", parents=[env_file],
                                help="the audit log, newest first (needs only DATABASE_PATH)")
    audit.add_argument("--fan", help="a fan's handle (or uuid)")
    audit.add_argument("--user", help="a teammate's Slack user ID (U...), or scheduler")
    audit.add_argument("--action", help="sent, edited, skipped, failed, superseded, denied, drafted, posted, ...")
    audit.add_argument("--since", help="30m, 24h, 7d, 2w or a date like 2026-11-01")
    audit.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=f"at most this many ({DEFAULT_LIMIT})")
    audit.add_argument("--format", choices=report.FORMATS, default="table")
    stats = commands.add_parser("stats", parents=[env_file],
                                help="sent / edited / skipped per teammate and reply times (needs only DATABASE_PATH)")
    stats.add_argument("--since", default=DEFAULT_STATS_PERIOD, help=f"a period or a date ({DEFAULT_STATS_PERIOD})")
    stats.add_argument("--format", choices=report.FORMATS, default="table")
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
            text = report.audit_report(store.db, fan=args.fan, user=args.user, action=args.action,
                                       since=args.since, limit=args.limit, fmt=args.format, now=utcnow())
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
        import demo

        return demo.main()
    if command in ("audit", "stats"):
        return reports(args)
    try:
        settings = settings_module.load(args.env_file)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime = build(settings)
    (run if command == "run" else once)(runtime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
