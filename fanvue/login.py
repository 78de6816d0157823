"""Logging in to Fanvue in a browser: authorization code with PKCE and a one-shot local callback server."""

from __future__ import annotations

import html
import logging
import secrets
import sys
import threading
import webbrowser
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

from fanvue.errors import FanvueError
from fanvue.oauth import DEFAULT_REDIRECT_URI, TokenEndpoint, code_challenge, new_verifier
from fanvue.tokens import TokenPair

logger = logging.getLogger(__name__)

BROWSER_TIMEOUT = 300.0  # seconds a person gets to log in and allow access


class LoginFailed(Exception):
    """The login did not complete; the message says why and what to try."""


@dataclass
class _Outcome:
    code: str | None = None
    error: str | None = None


class CallbackServer:
    """Listens on the redirect URI's host and port for the one redirect that carries the code."""

    def __init__(self, redirect_uri: str, state: str, listen_host: str | None = None) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or not parts.hostname:
            raise LoginFailed(
                f"FANVUE_REDIRECT_URI must be a local http:// address such as "
                f"{DEFAULT_REDIRECT_URI}, got {redirect_uri!r}"
            )
        self.path = parts.path or "/"
        self.outcome = _Outcome()
        self.done = threading.Event()
        handler = type("CallbackHandler", (_CallbackHandler,), {"callback": self, "expected_state": state})
        try:
            # In a container the redirect names localhost but the port is published from outside it.
            self._server = HTTPServer((listen_host or parts.hostname, parts.port or 80), handler)
        except OSError as exc:
            raise LoginFailed(
                f"Cannot listen on {parts.hostname}:{parts.port or 80} for Fanvue's redirect "
                f"({exc.strerror or exc}); free that port or change FANVUE_REDIRECT_URI and the "
                "redirect URI registered for the Fanvue app"
            ) from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fanvue-login-callback",
            daemon=True,
        )

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait(self, timeout: float) -> str:
        """The authorization code; LoginFailed on a refusal, a wrong state or no answer in time."""
        if not self.done.wait(timeout):
            raise LoginFailed(
                f"No answer from the browser within {timeout:.0f} seconds; run `python app.py login` "
                "again and open the URL it prints"
            )
        if self.outcome.error:
            raise LoginFailed(self.outcome.error)
        return self.outcome.code or ""

    def settle(self, query: dict[str, list[str]], expected_state: str) -> tuple[int, str]:
        """Record what the redirect carried (first one wins); the status and text for the browser."""
        params = {key: values[-1] for key, values in query.items()}
        if self.done.is_set():
            return 409, "This login has already been answered; return to the terminal."
        if not secrets.compare_digest(params.get("state") or "", expected_state):
            # Not the browser we sent: maybe a forged redirect. Nothing is exchanged.
            self.outcome.error = (
                "The login was rejected: the redirect's state does not match the one this login "
                "sent (a stale tab or a forged redirect); nothing was exchanged. Run "
                "`python app.py login` again"
            )
        elif params.get("error"):
            detail = params.get("error_description") or ""
            self.outcome.error = (
                f"Fanvue did not grant access ({params['error']}{': ' + detail if detail else ''}); "
                "check the scopes enabled for the app and run `python app.py login` again"
            )
        elif not params.get("code"):
            self.outcome.error = (
                "Fanvue's redirect carried no authorization code; run `python app.py login` again"
            )
        else:
            self.outcome.code = params["code"]
        self.done.set()
        if self.outcome.error:
            return 400, f"Login failed: {self.outcome.error}."
        return 200, "Fanvue answered. Return to the terminal; you can close this tab."


class _CallbackHandler(BaseHTTPRequestHandler):
    callback: CallbackServer
    expected_state: str

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != self.callback.path:
            self._answer(404, "Not found.")
            return
        self._answer(*self.callback.settle(parse_qs(parts.query), self.expected_state))

    def log_message(self, format: str, *args: object) -> None:
        # The request line carries the code: log the path only.
        logger.debug("login callback: %s", urlsplit(self.path).path)

    def _answer(self, status: int, text: str) -> None:
        page = (
            f"<!doctype html><meta charset=utf-8><title>Fanvue login</title><p>{html.escape(text)}</p>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(page)


def authorize(
    endpoint: TokenEndpoint,
    *,
    timeout: float = BROWSER_TIMEOUT,
    open_browser: bool = False,
    out: TextIO = sys.stdout,
    listen_host: str | None = None,
) -> TokenPair:
    """The browser's part: print the URL, wait for the redirect, exchange the code; the caller stores the pair."""
    verifier, state = new_verifier(), secrets.token_urlsafe(24)
    url = endpoint.authorize_url(state, code_challenge(verifier))
    with CallbackServer(endpoint.config.redirect_uri, state, listen_host) as callback:
        print(
            f"Open this address in a browser and allow access to your Fanvue account:\n\n  {url}\n", file=out
        )
        print(
            f"Waiting up to {timeout:.0f} seconds for Fanvue to redirect to {endpoint.config.redirect_uri} ...",
            file=out,
            flush=True,
        )
        if open_browser:
            webbrowser.open(url)
        code = callback.wait(timeout)
    try:
        return endpoint.exchange_code(code, verifier)
    except FanvueError as exc:
        raise LoginFailed(f"Fanvue did not exchange the authorization code: {exc}") from exc
