"""The Bolt app for one workspace: the Web API client, request verification and our listeners."""

from __future__ import annotations

import logging
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from inbox.services import Services
from slack import home, listeners, shape
from slack.attach import register_attach
from slack.commands import register_commands
from slack.notes import register_notes
from slack.replay import ReplayGuard

# How long stopping waits for the clicks in progress to finish.
DRAIN_SECONDS = 30.0

# The signing secret of each app build_app made, for the HTTP front to check signatures before parsing.
_SECRETS: weakref.WeakKeyDictionary[App, str] = weakref.WeakKeyDictionary()


def secret_of(app: App) -> str | None:
    """The secret Slack signs this app's requests with; None when requests are not verified."""
    return _SECRETS.get(app)


def web_client(token: str, base_url: str, *, timeout: int = 15) -> WebClient:
    """A client that waits out Slack's 429s (Retry-After) and retries a dropped connection."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


class DrainingExecutor(ThreadPoolExecutor):
    """A pool that can wait until every click in progress has finished (for shutdown, and for tests)."""

    def __init__(self, max_workers: int):
        super().__init__(max_workers=max_workers, thread_name_prefix="slack")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._idle:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def drain(self, timeout: float = DRAIN_SECONDS) -> bool:
        """True when nothing is running or queued; False if `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)


def single_workspace(client: WebClient):
    """Bolt's authorize step for our one bot token, without a Slack call on the acknowledge path.

    Bolt's default asks Slack's auth.test on the first request, so a click would fail, or be acknowledged
    late, while Slack's API is slow or away; the token is checked once at start instead (`check_token`).
    """

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=client.token)

    return authorize


def check_token(client: WebClient) -> str | None:
    """A problem with the bot token worth stopping for, or None (also when Slack cannot be reached now)."""
    try:
        client.auth_test()
    except SlackApiError as exc:
        return f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error')}): copy the Bot User OAuth Token again"
    except (SlackClientError, OSError):
        return None
    return None


class _TokenIgnoredNotice(logging.Filter):
    """Bolt warns that the token is ignored whenever `authorize` is given; here the token is what authorize uses."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` (or SLACK_BOT_TOKEN env variable) will be ignored" not in record.getMessage()


class _OneLine(logging.Filter):
    """Bolt's notices about refused requests in one short line: they quote request bodies, which anyone
    can send, and add pages of suggested code; the HTTP front logs its own line for a bad signature."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "slack_bolt.RequestVerification":
            return False
        message = record.getMessage()
        if "\n" in message or len(message) > 300:
            record.msg, record.args = " ".join(message.split("\n", 1)[0].split())[:300], None
        return True


def _install_filter(name: str, kind: type[logging.Filter]) -> None:
    target = logging.getLogger(name)
    if not any(isinstance(f, kind) for f in target.filters):
        target.addFilter(kind())


def build_app(
    svc: Services, client: WebClient, *, signing_secret: str | None, executor: DrainingExecutor | None = None
) -> App:
    """Acknowledgements go out from the request thread; the work runs on a pool of its own."""
    executor = executor or DrainingExecutor(max_workers=16)
    _install_filter("slack_bolt.App", _TokenIgnoredNotice)
    _install_filter("slack_bolt.App", _OneLine)
    _install_filter("slack_bolt.RequestVerification", _OneLine)
    app = App(
        client=client,
        signing_secret=signing_secret or "",
        process_before_response=True,
        request_verification_enabled=bool(signing_secret),
        token_verification_enabled=False,
        authorize=single_workspace(client),
        listener_executor=executor,
    )
    if signing_secret:
        _SECRETS[app] = signing_secret
    # After Bolt's own checks (signature, authorize): only Slack's requests are judged and remembered.
    app.use(shape.middleware)
    guard = ReplayGuard(lambda: svc.store.db)
    app.use(guard)
    run_later = guard.run_later(executor.submit)
    listeners.register(app, svc, run_later, after=home.register(app, svc, run_later).after_decision)
    register_commands(app, svc, run_later)
    register_notes(app, svc, run_later)
    register_attach(app, svc, run_later)
    return app
