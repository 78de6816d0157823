"""What the desk file says: each creator's entry and the desk, as the app uses them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_SLA_MINUTES = 7 * 24 * 60
# Every key a creator's entry may have, in the order README and desk.example.yml give them.
KEYS = (
    "channel",
    "persona",
    "approvers",
    "enabled",
    "webhook_secret",
    "webhook_secret_env",
    "sla_minutes",
    "ppv_max_price_cents",
)


class DeskError(Exception):
    """The desk file is missing or wrong; `problems` lists every one, each with its line."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"The app cannot start; fix the desk file {source} (README: Desk file):\n{lines}")


@dataclass(frozen=True)
class CreatorDesk:
    """Where one creator's cards go, who decides them, and the creator's own limits."""

    handle: str
    channel: str
    persona_file: Path | None
    approvers: frozenset[str]
    approver_group: str | None
    enabled: bool
    webhook_secret: str | None = field(repr=False)
    sla_minutes: int | None
    ppv_max_price_cents: int | None


@dataclass(frozen=True)
class Desk:
    """Every creator the desk file names, by lowercase handle; `lines` says where each one starts."""

    creators: dict[str, CreatorDesk]
    source: str = "desk file"
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def for_handle(self, handle: str, default: CreatorDesk) -> CreatorDesk:
        """The creator's entry, or `default` (SLACK_CHANNEL_ID, PERSONA_FILE, SLACK_APPROVERS) if none."""
        return self.creators.get(normalise_handle(handle), default)

    def where(self, handle: str) -> str:
        line = self.lines.get(handle)
        return f"{self.source} line {line}" if line else self.source


def default_creator(
    handle: str, channel: str, persona_file: Path | None = None, approvers: frozenset[str] = frozenset()
) -> CreatorDesk:
    """A creator the desk file does not list: SLACK_CHANNEL_ID, PERSONA_FILE and SLACK_APPROVERS."""
    return CreatorDesk(
        handle=normalise_handle(handle),
        channel=channel,
        persona_file=persona_file,
        approvers=approvers,
        approver_group=None,
        enabled=True,
        webhook_secret=None,
        sla_minutes=None,
        ppv_max_price_cents=None,
    )


def normalise_handle(handle: str) -> str:
    return handle.strip().removeprefix("@").lower()
