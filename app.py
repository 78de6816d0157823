"""Command line: `run` (default), `once`, `demo`, `login`, the `audit` and `stats` reports, and `notes`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

import cli_options
import commands
import notes_cli
import safe_text
import settings as settings_module
from settings import Settings, SettingsError
from store import tokens
from store.db import StoreError

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
    formats = cli_options.formats()

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
    cli_options.add_login_options(log_in)
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
    cli_options.add_accounts_remove(held, env_file)
    audits = add("audit", commands.audit, "the audit log, newest first (needs only DATABASE_PATH)", formats)
    cli_options.add_audit_filters(audits)
    totals = add(
        "stats",
        commands.stats,
        "sent / edited / skipped per teammate and reply times (needs only DATABASE_PATH)",
        formats,
    )
    cli_options.add_stats_filters(totals)
    kept = add("notes", notes_cli.usage, "the team's notes about fans: export or import (JSON)")
    cli_options.add_notes_commands(kept, env_file)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
