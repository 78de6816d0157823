"""What each command does once its arguments are parsed: `run`, `once`, `login`, `webhooks`, `audit`, `stats`."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import datetime

import sqlite_utils

import runtime
import runtime_desk
import safe_text
import settings as settings_module
from fanvue import FanvueError
from fanvue.login import LoginFailed
from fanvue.oauth import TokenEndpoint
from fanvue.scopes import Mode, scope_problem, scope_string
from inbox import stored_login, webhook_setup
from inbox.stored_login import RefreshingToken
from settings import Settings
from slack import socket_mode
from slack.bolt_app import check_token
from store import accounts, report
from store.clock import utcnow
from store.db import Store, StoreError, translated
from store.filters import FilterError


def stops_on_store_errors(command: Callable[..., int]) -> Callable[..., int]:
    """`command`, answering a database that cannot be used with one line (what, which file, what to do)
    and 2, never a traceback."""

    @functools.wraps(command)
    def stopping(*args: object) -> int:
        try:
            return command(*args)
        except StoreError as exc:
            print(exc, file=sys.stderr)
            return 2

    return stopping


@stops_on_store_errors
def run(settings: Settings, args: argparse.Namespace) -> int:
    """Poll Fanvue and serve Slack until stopped."""
    app = _checked(settings, socket=settings.socket_mode)
    return app if isinstance(app, int) else runtime.run(app)


@stops_on_store_errors
def once(settings: Settings, args: argparse.Namespace) -> int:
    """One poll cycle and its summary (for cron)."""
    app = _checked(settings)
    return app if isinstance(app, int) else runtime.once(app)


def _checked(settings: Settings, *, socket: bool = False) -> runtime.Runtime | int:
    """The app, built once Slack has accepted the bot token (and with `socket`, the app-level token) and
    the desk file's creators and channels are served; 2 when not."""
    app = runtime.build(settings)
    problem = check_token(app.bolt.client)
    if not problem and socket and settings.slack_app_token:
        problem = socket_mode.check_app_token(app.bolt.client, settings.slack_app_token)
    if not problem:
        problem = runtime_desk.start_problem(app.services.desk, app.bolt.client)
    if problem:
        app.close()
        print(problem, file=sys.stderr)
        return 2
    return app


@stops_on_store_errors
def login(settings: Settings, args: argparse.Namespace) -> int:
    """Log in to Fanvue in a browser, store the login and name the account; 0, or 1 with the reason.

    It needs the Fanvue app's credentials and DATABASE_PATH only, no Slack settings."""
    # A browser only for a person at a terminal: never from scripts, tests or services.
    browser = not args.no_browser and sys.stdin.isatty() and sys.stdout.isatty()
    mode = Mode.AGENCY if getattr(args, "agency", False) else Mode.CREATOR
    config = dataclasses.replace(runtime.oauth_config(settings), scopes=scope_string(mode))
    store, endpoint = Store(settings.database_path), TokenEndpoint(config)
    token = RefreshingToken(store.path, endpoint, account_id=-1)  # its account is set once it is stored
    fanvue = runtime.fanvue_client(settings, token)
    try:
        with _stopped_by_signals():
            token.account_id, pair = stored_login.login(
                endpoint,
                store,
                timeout=args.timeout,
                open_browser=browser,
                listen_host=args.listen,
                mode=mode,
            )
            me = fanvue.me()
            accounts.identify(
                store.db,
                token.account_id,
                user_uuid=me.uuid,
                handle=me.handle,
                display_name=me.display_name or me.handle,
            )
    except Stopped as exc:
        print(
            f"Login stopped by {exc}; the browser's answer is no longer awaited. Run it again.",
            file=sys.stderr,
        )
        return 1
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
    problem = scope_problem(pair.scope, mode)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


def accounts_list(args: argparse.Namespace) -> int:
    """`app.py accounts`: every stored Fanvue login, whom it reaches and whether it still works."""
    store = _database(args)
    if store is None:
        return 2
    try:
        stored = accounts.all_accounts(store.db)
    finally:
        store.close()
    if not stored:
        print("No Fanvue login is stored; run `python app.py login` (or `login --agency`).")
        return 0
    for account in stored:
        state = "logged in" if account.logged_in else "needs login: run `python app.py login` again"
        problem = scope_problem(account.scope or None, account.mode) if account.logged_in else None
        if problem:
            state = f"lacks scopes: {problem}"
        name = safe_text.terminal(account.display_name or "") if account.display_name else ""
        print(f"{account.id}  {safe_text.terminal(account.label)}  {name}  {account.mode}  {state}")
    return 0


