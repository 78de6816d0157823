"""Collaborators built from the settings alone: the Fanvue client and login, the drafter, webhook secrets."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import requests
from apscheduler.schedulers.background import BackgroundScheduler

from desk import Desk, normalise_handle
from drafting.base import Drafter
from drafting.llm import LlmConfig, OpenAIChatDrafter
from drafting.persona import Persona
from drafting.template import TemplateDrafter
from fanvue import FanvueClient, StaticToken, TokenProvider
from fanvue.errors import FanvueError
from fanvue.oauth import OAuthConfig, TokenEndpoint
from fanvue.ratelimit import RateBudget
from inbox.desks import DeskBook
from inbox.earnings import scheduled_read
from inbox.fan_context import fan_card
from inbox.sla import SlaPolicy, parse_quiet_hours
from inbox.stored_login import RefreshingToken
from settings import Settings, SettingsError
from store import drafts, tokens
from store.db import Store
from store.fan_context import FanCard

if TYPE_CHECKING:
    from runtime import Runtime

logger = logging.getLogger(__name__)


def webhook_secrets(
    settings: Settings, book: DeskBook | None = None, desk: Desk | None = None
) -> Callable[[str], list[str]]:
    """The secrets a creator's webhook deliveries are signed with: the desk file's `webhook_secret` for that
    creator (found by its uuid among the creators served), else FANVUE_WEBHOOK_SECRET."""

    def secrets(recipient_uuid: str) -> list[str]:
        if book is not None and desk is not None:
            try:
                inbox = book.inbox_for(recipient_uuid)
            except FanvueError as exc:
                logger.warning("Could not tell which creator a webhook is for (%s)", type(exc).__name__)
                inbox = None
            entry = desk.creators.get(normalise_handle(inbox.handle)) if inbox is not None else None
            if entry is not None and entry.webhook_secret:
                return [entry.webhook_secret]
        return list(settings.fanvue_webhook_secrets)

    return secrets


def webhook_stored(event_id: int) -> None:
    # The stored event waits for the workflow to read its chat; until then the poll cycle finds the message.
    logger.debug("Webhook event %d stored", event_id)


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


def fan_card_of(store: Store, draft: drafts.Draft) -> FanCard:
    """What the draft's card shows about its fan, read from the database when the card is rendered."""
    return fan_card(store.db, draft)


def schedule_polling(runtime: Runtime) -> BackgroundScheduler:
    """A cycle at start and every POLL_INTERVAL_SECONDS (while webhooks arrive, PollPace.due lets only
    every POLL_INTERVAL_WITH_WEBHOOKS_SECONDS through); never two at once, missed runs folded into one."""
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
    # Fanvue's earnings, matched later to the messages the desk sent (the revenue credit in stats).
    scheduler.add_job(
        functools.partial(
            scheduled_read,
            runtime.services,
            paused=lambda: runtime.login is not None and runtime.login.holds_polling(),
        ),
        "interval",
        minutes=runtime.settings.earnings_interval_minutes,
        id="earnings",
        max_instances=1,
        coalesce=True,
    )
    return scheduler


def sla_policy_of(settings: Settings, book: DeskBook | None) -> SlaPolicy:
    """SLA_MINUTES, each creator's `sla_minutes` from the desk file, and QUIET_HOURS in TZ."""
    quiet = parse_quiet_hours(settings.quiet_hours, settings.tz) if settings.quiet_hours else None
    per_creator = (lambda handle: book.desk_of(handle).sla_minutes) if book is not None else (lambda _h: None)
    return SlaPolicy(minutes=settings.sla_minutes, per_creator=per_creator, quiet=quiet)
