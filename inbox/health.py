"""Whether polling is healthy (recent cycles, the Fanvue login), and the one line a failed cycle needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fanvue import AuthError, StaticToken, TokenProvider
from fanvue.oauth import LoginRequired
from store.db import StoreError

# /healthz fails once this many cycles in a row have failed: one failure is often a passing hiccup.
FAILED_CYCLES_UNHEALTHY = 3

STATIC_TOKEN_REFUSED = (
    "Fanvue refused FANVUE_ACCESS_TOKEN (401): it has expired or was revoked. Set a new token and restart, "
    "or run `python app.py login` to store a login that renews itself (README: Fanvue login)."
)
LOGIN_PAUSED = "the Fanvue login has expired or was revoked; run `python app.py login`"
LOGINS_PAUSED = "has expired or was revoked; run `python app.py login` for each"


def cycle_problem(error: BaseException, token: TokenProvider) -> str | None:
    """The one line that says why a cycle failed when only the operator can fix it (no traceback helps
    then); None for any other failure."""
    if isinstance(error, StoreError):
        return str(error)
    if isinstance(error, LoginRequired):
        return str(error)
    if isinstance(error, AuthError) and isinstance(token, StaticToken):
        return STATIC_TOKEN_REFUSED
    return None


class CycleHealth:
    """The last cycle's report and how many cycles in a row failed, for /healthz."""

    def __init__(self) -> None:
        self.last: dict = {}
        self.failed_in_a_row = 0

    def record(self, started: datetime, *, error: str | None = None, **details: object) -> None:
        """One cycle's end: `error` names what failed, None when it succeeded."""
        self.failed_in_a_row = 0 if error is None else self.failed_in_a_row + 1
        self.last = {"at": started.isoformat(), "ok": error is None, **details}
        if error is not None:
            self.last["error"] = error

    def report(
        self, *, login_paused: bool = False, paused_accounts: Sequence[str] = (), logins: int = 0
    ) -> dict:
        """`ok` and, when not ok, the `reason`; the last cycle and the failures in a row either way.

        Serving several creators: `logins` is how many the app polls with, `paused_accounts` those paused
        (listed, and unhealthy only when no login serves any more)."""
        reason = None
        if login_paused:
            reason = f"polling is paused: {LOGIN_PAUSED}"
        elif logins and len(paused_accounts) >= logins:
            reason = f"polling is paused: every Fanvue login ({', '.join(paused_accounts)}) {LOGINS_PAUSED}"
        elif self.failed_in_a_row >= FAILED_CYCLES_UNHEALTHY:
            what = self.last.get("problem") or self.last.get("error")
            reason = f"the last {self.failed_in_a_row} poll cycles failed ({what})"
        report: dict = {"ok": reason is None}
        if reason:
            report["reason"] = reason
        if paused_accounts:
            report["paused_accounts"] = list(paused_accounts)
        return {**report, "last_cycle": self.last or None, "failed_cycles": self.failed_in_a_row}
