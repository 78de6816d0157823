"""One fan's draft posted as a card and waiting for a decision: where most click tests start."""

from __future__ import annotations

from typing import NamedTuple

from store.drafts import Draft
from tests.harness import Harness


class PendingCard(NamedTuple):
    harness: Harness
    fan: dict  # the sandbox's fan, as `world.fans()` lists it
    draft: Draft  # the draft as the card shows it (version 1)


def post_pending_card(harness: Harness) -> PendingCard:
    """Run a cycle and pick a fan who can be answered; their draft's card waits for a decision."""
    harness.cycle()
    fan = harness.unread_fan_with_text()
    return PendingCard(harness, fan, harness.draft_for(fan["uuid"]))
