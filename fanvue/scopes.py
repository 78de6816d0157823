"""The OAuth scopes each way of running needs, and what to do when a login lacks some."""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """Whose inbox the login reads: one creator's own, or the creators an agency member manages."""

    CREATOR = "creator"
    AGENCY = "agency"


CHAT_SCOPES: tuple[str, ...] = (
    "openid",
    "offline_access",
    "offline",
    "read:self",
    "read:chat",
    "write:chat",
)
# A creator's own login also reads who each fan is for the cards (/insights/fans needs both), its
# earnings (read:insights) and its vault and media to sell from a card (read:media).
CREATOR_SCOPES: tuple[str, ...] = (*CHAT_SCOPES, "read:insights", "read:fan", "read:media")
# read:creator opens the /creators/{creator}/... routes, read:agency the agency-wide chat list; a managed
# creator's earnings and media need read:insights and read:media (Fanvue has no fan insights for agencies).
AGENCY_SCOPES: tuple[str, ...] = (*CHAT_SCOPES, "read:creator", "read:agency", "read:insights", "read:media")
SCOPES_BY_MODE: dict[Mode, tuple[str, ...]] = {Mode.CREATOR: CREATOR_SCOPES, Mode.AGENCY: AGENCY_SCOPES}


def scope_string(mode: Mode | str) -> str:
    """The space-separated scopes to ask for when logging in for `mode`."""
    return " ".join(SCOPES_BY_MODE[Mode(mode)])


def missing_scopes(granted: str | None, mode: Mode | str) -> list[str]:
    """The scopes `mode` needs that the token response's `scope` lacks, in asking order.

    A response without `scope` granted what was asked for (RFC 6749 5.1), so nothing is missing.
    """
    if granted is None:
        return []
    have = set(granted.split())
    return [scope for scope in SCOPES_BY_MODE[Mode(mode)] if scope not in have]


def scope_problem(granted: str | None, mode: Mode | str) -> str | None:
    """One sentence saying which scopes are missing and how to get them, or None when none are."""
    missing = missing_scopes(granted, mode)
    if not missing:
        return None
    names = ", ".join(missing)
    return (
        f"The Fanvue login lacks {names}, which {Mode(mode).value} mode needs: enable "
        f"{'it' if len(missing) == 1 else 'them'} for the app in Fanvue's developer area, then log in again."
    )
