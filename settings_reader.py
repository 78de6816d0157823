"""Reading one setting from the environment: shapes checked, placeholders refused, every problem noted."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desk_entries import MAX_SLA_MINUTES
from inbox.sla import parse_quiet_hours

# Where each credential is found, for the messages that ask for it.
WHERE = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-...) under OAuth & Permissions in your Slack app",
    "SLACK_CHANNEL_ID": "the channel's ID (C...), shown at the bottom of the channel's details in Slack",
    "SLACK_SIGNING_SECRET": "Basic Information > App Credentials > Signing Secret in your Slack app "
    "(or set SLACK_APP_TOKEN to use Socket Mode instead)",
    "SLACK_APP_TOKEN": "an app-level token (xapp-...) with connections:write, under Basic Information",
    "FANVUE_ACCESS_TOKEN": "an access token of the creator's Fanvue account (scopes read:self read:chat write:chat, and read:insights read:fan for fan context)",
    "FANVUE_CLIENT_ID": "the Client ID of your Fanvue app, in Fanvue's developer area (README: Fanvue login)",
    "FANVUE_CLIENT_SECRET": "the Client Secret of your Fanvue app, in Fanvue's developer area (README: Fanvue login)",
}


# The placeholders of .env.example (`xoxb-...`, `C...`, `...`): a value left as it was copied. No real
# token or ID has this shape, so naming it in the message shows no secret.
_PLACEHOLDER = re.compile(r"[A-Za-z]{0,6}-?(?:\.{3}|…)")


class Reader:
    """Reads settings from `env`, appending a message to `problems` for each one missing or malformed."""

    def __init__(self, env: Mapping[str, str], problems: list[str]):
        self.env = env
        self.problems = problems
        self.placeholders: set[str] = set()

    def optional(
        self, name: str, prefix: str | tuple[str, ...] | None = None, *, required: bool = False
    ) -> str | None:
        value = (self.env.get(name) or "").strip()
        if not value:
            return None
        if _PLACEHOLDER.fullmatch(value):
            # Unchanged from .env.example: never a value (an app token would silently pick Socket Mode).
            self.placeholders.add(name)
            self.problems.append(
                f"{name} is still the placeholder {value!r} from .env.example: put "
                f"{WHERE.get(name, 'its real value')} there"
                + ("" if required else ", or delete the line to leave it unset")
            )
            return None
        if prefix and not value.startswith(prefix):
            expected = " or ".join(prefix) if isinstance(prefix, tuple) else prefix
            self.problems.append(f"{name} should start with {expected}: {WHERE.get(name, 'check its value')}")
        return value

    def required(self, name: str, prefix: str | tuple[str, ...] | None = None) -> str:
        value = self.optional(name, prefix, required=True)
        if value is None and name not in self.placeholders:
            self.problems.append(f"{name} is missing: {WHERE.get(name, 'set it')}")
        return value or ""

    def number(self, name: str, default: int, *, low: int, high: int) -> int:
        raw = (self.env.get(name) or "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name} should be a whole number, got {raw!r}")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name} should be between {low} and {high}, got {value}")
        return value

    def seconds(self, name: str, default: float, *, high: int) -> float:
        """Whole seconds from 1 to `high`, as a float; `default` when unset."""
        if not (self.env.get(name) or "").strip():
            return default
        return float(self.number(name, 1, low=1, high=high))

    def url(self, name: str, default: str, *, trailing_slash: bool = False) -> str:
        value = (self.env.get(name) or "").strip() or default
        if not value.startswith(("http://", "https://")):
            self.problems.append(f"{name} should be an http(s) URL, got {value!r}")
        value = value.rstrip("/")
        return value + "/" if trailing_slash else value

    def user_ids(self, name: str) -> frozenset[str]:
        ids = frozenset(part.strip() for part in (self.env.get(name) or "").split(",") if part.strip())
        bad = sorted(i for i in ids if not i.startswith(("U", "W")))
        if bad:
            self.problems.append(
                f"{name} should list Slack user IDs (U...), comma-separated; not: {', '.join(bad)}"
            )
        return ids

    def choice(self, name: str, default: str, options: tuple[str, ...]) -> str:
        value = (self.env.get(name) or default).strip().upper()
        if value not in options:
            self.problems.append(f"{name} should be one of {', '.join(options)}, got {value!r}")
            return default
        return value

    def host(self, name: str, default: str) -> str:
        """An IP address or a host name to listen on."""
        value = (self.env.get(name) or "").strip() or default
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not _HOSTNAME.fullmatch(value):
                self.problems.append(
                    f"{name} should be an address to listen on: 0.0.0.0 (all interfaces), 127.0.0.1 "
                    f"(this machine only), :: (all, IPv6) or a host name; got {value!r}"
                )
                return default
        return value


_HOSTNAME = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)


def sla_settings(reader: Reader, default_minutes: int) -> dict:
    """SLA_MINUTES, QUIET_HOURS and the TZ it is in, each checked now. TZ is only read with QUIET_HOURS:
    a system may set it in a form of its own (`:/etc/localtime`) that nothing else here uses."""
    quiet = reader.optional("QUIET_HOURS")
    tz = reader.optional("TZ") if quiet else None
    if tz:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            reader.problems.append(f"TZ should be a time zone name like Europe/London or UTC, got {tz!r}")
            tz = None
    if quiet:
        try:
            parse_quiet_hours(quiet, tz)
        except ValueError as exc:
            reader.problems.append(f"QUIET_HOURS {exc}")
            quiet = None
    return dict(
        sla_minutes=reader.number("SLA_MINUTES", default_minutes, low=1, high=MAX_SLA_MINUTES),
        quiet_hours=quiet,
        tz=tz,
    )
