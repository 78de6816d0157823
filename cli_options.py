"""The options of app.py's commands beyond --env-file: login's, accounts remove, audit's and stats' filters."""

from __future__ import annotations

import argparse

import commands
import notes_cli
from fanvue.login import BROWSER_TIMEOUT
from store import report
from store.filters import DEFAULT_LIMIT, DEFAULT_STATS_PERIOD


def formats() -> argparse.ArgumentParser:
    """The --format option the reports share, as a parent parser."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--format",
        choices=report.FORMATS,
        default="table",
        help="table for reading, json or csv for other tools (table)",
    )
    return parent


def add_login_options(log_in: argparse.ArgumentParser) -> None:
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


def add_accounts_remove(held: argparse.ArgumentParser, env_file: argparse.ArgumentParser) -> None:
    held_subs = held.add_subparsers(dest="accounts_command", metavar="remove")
    remove = held_subs.add_parser("remove", parents=[env_file], help="forget one stored login")
    remove.add_argument("account", help="the account's handle (or its number in `accounts`)")
    remove.set_defaults(func=commands.accounts_remove)


def add_audit_filters(audits: argparse.ArgumentParser) -> None:
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


def add_stats_filters(totals: argparse.ArgumentParser) -> None:
    totals.add_argument("--creator", help="only this creator's cards (a Fanvue handle)")
    totals.add_argument(
        "--since", default=DEFAULT_STATS_PERIOD, help=f"a period or a date ({DEFAULT_STATS_PERIOD})"
    )


def add_notes_commands(kept: argparse.ArgumentParser, env_file: argparse.ArgumentParser) -> None:
    """`notes export [--creator H]` and `notes import FILE`."""
    kept_subs = kept.add_subparsers(dest="notes_command", metavar="export|import")
    out = kept_subs.add_parser("export", parents=[env_file], help="every note as JSON on stdout")
    out.add_argument("--creator", help="only this creator's notes (a Fanvue handle)")
    out.set_defaults(func=notes_cli.export)
    into = kept_subs.add_parser(
        "import", parents=[env_file], help="add the notes of an export (skips duplicates)"
    )
    into.add_argument("file", help="a file `notes export` wrote")
    into.set_defaults(func=notes_cli.import_)
