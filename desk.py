"""The desk file (DESK_FILE): each creator's Slack channel, persona, approvers and limits, checked."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

import safe_yaml
from desk_entries import KEYS as KEYS
from desk_entries import MAX_SLA_MINUTES as MAX_SLA_MINUTES
from desk_entries import CreatorDesk as CreatorDesk
from desk_entries import Desk as Desk
from desk_entries import DeskError as DeskError
from desk_entries import default_creator as default_creator
from desk_entries import normalise_handle as normalise_handle
from desk_reader import DeskReader

# A creator takes a few lines: a megabyte holds thousands, and refuses a mistaken file before it costs time.
MAX_DESK_BYTES = 1024 * 1024
MAX_DEPTH = 6  # the file's own structure is 5 deep: creators, a creator, its approvers, one approver
_CHANNEL_NAME = re.compile(r"[\w-]{1,80}")


def load_desk(path: Path, environ: Mapping[str, str] | None = None) -> Desk:
    """The desk in `path`. Persona paths are relative to the file's folder; `webhook_secret_env` names
    are looked up in `environ` (default: the process environment). Raises DeskError listing every
    problem with its line."""
    path = Path(path)
    source = str(path)
    try:
        node, _ = safe_yaml.load(safe_yaml.read_text(path, MAX_DESK_BYTES), MAX_DEPTH)
    except FileNotFoundError:
        raise DeskError(source, [f"{source} does not exist (start from desk.example.yml)"]) from None
    except OSError as exc:
        raise DeskError(source, [f"{source} cannot be read: {exc.strerror}"]) from None
    except safe_yaml.YamlRefused as exc:
        raise DeskError(
            source, [f"{source}{f' line {exc.line}' if exc.line else ''}: {exc.problem}"]
        ) from None
    reader = DeskReader(source, path.parent, os.environ if environ is None else environ)
    desk = reader.desk(node)
    if reader.problems:
        raise DeskError(source, reader.problems)
    return desk


def check_against(desk: Desk, known_handles: set[str]) -> list[str]:
    """Enabled creators of the file that no logged-in account serves, each with its line."""
    known = {normalise_handle(h) for h in known_handles}
    served = ", ".join(f"@{h}" for h in sorted(known)) or "no creator"
    problems = []
    for handle, creator in desk.creators.items():
        if creator.enabled and handle not in known:
            close = difflib.get_close_matches(handle, sorted(known), n=1)
            hint = f" (did you mean @{close[0]}?)" if close else ""
            problems.append(
                f"{desk.where(handle)}: unknown creator handle @{handle}{hint}; the accounts serve {served}"
            )
    return problems


def check_channels(desk: Desk, client: WebClient) -> list[str]:
    """Enabled creators whose channel the bot cannot post in, each with its line. Asks Slack once a
    channel (conversations.info, which needs the channels:read and groups:read scopes)."""
    answers: dict[str, str | None] = {}
    problems = []
    for handle, creator in desk.creators.items():
        if not creator.enabled:
            continue
        if creator.channel not in answers:
            answers[creator.channel] = _channel_problem(client, creator.channel)
        if answers[creator.channel]:
            problems.append(f"{desk.where(handle)}: @{handle}'s channel {answers[creator.channel]}")
    return problems


def _channel_problem(client: WebClient, channel: str) -> str | None:
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "channel_not_found":
            return f"{channel} was not found: it does not exist, or it is private and the bot is not in it"
        if error == "missing_scope":
            needed = exc.response.get("needed") or "channels:read"
            return (
                f"{channel} cannot be checked: the Slack app lacks the {needed} scope (add channels:read "
                "and groups:read to the app's bot scopes and reinstall it)"
            )
        return f"{channel} cannot be checked: Slack answered {error}"
    # Slack's channel names are lowercase words; anything else is not shown on the terminal.
    name = f"{channel} (#{info['name']})" if _CHANNEL_NAME.fullmatch(str(info.get("name"))) else channel
    if info.get("is_archived"):
        return f"{name} is archived: unarchive it or choose another channel"
    if not info.get("is_member"):
        return (
            f"{name} does not have the bot in it: invite it there (/invite @Fanvue Inbox, or your app's name)"
        )
    return None
