"""Polling pauses while the Fanvue login is dead, says so once, and resumes once someone logs in again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from fanvue.oauth import LoginRequired
from inbox.stored_login import RELOGIN
from store import tokens
from store.db import Store

logger = logging.getLogger(__name__)

PAUSED_NOTICE = (
    ":warning: The Fanvue login has expired or was revoked, so new fan messages are not being "
    "fetched. Run `python app.py login` on the server to log in again; polling resumes by itself. "
    "Sending from existing cards needs the login too."
)
RESUMED_NOTICE = ":white_check_mark: Logged in to Fanvue again; polling has resumed."


class LoginWatch:
    """Gate for the poll cycle when the app runs on a stored login (see RefreshingToken); with several
    logins, one per login (`account_id`), pausing only the creators it reaches."""

    def __init__(
        self,
        store: Store,
        notify: Callable[[str], object],
        *,
        account_id: int | None = None,
        label: Callable[[], str] | None = None,
    ) -> None:
        self._store = store
        self._notify = notify
        self._account_id = account_id
        self._label = label  # the account's name in its notices; None: "The Fanvue login" of the one creator
        self._lock = threading.Lock()
        self._paused = False
        self._noticed = False

    @property
    def paused(self) -> bool:
        return self._paused

    def holds_polling(self) -> bool:
        """Before a cycle: True to skip it. A paused watch resumes as soon as a login is stored again."""
        with self._lock:
            if not self._paused:
                return False
            if tokens.load(self._store.db, self._account_id) is None:
                self._tell_once()
                return True
            self._paused = False
        logger.info("A Fanvue login is stored again; polling resumes")
        self._post(self._named(RESUMED_NOTICE))
        return False

    def after_cycle(self, error: BaseException | None) -> None:
        """Pause when the cycle ran into a dead login, or the stored login is gone (another process saw it die)."""
        if not isinstance(error, LoginRequired) and tokens.load(self._store.db, self._account_id) is not None:
            return
        with self._lock:
            if self._paused:
                return
            self._paused = True
            self._noticed = False
            reason = (
                str(error)
                if isinstance(error, LoginRequired)
                else f"the stored Fanvue login is gone; {RELOGIN}"
            )
            logger.warning("Polling paused: %s. It resumes by itself once a new login is stored", reason)
            self._tell_once()

    def _tell_once(self) -> None:
        # A notice Slack did not take is tried again on the next (skipped) cycle, so it arrives exactly once.
        if not self._noticed:
            self._noticed = self._post(self._named(PAUSED_NOTICE))

    def _named(self, text: str) -> str:
        if self._label is None:
            return text
        label = self._label()
        return text.replace("The Fanvue login has", f"The Fanvue login of {label} has").replace(
            "Logged in to Fanvue again", f"Logged in to Fanvue again as {label}"
        )

    def _post(self, text: str) -> bool:
        try:
            self._notify(text)
        except Exception:
            logger.warning("Could not post the Fanvue login notice to Slack", exc_info=True)
            return False
        return True
