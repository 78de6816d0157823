"""Settings, read once from the environment (and a .env file) into a frozen object."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

import settings_groups as groups
from drafting.llm import LlmConfig
from fanvue.client import DEFAULT_API_BASE, DEFAULT_API_VERSION, DEFAULT_TIMEOUT
from fanvue.message_text import MIN_PRICE_CENTS
from fanvue.oauth import DEFAULT_AUTH_BASE, DEFAULT_REDIRECT_URI
from fanvue.ratelimit import DEFAULT_LIMIT, DEFAULT_WINDOW
from inbox.selling import DEFAULT_PPV_MAX_PRICE_CENTS, MEDIA_PREVIEWS
from inbox.webhook_watch import BURST_SECONDS
from settings_groups import DRAFTERS as DRAFTERS
from settings_reader import WHERE, Reader, sla_settings
from store.fan_context import DEFAULT_PRIORITY, DEFAULT_TTL_MINUTES
from store.sla import DEFAULT_SLA_MINUTES
from store.takes import DEFAULT_TAKE_MINUTES

MAX_BURST_SECONDS = 120

# The LLM client's own defaults, so that a setting left unset means what the client means by it.
_LLM = LlmConfig("", "")


class SettingsError(Exception):
    """One or more settings are missing or malformed; the message lists them all."""

    def __init__(self, problems: list[str], note: str | None = None):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"The app cannot start; fix these settings (environment or .env file):\n{lines}"
            + (f"\n{note}" if note else "")
        )


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str = field(repr=False)
    slack_channel_id: str
    fanvue_access_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = "https://slack.com/api/"
    slack_approvers: frozenset[str] = frozenset()
    slack_max_posts_per_cycle: int = 30
    slack_post_interval: float = 1.0
    take_minutes: int = DEFAULT_TAKE_MINUTES
    ppv_max_price_cents: int = (
        DEFAULT_PPV_MAX_PRICE_CENTS  # a paid message's ceiling unless the desk names one
    )
    media_preview: str = "none"  # "blurred": a card shows its offer's blurred previews
    fanvue_api_base: str = DEFAULT_API_BASE
    fanvue_api_version: str = DEFAULT_API_VERSION
    fanvue_rate_limit: int = DEFAULT_LIMIT
    fanvue_rate_window: float = DEFAULT_WINDOW
    fanvue_timeout: float = DEFAULT_TIMEOUT
    fanvue_client_id: str | None = None
    fanvue_client_secret: str | None = field(default=None, repr=False)
    fanvue_auth_base: str = DEFAULT_AUTH_BASE
    fanvue_redirect_uri: str = DEFAULT_REDIRECT_URI
    # Webhooks: the secrets Fanvue signs deliveries with (none: the webhook URLs are not served), and the
    # public address of this app that Fanvue delivers to.
    fanvue_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    public_url: str | None = None
    webhook_quiet_seconds: float = 3.0  # an LLM draft waits for this long without a new message in the chat
    webhook_burst_seconds: float = float(
        BURST_SECONDS
    )  # what a fan writes this soon after a message: one burst
    poll_interval_with_webhooks: int = 600  # the cycle's interval while webhooks arrive
    drafter: str = "template"
    llm_base_url: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_model: str | None = None
    llm_timeout: float = _LLM.timeout
    llm_concurrency: int = _LLM.concurrency
    draft_context_messages: int = _LLM.context_messages
    draft_max_chars: int = _LLM.max_chars
    style_examples: int = 5
    persona_file: Path | None = None
    desk_file: Path | None = None
    database_path: Path = Path("data/bridge.db")
    poll_interval: int = 120
    fan_context_ttl_minutes: int = DEFAULT_TTL_MINUTES
    earnings_interval_minutes: int = 30
    card_priority: str = DEFAULT_PRIORITY
    sla_minutes: int = (
        DEFAULT_SLA_MINUTES  # a waiting card is overdue after this (the desk file's per creator)
    )
    quiet_hours: str | None = None  # nudges wait during these local hours (TZ), e.g. 23:00-07:00
    tz: str | None = None  # the time zone QUIET_HOURS is in; None: UTC
    port: int = 3000
    host: str = "0.0.0.0"
    log_level: str = "INFO"

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)


# Every default above, for the readers below: each is written once, in the dataclass.
DEFAULT = Settings(slack_bot_token="", slack_channel_id="")


def load(
    env_file: str | Path = ".env",
    environ: Mapping[str, str] | None = None,
    *,
    login: bool = False,
    login_stored: Callable[[Path], bool] | None = None,
) -> Settings:
    """The process environment wins over the .env file; a missing .env file is fine."""
    try:
        return from_mapping(_values(env_file, environ), login=login, login_stored=login_stored)
    except SettingsError as exc:
        if Path(env_file).is_file():
            raise
        # The usual first run: nothing configured yet, so say where settings are expected.
        raise SettingsError(
            exc.problems,
            f"No settings file was found at {Path(env_file).absolute()}; start from "
            ".env.example (or point --env-file at yours).",
        ) from None


def load_database_path(env_file: str | Path = ".env", environ: Mapping[str, str] | None = None) -> Path:
    """DATABASE_PATH alone, for commands that only read the database and need no Slack or Fanvue settings."""
    return database_path_from(_values(env_file, environ))


def database_path_from(env: Mapping[str, str]) -> Path:
    return Path((env.get("DATABASE_PATH") or "").strip() or DEFAULT.database_path)


def _values(env_file: str | Path, environ: Mapping[str, str] | None) -> dict[str, str]:
    values: dict[str, str] = {}
    path = Path(env_file)
    if path.is_file():
        values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return values


def from_mapping(
    env: Mapping[str, str], *, login: bool = False, login_stored: Callable[[Path], bool] | None = None
) -> Settings:
    """Build settings, naming every problem at once instead of failing on the first.

    `login=True` reads what `app.py login` needs (the Fanvue app's credentials, no Slack settings);
    `login_stored(database_path)` tells whether a Fanvue login is stored, which makes FANVUE_ACCESS_TOKEN
    optional and the app's credentials required (to renew that login).
    """
    problems: list[str] = []
    reader = Reader(env, problems)
    slack = {"slack_bot_token": "", "slack_channel_id": ""} if login else _slack(reader, env, problems)
    drafting = {} if login else groups.drafting(reader, DEFAULT)
    fanvue_login = groups.fanvue_login(reader, database_path_from(env), login, login_stored, DEFAULT)
    settings = Settings(
        **slack,
        **fanvue_login,
        **drafting,
        fanvue_api_base=reader.url("FANVUE_API_BASE", DEFAULT.fanvue_api_base),
        fanvue_api_version=reader.optional("FANVUE_API_VERSION") or DEFAULT.fanvue_api_version,
        fanvue_rate_limit=reader.number("FANVUE_RATE_LIMIT", DEFAULT.fanvue_rate_limit, low=1, high=100_000),
        fanvue_rate_window=reader.seconds(
            "FANVUE_RATE_WINDOW_SECONDS", DEFAULT.fanvue_rate_window, high=3600
        ),
        fanvue_timeout=reader.seconds("FANVUE_TIMEOUT_SECONDS", DEFAULT.fanvue_timeout, high=300),
        fanvue_webhook_secrets=groups.webhook_secrets(reader),
        public_url=groups.public_url(reader),
        webhook_quiet_seconds=reader.seconds(
            "WEBHOOK_QUIET_SECONDS", DEFAULT.webhook_quiet_seconds, high=MAX_BURST_SECONDS
        ),
        webhook_burst_seconds=reader.seconds(
            "WEBHOOK_BURST_SECONDS", DEFAULT.webhook_burst_seconds, high=MAX_BURST_SECONDS
        ),
        poll_interval_with_webhooks=reader.number(
            "POLL_INTERVAL_WITH_WEBHOOKS_SECONDS", DEFAULT.poll_interval_with_webhooks, low=10, high=86_400
        ),
        database_path=database_path_from(env),
        poll_interval=reader.number("POLL_INTERVAL_SECONDS", DEFAULT.poll_interval, low=10, high=86_400),
        fan_context_ttl_minutes=reader.number(
            "FAN_CONTEXT_TTL_MINUTES", DEFAULT.fan_context_ttl_minutes, low=1, high=10_080
        ),
        earnings_interval_minutes=reader.number(
            "EARNINGS_INTERVAL_MINUTES", DEFAULT.earnings_interval_minutes, low=1, high=1440
        ),
        card_priority=groups.card_priority(reader, DEFAULT),
        **sla_settings(reader, DEFAULT.sla_minutes),
        port=reader.number("PORT", DEFAULT.port, low=1, high=65_535),
        host=reader.host("HOST", DEFAULT.host),
        log_level=reader.choice("LOG_LEVEL", DEFAULT.log_level, ("DEBUG", "INFO", "WARNING", "ERROR")),
        desk_file=None if login else groups.desk_file(reader),
    )
    if problems:
        raise SettingsError(problems)
    return settings


def _slack(reader: Reader, env: Mapping[str, str], problems: list[str]) -> dict:
    bot_token = reader.required("SLACK_BOT_TOKEN", prefix="xoxb-")
    app_token = reader.optional("SLACK_APP_TOKEN", prefix="xapp-")
    signing_secret = reader.optional("SLACK_SIGNING_SECRET")
    if (
        not app_token
        and not signing_secret
        and not {"SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"} & reader.placeholders
    ):
        problems.append(
            f"SLACK_SIGNING_SECRET is missing (needed in HTTP mode): {WHERE['SLACK_SIGNING_SECRET']}"
        )
    if env.get("SLACK_CLIENT_ID") and env.get("SLACK_CLIENT_SECRET"):
        problems.append(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set: this single-workspace app does not use "
            "them, and Slack's library would switch to multi-workspace OAuth; unset both"
        )
    return dict(
        slack_bot_token=bot_token,
        slack_channel_id=reader.required("SLACK_CHANNEL_ID", prefix=("C", "G")),
        slack_signing_secret=signing_secret,
        slack_app_token=app_token,
        slack_api_url=reader.url("SLACK_API_URL", DEFAULT.slack_api_url, trailing_slash=True),
        slack_approvers=reader.user_ids("SLACK_APPROVERS"),
        slack_max_posts_per_cycle=reader.number(
            "SLACK_MAX_POSTS_PER_CYCLE", DEFAULT.slack_max_posts_per_cycle, low=1, high=1000
        ),
        take_minutes=reader.number("TAKE_MINUTES", DEFAULT.take_minutes, low=1, high=1440),
        ppv_max_price_cents=reader.number(
            "PPV_MAX_PRICE_CENTS", DEFAULT.ppv_max_price_cents, low=MIN_PRICE_CENTS, high=10_000_000
        ),
        media_preview=reader.choice(
            "MEDIA_PREVIEW", DEFAULT.media_preview.upper(), tuple(p.upper() for p in MEDIA_PREVIEWS)
        ).lower(),
    )
