"""Command line: `run` (default), `once`, `demo`, `login`, the `audit` and `stats` reports, and `notes`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

import commands
import notes_cli
import safe_text
import settings as settings_module
from fanvue.login import BROWSER_TIMEOUT
from settings import Settings, SettingsError
from store import report, tokens
from store.db import StoreError
from store.filters import DEFAULT_LIMIT, DEFAULT_STATS_PERIOD

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
Command = Callable[[argparse.Namespace], int]


def demo(args: argparse.Namespace) -> int:
    try:
        import demo
    except ImportError:
        print(
            "The offline demo runs from a checkout of the repository (`make demo`); "
            "this installation does not include it.",
            file=sys.stderr,
        )
        return 2
    return demo.main(socket_mode=args.socket_mode)


def _with_settings(command: Callable[[Settings, argparse.Namespace], int], **options) -> Command:
    """`command(settings, args)` once the settings are read (see settings.load for `options`)."""

    def with_settings(args: argparse.Namespace) -> int:
        try:
            settings = settings_module.load(args.env_file, **options)
        except (SettingsError, StoreError) as exc:  # StoreError: the database a stored login would be in
            print(exc, file=sys.stderr)
            return 2
        handler = logging.StreamHandler()
        handler.setFormatter(safe_text.SafeFormatter(LOG_FORMAT))  # fan data never forges a log line
        logging.basicConfig(level=settings.log_level, handlers=[handler])
        return command(settings, args)

    return with_settings


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="app.py", description="Slack co-pilot for the Fanvue inbox.")
    top.add_argument("--env-file", default=".env", help="settings file read before the environment (.env)")
    run = _with_settings(commands.run, login_stored=tokens.stored_at)
    once = _with_settings(commands.once, login_stored=tokens.stored_at)
    top.set_defaults(func=run, command="run")
    subs = top.add_subparsers(dest="command", metavar="command", help="run (the default when none is given)")
    # Every command also takes --env-file after its name; SUPPRESS keeps the one given before it.
    env_file = argparse.ArgumentParser(add_help=False)
    env_file.add_argument("--env-file", default=argparse.SUPPRESS, help="settings file (.env)")
    formats = argparse.ArgumentParser(add_help=False)
    formats.add_argument(
        "--format",
        choices=report.FORMATS,
        default="table",
        help="table for reading, json or csv for other tools (table)",
    )

    def add(
        name: str, func: Command, help: str, *parents: argparse.ArgumentParser
    ) -> argparse.ArgumentParser:
        sub = subs.add_parser(name, parents=[env_file, *parents], help=help)
        sub.set_defaults(func=func)
        return sub

    add("run", run, "poll Fanvue and serve Slack (the default)")
    add("once", once, "one poll cycle, then exit (for cron)")
    add("demo", demo, "an offline demonstration with local stand-ins of Fanvue and Slack").add_argument(
        "--socket-mode", action="store_true", help="Slack reaches the app over Socket Mode (default: HTTP)"
    )
    log_in = add(
        "login",
        _with_settings(commands.login, login=True),
        "log in to Fanvue in a browser and store the login (needs only the FANVUE_CLIENT_* settings and "
        "DATABASE_PATH)",
    )
    log_in.add_argument("--no-browser", action="store_true", help="only print the address to open")
    log_in.add_argument(
        "--agency", action="store_true", help="log in as an agency member (asks for the agency scopes too)"
    )
    log_in.add_argument(
        "--listen",
        metavar="HOST",
        help="address to listen on for the redirect (default: FANVUE_REDIRECT_URI's host; "
        "0.0.0.0 inside a container)",
    )
    log_in.add_argument(
        "--timeout",
        type=float,
        default=BROWSER_TIMEOUT,
        metavar="SECONDS",
        help=f"seconds to wait for the browser ({BROWSER_TIMEOUT:.0f})",
    )
    hooks = add(
        "webhooks",
        _with_settings(commands.webhooks, login_stored=tokens.stored_at),
        "the webhook URLs to register in Fanvue",
    )
    hooks.add_argument("--test", action="store_true", help="send a signed test event to the running app")
    held = add(
        "accounts",
        commands.accounts_list,
        "the stored Fanvue logins and their state; `accounts remove HANDLE` forgets one (needs only "
        "DATABASE_PATH)",
    )
    held_subs = held.add_subparsers(dest="accounts_command", metavar="remove")
    remove = held_subs.add_parser("remove", parents=[env_file], help="forget one stored login")
    remove.add_argument("account", help="the account's handle (or its number in `accounts`)")
    remove.set_defaults(func=commands.accounts_remove)
    audits = add("audit", commands.audit, "the audit log, newest first (needs only DATABASE_PATH)", formats)
    audits.add_argument("--creator", help="a creator's Fanvue handle (agency mode)")
    audits.add_argument("--fan", help="a fan's handle (or uuid)")
    audits.add_argument("--user", help="a teammate's Slack user ID (U...), or scheduler")
    audits.add_argument(
        "--action", help="sent, edited, skipped, failed, superseded, denied, drafted, posted, ..."
    )
    audits.add_argument("--since", help="30m, 24h, 7d, 2w or a date like 2026-11-01")
    audits.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"at most this many ({DEFAULT_LIMIT})"
    )
    totals = add(
        "stats",
        commands.stats,
        "sent / edited / skipped per teammate and reply times (needs only DATABASE_PATH)",
        formats,
    )
    totals.add_argument("--creator", help="only this creator's cards (a Fanvue handle)")
    totals.add_argument(
        "--since", default=DEFAULT_STATS_PERIOD, help=f"a period or a date ({DEFAULT_STATS_PERIOD})"
    )
    kept = add("notes", notes_cli.usage, "the team's notes about fans: export or import (JSON)")
    kept_subs = kept.add_subparsers(dest="notes_command", metavar="export|import")
    out = kept_subs.add_parser("export", parents=[env_file], help="every note as JSON on stdout")
    out.add_argument("--creator", help="only this creator's notes (a Fanvue handle)")
    out.set_defaults(func=notes_cli.export)
    into = kept_subs.add_parser(
        "import", parents=[env_file], help="add the notes of an export (skips duplicates)"
    )
    into.add_argument("file", help="a file `notes export` wrote")
    into.set_defaults(func=notes_cli.import_)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