def accounts_remove(args: argparse.Namespace) -> int:
    """`app.py accounts remove <handle or number>`: forget one login; its drafts and audit rows stay."""
    store = _database(args)
    if store is None:
        return 2
    try:
        wanted = args.account.lstrip("@")
        account = accounts.get(store.db, int(wanted)) if wanted.isdigit() else None
        account = account or accounts.find_by_handle(store.db, wanted)
        if account is None:
            print(
                f"No stored Fanvue login for {args.account!r}; see `python app.py accounts`", file=sys.stderr
            )
            return 1
        accounts.remove(store.db, account.id)
    finally:
        store.close()
    print(f"Removed the Fanvue login {account.label} ({account.mode}); restart the app to stop serving it.")
    return 0


def webhooks(settings: Settings, args: argparse.Namespace) -> int:
    """What to register in Fanvue for webhooks; with --test, a signed test event to the running app."""
    public_url = settings.public_url
    if public_url is None and sys.stdin.isatty():
        public_url = input(
            "The app's public https address (PUBLIC_URL), e.g. https://inbox.example.com: "
        ).strip()
    if not public_url or not public_url.startswith(("http://", "https://")):
        print("Set PUBLIC_URL to the address Fanvue reaches this app at (README: Webhooks)", file=sys.stderr)
        return 2
    if not args.test:
        print(webhook_setup.instructions(public_url, bool(settings.fanvue_webhook_secrets)))
        return 0
    if not settings.fanvue_webhook_secrets:
        print("Set FANVUE_WEBHOOK_SECRET to the webhook's signing secret first", file=sys.stderr)
        return 2
    answer = webhook_setup.send_sample(public_url, settings.fanvue_webhook_secrets)
    print(answer.line, file=sys.stdout if answer.ok else sys.stderr)
    return 0 if answer.ok else 1


class Stopped(BaseException):
    """SIGTERM or Ctrl-C while waiting; a BaseException, like KeyboardInterrupt, so no handler swallows it."""


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Inside, SIGTERM and SIGINT raise Stopped: what is open (the callback server, a transaction) closes on
    the way out."""

    def stop(signum: int, _frame: object) -> None:
        raise Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@stops_on_store_errors
def audit(args: argparse.Namespace) -> int:
    """`app.py audit`: the audit log, filtered; it reads the database only, so it needs no other settings."""
    filters = dict(
        creator=args.creator,
        fan=args.fan,
        user=args.user,
        action=args.action,
        since=args.since,
        limit=args.limit,
    )
    return _report(args, lambda db, now: report.audit_report(db, **filters, fmt=args.format, now=now))


@stops_on_store_errors
def stats(args: argparse.Namespace) -> int:
    """`app.py stats`: decisions per teammate and per creator, and reply times; it reads the database only."""
    return _report(
        args,
        lambda db, now: report.stats_report(
            db, since=args.since, fmt=args.format, now=now, creator=args.creator
        ),
    )


def _database(args: argparse.Namespace) -> Store | None:
    """The database DATABASE_PATH names, or None (said on stderr) when there is none yet."""
    database = settings_module.load_database_path(args.env_file)
    if not database.is_file():
        print(f"No database at {database}; set DATABASE_PATH (environment or .env)", file=sys.stderr)
        return None
    return Store(database)


def _report(args: argparse.Namespace, render: Callable[[sqlite_utils.Database, datetime], str]) -> int:
    """Print `render(db, now)`; 2 when there is no database or a filter is malformed."""
    database = settings_module.load_database_path(args.env_file)
    if not database.is_file():
        print(f"No database at {database}; set DATABASE_PATH (environment or .env)", file=sys.stderr)
        return 2
    store = Store(database, writes=False)  # a read-only copy can still be reported on
    try:
        with translated(database):
            text = render(store.db, utcnow())
    except FilterError as exc:
        print(f"app.py {args.command}: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(text)
    return 0
