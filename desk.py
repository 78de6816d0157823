"""The desk file: which Slack channel, persona and approvers each Fanvue creator gets (minimal reader)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


class DeskError(Exception):
    """The desk file cannot be used; the message lists every problem with its line."""


@dataclass(frozen=True)
class CreatorDesk:
    handle: str  # the creator's Fanvue handle, lowercase
    channel: str  # Slack channel ID for its cards
    persona_file: Path | None  # None: the default persona (PERSONA_FILE)
    approvers: frozenset[str]  # Slack user IDs; empty: SLACK_APPROVERS applies
    approver_group: str | None  # a Slack user group ID (S...), or None
    enabled: bool
    webhook_secret: str | None
    sla_minutes: int | None
    ppv_max_price_cents: int | None


@dataclass(frozen=True)
class Desk:
    creators: dict[str, CreatorDesk]  # by lowercase handle

    def for_handle(self, handle: str, default: CreatorDesk) -> CreatorDesk:
        return self.creators.get(handle.lower(), default)


def load_desk(path: Path) -> Desk:
    """`creators: {handle: {channel, persona_file, approvers, approver_group, enabled, ...}}`."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DeskError(f"{path}: {exc}") from exc
    problems: list[str] = []
    creators: dict[str, CreatorDesk] = {}
    for handle, entry in (data.get("creators") or {}).items():
        entry = entry or {}
        if not isinstance(entry.get("channel"), str):
            problems.append(f"{path}: creator {handle}: channel is required")
            continue
        persona = entry.get("persona_file")
        creators[str(handle).lower()] = CreatorDesk(
            handle=str(handle).lower(),
            channel=entry["channel"],
            persona_file=Path(persona) if persona else None,
            approvers=frozenset(entry.get("approvers") or ()),
            approver_group=entry.get("approver_group"),
            enabled=bool(entry.get("enabled", True)),
            webhook_secret=entry.get("webhook_secret"),
            sla_minutes=entry.get("sla_minutes"),
            ppv_max_price_cents=entry.get("ppv_max_price_cents"),
        )
    if problems:
        raise DeskError("\n".join(problems))
    return Desk(creators)
