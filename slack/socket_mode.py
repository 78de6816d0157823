"""Socket Mode: Bolt's handler with a short keep-alive, and one line for a connection that cannot open."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

# The keep-alive: a connection dropped without a close frame is noticed within a few of these (slack_sdk's
# default, 10 s, took about a minute). slack_sdk needs it above 0.75 s.
PING_INTERVAL = 3.0


def handler(app: App, app_token: str, *, ping_interval: float = PING_INTERVAL) -> SocketModeHandler:
    """slack_sdk's built-in Socket Mode client for `app`, not yet connected (tests pass a shorter ping)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler  # only Socket Mode needs it loaded

    return SocketModeHandler(app, app_token, ping_interval=ping_interval)


def check_app_token(client: WebClient, app_token: str) -> str | None:
    """A problem with SLACK_APP_TOKEN, or with reaching Slack, worth stopping `run` for; None when Slack
    hands out a Socket Mode URL for it (the URL is used once or expires unused)."""
    try:
        client.apps_connections_open(app_token=app_token)
    except (SlackClientError, OSError) as exc:
        return problem(exc)
    return None


def problem(exc: Exception) -> str:
    """One line for a Socket Mode connection that could not be opened at start."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        return (
            f"Slack refused SLACK_APP_TOKEN ({error or exc.response.status_code}): copy the app-level token "
            "(xapp-..., scope connections:write) again from Basic Information, App-Level Tokens"
        )
    return (
        f"Could not reach Slack to open the Socket Mode connection ({type(exc).__name__}): check the "
        "network and SLACK_API_URL, then start again"
    )
