"""Fanvue OAuth 2.0: PKCE, the token endpoint, and a stored access token that renews itself."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import requests
import sqlite_utils

from fanvue.client import never_sent
from fanvue.errors import AuthError, FanvueError, FanvueUnavailable
from store import tokens
from store.clock import from_iso, utcnow
from store.db import connect, write
from store.tokens import TokenPair

logger = logging.getLogger(__name__)

DEFAULT_AUTH_BASE = "https://auth.fanvue.com"
DEFAULT_REDIRECT_URI = "http://localhost:8080/callback"
SCOPES = "openid offline_access offline read:self read:chat write:chat"
REFRESH_MARGIN = timedelta(seconds=60)
# A refresh holds the database's write lock (so other processes wait for the new pair); stay under its
# busy timeout so other writers queue rather than fail.
MAX_REFRESH_TIMEOUT = 8.0
RELOGIN = "run `python app.py login` to log in to Fanvue again"


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
    timeout: float = 10.0


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
        clock: Callable[[], datetime] = utcnow,
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


class RefreshingToken:
    """The stored login as a TokenProvider: renews it shortly before expiry and after a 401.

    Refresh tokens rotate and are single-use, so a refresh happens under a thread lock and inside a
    BEGIN IMMEDIATE transaction: a second thread or process waits, re-reads the pair and uses the new one
    instead of presenting the spent refresh token. The new pair is committed before it is handed out.
    A refresh that may have reached Fanvue without an answer is not repeated: the stored login is dropped
    and LoginRequired raised, because presenting a spent token again revokes the whole grant.
    """

    def __init__(
        self,
        database_path: str | Path,
        endpoint: TokenEndpoint,
        *,
        margin: timedelta = REFRESH_MARGIN,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._path = database_path
        self._endpoint = endpoint
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._db: sqlite_utils.Database | None = None

    def __repr__(self) -> str:
        return f"RefreshingToken({str(self._path)!r})"

    def __call__(self, stale: str | None = None) -> str:
        with self._lock:
            pair = tokens.load(self._conn())
            if pair is None:
                raise LoginRequired(f"No Fanvue login is stored; {RELOGIN}")
            if not self._due(pair, stale):
                return pair.access_token
            return self._refresh(stale).access_token

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _conn(self) -> sqlite_utils.Database:
        # Its own connection: a refresh must never run inside a transaction the calling thread has open.
        if self._db is None:
            self._db = connect(self._path)
        return self._db

    def _due(self, pair: TokenPair, stale: str | None) -> bool:
        if stale is not None and stale == pair.access_token:
            return True
        margin = self._margin
        if pair.updated_at:
            # A token that lives less than twice the margin is renewed at half its life, not on every call.
            margin = min(margin, (pair.expires_at - from_iso(pair.updated_at)) / 2)
        return self._clock() >= pair.expires_at - margin

    def _refresh(self, stale: str | None) -> TokenPair:
        db = self._conn()
        with write(db):
            pair = tokens.load(db)
            if pair is None:
                raise LoginRequired(f"No Fanvue login is stored; {RELOGIN}")
            if not self._due(pair, stale):
                return pair  # another thread or process renewed it while we waited for the lock
            dead = self._renew(db, pair)
            if isinstance(dead, TokenPair):
                logger.info("Renewed the Fanvue access token (valid until %s)", dead.expires_at.isoformat())
                return dead
        logger.warning("%s", dead)
        raise dead

    def _renew(self, db: sqlite_utils.Database, pair: TokenPair) -> TokenPair | LoginRequired:
        """The new pair, saved; or, when the grant is dead, the error to raise once the drop is committed."""
        if not pair.refresh_token:
            tokens.forget(db, pair)
            return LoginRequired(
                f"The Fanvue access token expired and the login has no refresh token "
                f"(was offline_access granted?); {RELOGIN}"
            )
        try:
            fresh = self._endpoint.refresh(pair.refresh_token)
        except InvalidGrant as exc:
            tokens.forget(db, pair)
            return _dead(
                f"Fanvue no longer accepts the stored login (invalid_grant: expired, revoked or "
                f"used twice); {RELOGIN}",
                exc,
            )
        except TokenOutcomeUnknown as exc:
            tokens.forget(db, pair)
            return _dead(
                f"Renewing the Fanvue login failed without an answer ({exc}); the refresh token may "
                f"already be spent and is not presented again; {RELOGIN}",
                exc,
            )
        return tokens.save(db, fresh)


def _dead(message: str, cause: FanvueError) -> LoginRequired:
    error = LoginRequired(message, status=cause.status, method="POST", path="/oauth2/token")
    error.__cause__ = cause
    return error
