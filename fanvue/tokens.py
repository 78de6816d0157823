"""Where the client gets its bearer token from, how it asks for a fresh one, and what a login grants."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenPair:
    """What Fanvue's token endpoint granted; the tokens are kept out of reprs so they never reach a log."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime
    scope: str = ""
    updated_at: str | None = None  # when it was stored; set by the store


@runtime_checkable
class TokenProvider(Protocol):
    """Returns the current access token; with `stale=<token that got 401>`, a fresh one if it can."""

    def __call__(self, stale: str | None = None) -> str: ...


class StaticToken:
    """A fixed token that cannot be refreshed: a 401 with it is final."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("token must not be empty")
        self._token = token

    def __call__(self, stale: str | None = None) -> str:
        return self._token

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"
