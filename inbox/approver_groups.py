"""Slack user groups as approvers: members read with usergroups.users.list, kept a few minutes, and the last
known members kept when Slack cannot be asked."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

logger = logging.getLogger(__name__)

# A member added to or removed from the group counts within this long; a click costs no Slack call meanwhile.
GROUP_TTL_SECONDS = 300.0
# After a failed read, the last known members serve this long before Slack is asked again.
GROUP_RETRY_SECONDS = 30.0


class GroupUnknown(Exception):
    """The group's members cannot be read and none are known: nobody may decide through it for now."""


@dataclass
class _Known:
    members: frozenset[str] | None
    asked_at: float
    fresh_until: float


class ApproverGroups:
    """Each group's members, read when first needed and again once GROUP_TTL_SECONDS have passed."""

    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = GROUP_TTL_SECONDS,
        retry: float = GROUP_RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl, self._retry, self._clock = ttl, retry, clock
        self._known: dict[str, _Known] = {}
        self._lock = threading.Lock()

    def members(self, group: str) -> frozenset[str]:
        """The user IDs in `group`. Raises GroupUnknown when Slack fails and no members were read before."""
        now = self._clock()
        with self._lock:
            known = self._known.get(group)
            if known is not None and now < known.fresh_until and known.members is not None:
                return known.members
        try:
            answer = self._client.usergroups_users_list(usergroup=group)
            members = frozenset(str(u) for u in answer.get("users") or [])
        except (SlackApiError, SlackClientError, OSError) as exc:
            return self._failed(group, now, _reason(exc))
        with self._lock:
            self._known[group] = _Known(members, now, now + self._ttl)
        return members

    def _failed(self, group: str, now: float, reason: str) -> frozenset[str]:
        with self._lock:
            known = self._known.get(group)
            last = known.members if known is not None else None
            self._known[group] = _Known(last, now, now + self._retry)
        if last is not None:
            logger.warning(
                "Could not read the members of Slack user group %s (%s); using the last known", group, reason
            )
            return last
        raise GroupUnknown(
            f"The approvers of this creator are the Slack user group {group}, and Slack did not say who is in "
            f"it ({reason}); nothing was done. Try again in a minute; if it keeps failing, the app needs the "
            "usergroups:read scope (README: Troubleshooting)."
        )


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or "an error")
        if error == "missing_scope":
            return "the Slack app lacks the usergroups:read scope"
        if error == "no_such_subteam":
            return "no such user group"
        return f"Slack answered {error}"
    return "Slack could not be reached"
