"""Fanvue OAuth 2.0: PKCE, the authorization address and the token endpoint (HTTP only, nothing stored)."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import requests

from fanvue.client import DEFAULT_TIMEOUT, never_sent
from fanvue.errors import AuthError, FanvueError, FanvueUnavailable
from fanvue.scopes import Mode, scope_string
from fanvue.tokens import TokenPair

logger = logging.getLogger(__name__)

DEFAULT_AUTH_BASE = "https://auth.fanvue.com"
DEFAULT_REDIRECT_URI = "http://localhost:8080/callback"
SCOPES = scope_string(Mode.CREATOR)
# A refresh holds the database's write lock (so other processes wait for the new pair); stay under its
# busy timeout so other writers queue rather than fail.
MAX_REFRESH_TIMEOUT = 8.0


class OAuthError(FanvueError):
    """Fanvue's authorization server refused a request; `error` is its OAuth error code."""

    error: str | None = None


class InvalidGrant(OAuthError):
    """The code or refresh token is expired, revoked or already used (`invalid_grant`)."""


class TokenOutcomeUnknown(FanvueUnavailable):
    """A token request may have reached Fanvue but no usable answer came back."""


class LoginRequired(AuthError):
    """There is no usable Fanvue login any more: the creator must log in again."""


@dataclass(frozen=True)
class OAuthConfig:
    """The Fanvue app's credentials and where its authorization server is."""

    client_id: str
    client_secret: str = field(repr=False)
    auth_base: str = DEFAULT_AUTH_BASE
    redirect_uri: str = DEFAULT_REDIRECT_URI
    scopes: str = SCOPES
    timeout: float = DEFAULT_TIMEOUT


def new_verifier() -> str:
    """A PKCE code verifier: 43 characters from the unreserved set (RFC 7636)."""
    return secrets.token_urlsafe(32)


def code_challenge(verifier: str) -> str:
    """The S256 challenge: base64url of the verifier's SHA-256, without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class TokenEndpoint:
    """Calls to `/oauth2/token`: exchanging a code and rotating the refresh token. Never retries."""

    def __init__(
        self,
        config: OAuthConfig,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._session = session if session is not None else requests.Session()
        self._clock = clock

    def __repr__(self) -> str:
        return f"TokenEndpoint({self.config.auth_base!r}, client_id={self.config.client_id!r})"

    def authorize_url(self, state: str, challenge: str) -> str:
        query = {
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "response_type": "code",
            "scope": self.config.scopes,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.config.auth_base.rstrip('/')}/oauth2/auth?{urlencode(query)}"

    def exchange_code(self, code: str, verifier: str) -> TokenPair:
        return self._post(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.config.redirect_uri,
                "code_verifier": verifier,
            },
            timeout=self.config.timeout,
        )

    def refresh(self, refresh_token: str) -> TokenPair:
        """One attempt; the refresh token is spent once Fanvue has seen it, whatever we hear back."""
        return self._post(
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            timeout=min(self.config.timeout, MAX_REFRESH_TIMEOUT),
        )

    def close(self) -> None:
        self._session.close()

    def _post(self, form: dict[str, str], *, timeout: float) -> TokenPair:
        url = f"{self.config.auth_base.rstrip('/')}/oauth2/token"
        grant = form["grant_type"]
        try:
            resp = self._session.post(
                url,
                data=form,
                timeout=timeout,
                headers={"Accept": "application/json"},
                auth=(self.config.client_id, self.config.client_secret),
            )
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            if never_sent(exc):
                raise FanvueUnavailable(
                    f"Could not reach Fanvue's token endpoint ({type(exc).__name__}); nothing was sent",
                    method="POST",
                    path="/oauth2/token",
                ) from exc
            raise TokenOutcomeUnknown(
                f"Fanvue's token endpoint did not answer the {grant} request ({type(exc).__name__})",
                method="POST",
                path="/oauth2/token",
            ) from exc
        if resp.status_code == 200:
            return self._pair(resp)
        if resp.status_code in (400, 401):
            raise _oauth_error(resp)
        if resp.status_code >= 500:
            raise TokenOutcomeUnknown(
                f"Fanvue's token endpoint answered {resp.status_code} to the {grant} request",
                status=resp.status_code,
                method="POST",
                path="/oauth2/token",
            )
        # 429 and the like: Fanvue did not process the request, so the token is still unused.
        raise FanvueError.from_response(resp)

    def _pair(self, resp: requests.Response) -> TokenPair:
        try:
            body = resp.json()
        except ValueError:
            body = None
        access = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(access, str) or not access:
            raise TokenOutcomeUnknown(
                "Fanvue's token endpoint answered 200 without an access token",
                status=200,
                method="POST",
                path="/oauth2/token",
            )
        refresh = body.get("refresh_token")
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 3600.0
        scope = body.get("scope") if isinstance(body.get("scope"), str) else self.config.scopes
        return TokenPair(
            access,
            refresh if isinstance(refresh, str) and refresh else None,
            self._clock() + timedelta(seconds=seconds),
            scope,
        )


def _oauth_error(resp: requests.Response) -> OAuthError:
    try:
        body = resp.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = body.get("error") if isinstance(body.get("error"), str) else None
    description = body.get("error_description") if isinstance(body.get("error_description"), str) else None
    message = f"Fanvue's token endpoint answered {resp.status_code}: {code or 'error'}"
    if description:
        message += f" ({description[:200]})"
    if code == "invalid_client":
        message += "; check FANVUE_CLIENT_ID and FANVUE_CLIENT_SECRET"
    error = (InvalidGrant if code == "invalid_grant" else OAuthError)(
        message, status=resp.status_code, body=body, method="POST", path="/oauth2/token"
    )
    error.error = code
    return error
