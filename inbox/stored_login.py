"""Fanvue logins as the database keeps them: stored after a browser login, each renewed before it expires."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

import sqlite_utils

from fanvue.errors import FanvueError
from fanvue.login import BROWSER_TIMEOUT, authorize
from fanvue.oauth import InvalidGrant, LoginRequired, TokenEndpoint, TokenOutcomeUnknown
from fanvue.tokens import TokenPair
from store import tokens
from store.clock import from_iso, utcnow
from store.db import Store, connect, write

logger = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(seconds=60)
RELOGIN = "run `python app.py login` to log in to Fanvue again"


def login(
    endpoint: TokenEndpoint,
    store: Store,
    *,
    timeout: float = BROWSER_TIMEOUT,
    open_browser: bool = False,
    out: TextIO = sys.stdout,
    listen_host: str | None = None,
    mode: str = "creator",
) -> tuple[int, TokenPair]:
    """Log in in a browser (see fanvue.login.authorize) and store the pair as a new account; its id and
    pair. Once the account is read from Fanvue, store.accounts.identify folds it into an earlier login of
    the same user."""
    pair = authorize(endpoint, timeout=timeout, open_browser=open_browser, out=out, listen_host=listen_host)
    with write(store.db):
        account_id = tokens.add(store.db, pair, mode=mode)
        pair = tokens.load(store.db, account_id) or pair
    if not pair.refresh_token:
        print(
            "Warning: Fanvue granted no refresh token (is offline_access enabled for the app?); this login "
            f"lasts until {pair.expires_at:%Y-%m-%d %H:%M} UTC.",
            file=out,
        )
    logger.info(
        "Stored a Fanvue login with scopes %s, valid until %s", pair.scope, pair.expires_at.isoformat()
    )
    return account_id, pair


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
        account_id: int | None = None,
    ) -> None:
        self._path = database_path
        self.account_id = account_id  # None: the first account (an app serving one creator)
        self._endpoint = endpoint
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._db: sqlite_utils.Database | None = None

    def __repr__(self) -> str:
        return f"RefreshingToken({str(self._path)!r}, account_id={self.account_id!r})"

    def __call__(self, stale: str | None = None) -> str:
        with self._lock:
            pair = tokens.load(self._conn(), self.account_id)
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
            pair = tokens.load(db, self.account_id)
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
            tokens.forget(db, pair, self.account_id)
            return LoginRequired(
                f"The Fanvue access token expired and the login has no refresh token "
                f"(was offline_access granted?); {RELOGIN}"
            )
        try:
            fresh = self._endpoint.refresh(pair.refresh_token)
        except InvalidGrant as exc:
            tokens.forget(db, pair, self.account_id)
            return _dead(
                f"Fanvue no longer accepts the stored login (invalid_grant: expired, revoked or "
                f"used twice); {RELOGIN}",
                exc,
            )
        except TokenOutcomeUnknown as exc:
            tokens.forget(db, pair, self.account_id)
            return _dead(
                f"Renewing the Fanvue login failed without an answer ({exc}); the refresh token may "
                f"already be spent and is not presented again; {RELOGIN}",
                exc,
            )
        return tokens.save(db, fresh, self.account_id)


def _dead(message: str, cause: FanvueError) -> LoginRequired:
    error = LoginRequired(message, status=cause.status, method="POST", path="/oauth2/token")
    error.__cause__ = cause
    return error
